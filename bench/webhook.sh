#!/usr/bin/env bash
# bench/webhook.sh [N]: the time from a GitHub push delivery's arrival at
# POST /hooks/github to the deploy job starting, and to the first compose
# command, over N deliveries (default 50), each a new commit on the origin
# and each deployed on its own (the next is sent once the deploy has ended).
#
# The app is the demo app (web, worker), brought up once with the real
# compose; davit then runs with DAVIT_COMPOSE_COMMAND set to a fake compose,
# a static binary that appends CLOCK_REALTIME (ns) and its argv to a file and
# exits 0 at once, so the figures are davit's own latency, not Docker's: the
# deploy still fetches and fast-forwards the real checkout (file:// origin),
# runs the rebuild (config --services, build, stop, rm, up -d: faked), and
# verifies against the real running containers. Measured from just before
# the client opens the connection (python, same machine, same clock): the
# 202 reply, the job's started_at,
# the job.state "running" event on a subscribed connection, the fake
# compose's first exec. Prints n, median, p90 and max of each; raw samples in
# $T/samples.txt (KEEP=1 keeps $T).
#
# Uses $DAVIT_BUILD's binaries (default: build/, an optimised build without
# sanitizers; not build-asan), starts dockerd if none runs, and removes
# everything it made. Env: BENCH_WARMUP (2 deliveries, not counted),
# BENCH_GAP (0.2 s between the end of a deploy and the next delivery).
set -euo pipefail

N=${1:-50}
case $N in '' | *[!0-9]*) echo "usage: bench/webhook.sh [N]" >&2; exit 2 ;; esac
[ "$N" -ge 1 ] || { echo "webhook.sh: N must be at least 1" >&2; exit 2; }
WARMUP=${BENCH_WARMUP:-2}
GAP=${BENCH_GAP:-0.2}

SRC=$(cd "$(dirname "$0")/.." && pwd)
export DAVIT_BUILD=${DAVIT_BUILD:-$SRC/build}
# shellcheck source=../tests/integration/lib.sh
. "$SRC/tests/integration/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
for b in backend/davit-backend frontend/davit-frontend gitchild/davit-git; do
	[ -x "$DAVIT_BUILD/$b" ] || fail "no $DAVIT_BUILD/$b: meson setup build && ninja -C build"
done
command -v cc >/dev/null || fail "cc is needed (the fake compose is compiled here)"
ensure_docker
COMPOSE=$(compose_cmd) || fail "no compose command"

# --- the app, up once with the real compose --------------------------------
PROJECT=$(unique_project dvwh)
PORT=$(unused_port) demo_app "$T/app" "$PROJECT"
ORIGIN=$T/app.origin.git
info "starting the demo app (project $PROJECT) with $COMPOSE"
(cd "$T/app" && compose -p "$PROJECT" up -d --build) >"$T/compose-up.log" 2>&1 ||
	fail "compose up: $(tail -n 5 "$T/compose-up.log")"
wait_for -t 60 curl -fsS "http://127.0.0.1:$PORT/" || fail "the demo app does not serve"

# --- the fake compose ----------------------------------------------------------
CLOG=$T/compose-runs.txt
cat >"$T/fake-compose.c" <<'EOF'
/* records when it was exec'd (CLOCK_REALTIME, ns) and its argv; exits 0 */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct timespec	ts;
	char		buf[4096];
	size_t		o;
	int		fd, i, n;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(buf, sizeof(buf), "%lld%09ld", (long long)ts.tv_sec,
	    ts.tv_nsec);
	o = (size_t)n;
	for (i = 1; i < argc && o < sizeof(buf) - 1; i++) {
		n = snprintf(buf + o, sizeof(buf) - 1 - o, " %s", argv[i]);
		if (n < 0 || (size_t)n >= sizeof(buf) - 1 - o)
			return 1;
		o += (size_t)n;
	}
	buf[o++] = '\n';
	if ((fd = open(OUT, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) == -1)
		return 1;
	if (write(fd, buf, o) != (ssize_t)o)
		return 1;
	return close(fd) == 0 ? 0 : 1;
}
EOF
# (davit runs only a compose command in directories only root can write)
trusted_bin_dir
cc -O2 -Wall -Wextra -Werror -static -DOUT="\"$CLOG\"" -o "$TBIN/fake-compose" "$T/fake-compose.c" 2>"$T/cc.log" ||
	cc -O2 -Wall -Wextra -Werror -DOUT="\"$CLOG\"" -o "$TBIN/fake-compose" "$T/fake-compose.c" 2>>"$T/cc.log" ||
	fail "cannot build the fake compose: $(cat "$T/cc.log")"

