#!/usr/bin/env bash
# Automatic rollback through davit against a real Docker engine and the demo
# compose app: ROUNDS times, a commit whose web service exits at once is
# deployed, its verify fails, and davit puts the previous release back; the
# figure is the time from the job log's "verify failed ... rolling back" to
# the app serving the previous version again (polled every 50 ms), median
# and range (goal: under 5 s). Between rounds a good commit is deployed, so
# each round rolls back to a fresh release. The worker service never
# changes: its container id and start time are compared before and after
# every deploy (its downtime: zero). Prints the figures; asserts nothing.
#
# Usage: bench/rollback.sh [ROUNDS]    (default 10)
# Env:   DAVIT_BUILD  a build dir, preferably without sanitizers (default: build)
#        VERIFY       DAVIT_DEPLOY_VERIFY for the run (default 10 seconds)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DAVIT_BUILD=${DAVIT_BUILD:-$ROOT/build}
export DAVIT_BUILD
ROUNDS=${1:-10}
VERIFY=${VERIFY:-10}
# lib.sh gives the temp dir, its cleanup, the demo app and the backend's start
. "$ROOT/tests/integration/lib.sh"

now_ms() { date +%s%3N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

info "davit: $DAVIT_BUILD/backend/davit-backend"
if nm -D "$DAVIT_BUILD/backend/davit-backend" 2>/dev/null | grep -q __asan_init; then
	info "warning: this build has AddressSanitizer: figures will be slow"
fi
ensure_docker
APPPORT=$(unused_port)
PROJECT=$(unique_project dvb)
PORT=$APPPORT demo_app "$T/app" "$PROJECT"
ORIGIN=$T/app.origin.git
( cd "$T/app" && compose -p "$PROJECT" up -d --build ) >"$T/compose-up.log" 2>&1
wait_for curl -fsS "http://127.0.0.1:$APPPORT/" || fail "demo app does not serve"
ENV=$T/davit.env
write_davit_env "$ENV" \
	"DAVIT_SOCKET=$T/run/backend.sock" \
	"DAVIT_WORKDIR=$T/app" \
	"DAVIT_SERVICES=web,worker" \
	"DAVIT_COMPOSE_PROJECT=$PROJECT" \
	"DAVIT_REPO_URL=file://$ORIGIN" \
	"DAVIT_DEPLOY_VERIFY=$VERIFY"
davit_start_backend "$ENV" --no-frontend

good_web=$(git -C "$ORIGIN" show main:web/Dockerfile)
bad_web=$(printf 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY VERSION /www/index.html\nCMD ["/bin/busybox", "false"]')
serving() { curl -fsS --max-time 1 "http://127.0.0.1:$APPPORT/" 2>/dev/null || true; }
cid() { docker ps -aq --no-trunc --filter "label=com.docker.compose.project=$PROJECT" --filter "label=com.docker.compose.service=$1" | head -n 1; }
worker_print() { local c; c=$(cid worker); printf '%s %s' "$c" "$(docker inspect -f '{{.State.StartedAt}}' "$c")"; }
deploy_wait() { # deploy_wait: deploys origin's commit, prints the job's state
	local j st; j=$(submit deploy); st=$(job_state "$j" 600)
	[ "$st" = succeeded ] || req job.get "{\"job\":$j}" | jq -r '.result.log[]' | tail -n 30 >&2
	echo "$st"
}

# the first release
push_commit "$ORIGIN" "release 0" VERSION "release 0" >/dev/null
[ "$(deploy_wait)" = succeeded ] || fail "the first deploy failed"
worker0=$(worker_print)
times=()
changed=0
for ((i = 1; i <= ROUNDS; i++)); do
	want=$(serving)
	push_commit "$ORIGIN" "bad $i" web/Dockerfile "$bad_web" >/dev/null
	job=$(submit deploy)
	until req job.get "{\"job\":$job}" | grep -q 'rolling back'; do
		sleep 0.05
	done
	t0=$(now_ms)
	until [ "$(serving)" = "$want" ]; do
		sleep 0.05
	done
	t1=$(now_ms)
	st=$(job_state "$job" 600)
	times+=($((t1 - t0)))
	info "round $i: serving \"$want\" again $((t1 - t0)) ms after the failed verify (deploy $st)"
	[ "$(worker_print)" = "$worker0" ] || changed=$((changed + 1))
	push_commit "$ORIGIN" "web back $i" web/Dockerfile "$good_web" >/dev/null
	push_commit "$ORIGIN" "release $i" VERSION "release $i" >/dev/null
	[ "$(deploy_wait)" = succeeded ] || fail "round $i: the good deploy failed"
	[ "$(worker_print)" = "$worker0" ] || changed=$((changed + 1))
done

med=$(printf '%s\n' "${times[@]}" | median)
min=$(printf '%s\n' "${times[@]}" | sort -n | head -n 1)
max=$(printf '%s\n' "${times[@]}" | sort -n | tail -n 1)
printf '\nrollback: failed verify -> previous version serving again: median %d ms (min %d, max %d) over %d rounds (goal < 5000 ms)\n' \
	"$med" "$min" "$max" "$ROUNDS"
printf 'unchanged service (worker): container id and start time changed in %d of %d deploys and rollbacks: downtime %s\n' \
	"$changed" "$((2 * ROUNDS + 0))" "$([ "$changed" -eq 0 ] && echo zero || echo NOT zero)"
