#!/usr/bin/env bash
# bench/services_list.sh [N]: how fast services.list answers, beside the
# engine's own list call and docker compose ps, for a compose app of 20
# services (FROM scratch with busybox, network_mode none), in the same run:
#
#   - services.list: N calls (default 1,000) on one connection to davit-backend
#   - GET /containers/json?all=1&filters={"label":["com.docker.compose.project=P"]}:
#     N calls on one keep-alive connection to the engine's socket (the same
#     Python client), and N calls with curl --unix-socket (one curl process,
#     its own time_total per call)
#   - docker compose ps (or docker-compose ps): N/50 runs, as a person would
#   - services.list again, N calls while a service's image builds (a RUN sleep)
#
# Prints median and p99 of each, and the ratios. Uses $DAVIT_BUILD's binaries
# (default: build/, an optimised build without sanitizers; not build-asan),
# starts dockerd if none runs, and removes everything it made.
set -euo pipefail

N=${1:-1000}
case $N in '' | *[!0-9]*) echo "usage: bench/services_list.sh [N]" >&2; exit 2 ;; esac
[ "$N" -ge 100 ] || { echo "services_list.sh: N must be at least 100" >&2; exit 2; }

SRC=$(cd "$(dirname "$0")/.." && pwd)
export DAVIT_BUILD=${DAVIT_BUILD:-$SRC/build}
# shellcheck source=../tests/integration/lib.sh
. "$SRC/tests/integration/lib.sh"

NSERVICES=20
NPS=$((N / 50))
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
command -v jq >/dev/null || fail "jq is needed"
ensure_docker
COMPOSE=$(compose_cmd) || fail "no compose command"

P=$(unique_project bench)
APP=$T/app
mkdir -p "$APP"
cp "$DEMO_BUSYBOX" "$APP/busybox"
cat >"$APP/Dockerfile" <<EOF
FROM scratch
LABEL davit.bench="$P"
COPY busybox /bin/busybox
CMD ["/bin/busybox", "sh", "-c", "trap 'exit 0' TERM INT; while :; do /bin/busybox sleep 1 & wait \$!; done"]
EOF
cp "$APP/Dockerfile" "$APP/s01.Dockerfile"
{
	echo 'version: "2.4"'
	echo 'services:'
	for i in $(seq -w 1 $NSERVICES); do
		df=Dockerfile
		[ "$i" != 01 ] || df=s01.Dockerfile
		cat <<EOF
  s$i:
    build:
      context: .
      dockerfile: $df
    image: $P-s$i
    network_mode: none
    stop_grace_period: 2s
EOF
	done
} >"$APP/docker-compose.yml"

cleanup_bench() {
	local ids
	(cd "$APP" && $COMPOSE -p "$P" down --rmi all -t 2) >/dev/null 2>&1 || true
	ids=$(docker ps -aq --filter "label=com.docker.compose.project=$P") || true
	# shellcheck disable=SC2086
	[ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
	for id in $(docker images -a --filter "label=davit.bench=$P" --format '{{.CreatedAt}} {{.ID}}' | sort -r | awk '{ print $NF }'); do
		docker rmi -f "$id" >/dev/null 2>&1 || true
	done
}
on_exit cleanup_bench

services=$(seq -f 's%02g' -s, 1 $NSERVICES)
write_davit_env "$T/davit.env" "DAVIT_WORKDIR=$APP" "DAVIT_SERVICES=$services" \
	"DAVIT_COMPOSE_PROJECT=$P" "DAVIT_STOP_TIMEOUT=2"
davit_start_backend "$T/davit.env" --no-frontend

req() {
	local args=${2:-}
	[ -n "$args" ] || args='{}'
	proto "{\"id\":1,\"op\":\"$1\",\"args\":$args}"
}
# (the state comes before the log: read it with grep, so that a long reply
# that socat cuts short still tells it)
job_state() {
	req job.get "{\"job\":$1}" | grep -o '"state":"[a-z]*"' | awk -F'"' 'NR == 1 { print $4 }'
}
job_wait() {
	local st deadline=$((SECONDS + 600))
	while :; do
		st=$(job_state "$1")
		case $st in succeeded | failed) echo "$st"; return 0 ;; esac
		[ "$SECONDS" -lt "$deadline" ] || fail "job $1 still $st"
		sleep 0.5
	done
}
all_running() {
	[ "$(req services.list | jq '[.result.services[] | select(.state == "running")] | length')" = "$NSERVICES" ]
}

info "building and starting $NSERVICES services (project $P) with $COMPOSE"
id=$(req stack.rebuild | jq -r .result.job)
[ "$(job_wait "$id")" = succeeded ] || fail "stack.rebuild failed: $(req job.get "{\"job\":$id}" | head -c 4000)"
wait_for -t 60 all_running || fail "not all services run: $(req services.list)"