# --- davit ---------------------------------------------------------------------
SECRET=bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
LISTEN=127.0.0.1:$(unused_port)
mkdir -p "$T/run"
write_davit_env "$T/davit.env" \
	"DAVIT_SOCKET=$T/run/backend.sock" \
	"DAVIT_LISTEN=$LISTEN" \
	"DAVIT_WORKDIR=$T/app" \
	"DAVIT_SERVICES=web,worker" \
	"DAVIT_COMPOSE_PROJECT=$PROJECT" \
	"DAVIT_COMPOSE_COMMAND=$TBIN/fake-compose" \
	"DAVIT_REPO_URL=file://$ORIGIN" \
	"DAVIT_GITHUB_REPO=acme/demo" \
	"DAVIT_WEBHOOK_SECRET=$SECRET" \
	"DAVIT_DEPLOY_VERIFY=30"
davit_start_backend "$T/davit.env"
URL=http://$LISTEN
up() { curl -fsS --max-time 5 "$URL/healthz" | grep -q '"up"'; }
wait_for -t 30 up || fail "davit does not answer on $URL"

# a clone to push from
git clone -q "$ORIGIN" "$T/pusher"

info "$N deliveries (+$WARMUP warm-up), ${GAP}s apart after each deploy's end"
WEBHOOK_SECRET=$SECRET "$PY" "$SRC/bench/webhook.py" "$URL" "$SOCK" "$T/pusher" \
	"$SRC/tests/fixtures/github/push-1.payload.json" "$CLOG" acme/demo \
	"$N" "$WARMUP" "$GAP" "$T/samples.txt" >"$T/results" ||
	fail "the measurement failed"

# --- report ----------------------------------------------------------------------
field() { # field LABEL KEY
	awk -v l="$1" -v k="$2" '$1 == l { for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == k) print a[2] } }' "$T/results"
}
printf '\nwebhook to deploy, %s deliveries, %s, %d cores (%s), engine %s\n' "$(field reply n)" \
	"$(uname -r)" "$(nproc)" "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
	"$(docker version --format '{{.Server.Version}}')"
printf 'davit-git loads %s shared objects at each start (-Dgit_static=true: fewer)\n' \
	"$(ldd "$DAVIT_BUILD/gitchild/davit-git" | grep -c '=>')"
printf '%-50s %9s %9s %9s\n' "ms from the delivery's arrival" median p90 max
row() { printf '%-50s %9s %9s %9s\n' "$1" "$(field "$2" median_ms)" "$(field "$2" p90_ms)" "$(field "$2" max_ms)"; }
row "202 reply" reply
row "job started_at (backend clock, ms)" start
row "job.state running read by a subscriber" start_ev
row "first compose command exec'd" compose
printf '%-50s\n' "within the deploy job"
row "  fetch step" fetch
row "  pull step" pull
row "  whole job (fetch, pull, rebuild, verify)" job
# the goal is judged on the later of the two views of the start
printf '\ngoal: job start under 20 ms at the median: %s\n' \
	"$(awk -v a="$(field start median_ms)" -v b="$(field start_ev median_ms)" \
		'BEGIN { print (a < 20 && b < 20) ? "met" : "NOT met" }')"
printf 'goal: first compose command under 15 ms at the median: %s\n' \
	"$(awk -v a="$(field compose median_ms)" 'BEGIN { print (a < 15) ? "met" : "NOT met" }')"
davit_stop_backend 15
