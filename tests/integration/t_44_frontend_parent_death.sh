#!/usr/bin/env bash
# The spawned layout (the backend starts davit-frontend itself): the frontend
# dies with the backend that started it.  A kill -9 of the backend leaves no
# frontend behind: the process is gone and its port is free, so the next
# backend's frontend can listen on it.  Also: --help on both binaries.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

BE_BIN=$DAVIT_BUILD/backend/davit-backend
FE_BIN=$DAVIT_BUILD/frontend/davit-frontend
[ -x "$FE_BIN" ] || fail "$FE_BIN not built (DAVIT_BUILD=$DAVIT_BUILD)"
getent passwd davit >/dev/null || fail "no user davit (scripts/setup.sh)"

# ------------------------------------------------------------------ --help --
if scenario help; then
for bin in "$BE_BIN" "$FE_BIN"; do
	rc=0
	out=$("$bin" --help 2>"$T/help.err") || rc=$?
	assert_eq "$rc" 0 "$(basename "$bin") --help exits 0"
	assert_contains "$out" "usage: $(basename "$bin")" "$(basename "$bin") --help prints usage on stdout"
	rc=0
	"$bin" --no-such-option >/dev/null 2>"$T/help.err" || rc=$?
	assert_eq "$rc" 2 "$(basename "$bin"): an unknown option still exits 2"
done
pass "--help on both binaries: usage on stdout, exit 0"
fi

# ----------------------------------------------------------- parent death --
mkdir -p "$T/run" "$T/app"
LISTEN=127.0.0.1:$(unused_port)
PORT=${LISTEN##*:}
ENV=$T/davit.env
write_davit_env "$ENV" \
	"DAVIT_SOCKET=$T/run/backend.sock" \
	"DAVIT_LISTEN=$LISTEN" \
	"DAVIT_WORKDIR=$T/app" \
	"DAVIT_SERVICES=web" \
	"DAVIT_COMPOSE_PROJECT=$(unique_project dvpd)"

frontend_pid() { # the davit-frontend whose parent is $1
	pgrep -P "$1" -f davit-frontend | head -n 1
}
frontend_alive() { # $1: pid
	kill -0 "$1" 2>/dev/null && ! _is_zombie "$1"
}

if scenario parent_death; then
davit_start_backend "$ENV"
wait_for port_open "$PORT" || fail "the frontend never listened on $PORT"
FE_PID=$(frontend_pid "$DAVIT_BACKEND_PID")
[ -n "$FE_PID" ] || fail "no davit-frontend child of the backend $DAVIT_BACKEND_PID"
info "backend $DAVIT_BACKEND_PID, frontend $FE_PID on $PORT"

kill -KILL "$DAVIT_BACKEND_PID"
wait "$DAVIT_BACKEND_PID" 2>/dev/null || true
if ! wait_for -t 10 eval "! frontend_alive $FE_PID"; then
	fail "davit-frontend $FE_PID still runs after kill -9 of its backend"
fi
wait_for -t 10 eval "! port_open $PORT" || fail "port $PORT still taken after the backend died"
pass "kill -9 of the backend: its frontend exited, port $PORT is free"
fi

# the next backend's frontend gets the port
if scenario same_port parent_death; then
rm -f "$T/run/backend.sock"
davit_start_backend "$ENV"
wait_for port_open "$PORT" || fail "the next backend's frontend did not listen on $PORT"
assert_eq "$(http_code "http://$LISTEN/")" 200 "the new frontend answers"
davit_stop_backend
pass "a new backend's frontend listens on the same port"
fi
