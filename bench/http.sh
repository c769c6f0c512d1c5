#!/usr/bin/env bash
# HTTP figures for davit-frontend, printed (nothing here is asserted):
#   - wrk, 64 connections, against GET /api/state with a session cookie and,
#     in the same run on the same server, GET /healthz as the floor:
#     requests per second and p99 latency (goal: /api/state at least half
#     of /healthz's throughput);
#   - the resident memory (VmRSS) of davit-backend and davit-frontend, idle
#     and with 100 open event streams (goal: under 16 MiB together), and
#     beside it their proportional share (PSS, /proc/PID/smaps_rollup:
#     shared libraries counted once per process that maps them; goal for
#     the idle backend: under 4 MiB).
# The daemons come from $DAVIT_BUILD (default: build/, an optimised build
# without sanitizers), run against a demo app checkout; no containers are
# started. Env: BENCH_SECONDS (10 per URL), BENCH_THREADS (2).
#
#   bash bench/http.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export DAVIT_BUILD=${DAVIT_BUILD:-$ROOT/build}
# shellcheck source=../tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"

SECS=${BENCH_SECONDS:-10}
THREADS=${BENCH_THREADS:-2}
CONNS=64
STREAMS=100
command -v wrk >/dev/null || fail "wrk is not installed (apt-get install wrk)"
[ -x "$DAVIT_BUILD/frontend/davit-frontend" ] || fail "no $DAVIT_BUILD/frontend/davit-frontend: meson setup build && ninja -C build"

make_demo_app "$T/app" "$(unique_project dvbench)" >"$T/demo.log" 2>&1 ||
	fail "make_demo_app: $(tail -n 5 "$T/demo.log")"
LISTEN=127.0.0.1:$(unused_port)
URL=http://$LISTEN
PASSWORD=bench-$RANDOM
mkdir -p "$T/run"
write_davit_env "$T/davit.env" \
	"DAVIT_SOCKET=$T/run/backend.sock" \
	"DAVIT_LISTEN=$LISTEN" \
	"DAVIT_WORKDIR=$T/app" \
	"DAVIT_SERVICES=web,worker" \
	"DAVIT_REPO_URL=file://$T/app.origin.git" \
	"DAVIT_WWW_DIR=$ROOT/www" \
	"DAVIT_PASSWORD=$PASSWORD"
davit_start_backend "$T/davit.env"
up() { [ "$(curl -s --max-time 5 "$URL/healthz")" = '{"backend":"up"}' ]; }
wait_for -t 30 up || fail "davit does not answer on $URL"
FE_PID=$(pgrep -P "$DAVIT_BACKEND_PID" -x davit-frontend | head -n 1)
[ -n "$FE_PID" ] || fail "no davit-frontend under the backend"

curl -s -c "$T/jar" -X POST -H 'Content-Type: application/json' \
	--data-binary "{\"password\":\"$PASSWORD\"}" "$URL/api/login" >/dev/null
SID=$(awk '$6 == "davit_session" { print $7 }' "$T/jar")
[ -n "$SID" ] || fail "login failed"
curl -sf -b "$T/jar" "$URL/api/state" >/dev/null || fail "GET /api/state failed"

# bench NAME URL [HEADER]: prints "req/s p99"
bench() {
	local out
	if [ -n "${3:-}" ]; then
		out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency -H "$3" "$2")
	else
		out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency "$2")
	fi
	printf '%s\n' "$out" >"$T/wrk-$1.txt"
	if grep -q 'Non-2xx' <<<"$out"; then
		fail "$1: some answers were not 2xx: $(grep 'Non-2xx' <<<"$out")"
	fi
	printf '%s %s\n' "$(awk '/^Requests\/sec:/ { printf "%d", $2 }' <<<"$out")" \
		"$(awk '$1 == "99%" { print $2 }' <<<"$out")"
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
pss_kib() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

info "wrk: $CONNS connections, $THREADS threads, ${SECS}s per URL"
read -r hz_rps hz_p99 < <(bench healthz "$URL/healthz")
read -r st_rps st_p99 < <(bench state "$URL/api/state" "Cookie: davit_session=$SID")

sleep 1
be_idle=$(rss_kib "$DAVIT_BACKEND_PID")
fe_idle=$(rss_kib "$FE_PID")
be_idle_pss=$(pss_kib "$DAVIT_BACKEND_PID")
fe_idle_pss=$(pss_kib "$FE_PID")
for i in $(seq 1 "$STREAMS"); do
	start_bg "sse$i" curl -sN -b "davit_session=$SID" "$URL/api/events"
done
streaming() { [ "$(grep -l '^event: backend' "$T"/sse*.log 2>/dev/null | wc -l)" -ge "$STREAMS" ]; }
wait_for -t 30 streaming || fail "not all $STREAMS event streams started"
sleep 1
be_sse=$(rss_kib "$DAVIT_BACKEND_PID")
fe_sse=$(rss_kib "$FE_PID")
be_sse_pss=$(pss_kib "$DAVIT_BACKEND_PID")
fe_sse_pss=$(pss_kib "$FE_PID")

echo
echo "davit HTTP benchmark ($(nproc) CPUs; wrk, $CONNS connections, $THREADS threads, ${SECS}s per URL, same server)"
printf '  %-16s %8s req/s   p99 %s\n' "GET /healthz" "$hz_rps" "$hz_p99"
printf '  %-16s %8s req/s   p99 %s   (%d%% of /healthz; goal >= 50%%)\n' "GET /api/state" \
	"$st_rps" "$st_p99" $((hz_rps > 0 ? st_rps * 100 / hz_rps : 0))
echo "resident memory (VmRSS; goal < 16 MiB together)"
printf '  %-20s backend %s MiB + frontend %s MiB = %s MiB\n' "idle:" \
	"$(mib "$be_idle")" "$(mib "$fe_idle")" "$(mib $((be_idle + fe_idle)))"
printf '  %-20s backend %s MiB + frontend %s MiB = %s MiB\n' "$STREAMS event streams:" \
	"$(mib "$be_sse")" "$(mib "$fe_sse")" "$(mib $((be_sse + fe_sse)))"
echo "proportional memory (PSS; goal: idle backend < 4 MiB)"
printf '  %-20s backend %s MiB + frontend %s MiB = %s MiB\n' "idle:" \
	"$(mib "$be_idle_pss")" "$(mib "$fe_idle_pss")" "$(mib $((be_idle_pss + fe_idle_pss)))"
printf '  %-20s backend %s MiB + frontend %s MiB = %s MiB\n' "$STREAMS event streams:" \
	"$(mib "$be_sse_pss")" "$(mib "$fe_sse_pss")" "$(mib $((be_sse_pss + fe_sse_pss)))"
davit_stop_backend