api=$(req services.list | jq -r .result.engine.api_version)
filters=$("$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' \
	"{\"label\":[\"com.docker.compose.project=$P\"]}")
path="/v$api/containers/json?all=1&filters=$filters"
[ "$(curl -s --unix-socket /var/run/docker.sock "http://localhost$path" | jq length)" = "$NSERVICES" ] ||
	fail "the engine's list does not hold $NSERVICES containers"

results=$T/results
: >"$results"
info "services.list x $N"
"$PY" "$SRC/bench/services_list.py" davit "$SOCK" "$N" "$NSERVICES" davit >>"$results"
info "GET /containers/json x $N (keep-alive)"
"$PY" "$SRC/bench/services_list.py" engine /var/run/docker.sock "$N" "$path" engine >>"$results"

info "GET /containers/json x $N (curl --unix-socket, one process)"
cfg=$T/curl.cfg
: >"$cfg"
for _ in $(seq 1 "$N"); do
	printf 'url = "http://localhost%s"\noutput = "/dev/null"\n' "$path" >>"$cfg"
done
curl -s --unix-socket /var/run/docker.sock -K "$cfg" -w '%{http_code} %{time_total}\n' >"$T/curl.times"
[ "$(grep -vc '^200 ' "$T/curl.times" || true)" = 0 ] || fail "curl: a call failed"
awk '{ print $2 * 1000 }' "$T/curl.times" | sort -n | awk -v label=curl '
	{ v[NR] = $1 }
	END {
		med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		i = int(0.99 * NR); if (i < 0.99 * NR) i++
		printf "%s n=%d median_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", label, NR, med, v[i], v[NR]
	}' >>"$results"

info "$COMPOSE ps x $NPS"
: >"$T/ps.times"
for _ in $(seq 1 "$NPS"); do
	t0=$(date +%s%N)
	(cd "$APP" && $COMPOSE -p "$P" ps >/dev/null 2>&1) || fail "compose ps failed"
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000)) >>"$T/ps.times"
done
sort -n "$T/ps.times" | awk -v label=compose_ps '
	{ v[NR] = $1 / 1000 }
	END {
		med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		i = int(0.99 * NR); if (i < 0.99 * NR) i++
		printf "%s n=%d median_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", label, NR, med, v[i], v[NR]
	}' >>"$results"

info "services.list x $N while s01's image builds"
printf 'LABEL davit.bench.run="%s"\nRUN ["/bin/busybox", "sleep", "30"]\n' "$(date +%s%N)" >>"$APP/s01.Dockerfile"
id=$(req service.rebuild '{"service":"s01"}' | jq -r .result.job)
wait_for -t 30 bash -c "printf '%s\n' '{\"id\":1,\"op\":\"job.get\",\"args\":{\"job\":$id}}' | socat -t 5 - UNIX-CONNECT:$SOCK | grep -q davit.bench.run" ||
	fail "the build did not reach its slow step"
[ "$(job_state "$id")" = running ] || fail "the build is not running"
"$PY" "$SRC/bench/services_list.py" davit "$SOCK" "$N" "$NSERVICES" davit_during_build >>"$results"
[ "$(job_state "$id")" = running ] || fail "the build ended before the measurement did"
[ "$(job_wait "$id")" = succeeded ] || fail "the slow rebuild failed"

# ------------------------------------------------------------------ report --
field() { # field LABEL KEY
	awk -v l="$1" -v k="$2" '$1 == l { for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == k) print a[2] } }' "$results"
}
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", a / b }'
}
printf '\nservices.list, %d services, %s, engine %s, %s, %d cores\n' "$NSERVICES" \
	"$(uname -r)" "$(docker version --format '{{.Server.Version}}')" "$COMPOSE" "$(nproc)"
printf '%-52s %10s %10s %8s\n' "" "median ms" "p99 ms" "calls"
row() { printf '%-52s %10s %10s %8s\n' "$1" "$(field "$2" median_ms)" "$(field "$2" p99_ms)" "$(field "$2" n)"; }
row "services.list (davit, from memory)" davit
row "GET /containers/json (engine, keep-alive)" engine
row "GET /containers/json (curl --unix-socket time_total)" curl
row "$COMPOSE ps" compose_ps
row "services.list while a build runs" davit_during_build
printf '\nengine list / services.list: %sx at the median, %sx at p99\n' \
	"$(ratio "$(field engine median_ms)" "$(field davit median_ms)")" \
	"$(ratio "$(field engine p99_ms)" "$(field davit p99_ms)")"
printf '%s / services.list: %sx at the median\n' "$COMPOSE ps" \
	"$(ratio "$(field compose_ps median_ms)" "$(field davit median_ms)")"
davit_stop_backend
