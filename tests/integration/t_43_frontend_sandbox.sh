#!/usr/bin/env bash
# The frontend's own confinement (frontend/sandbox.c), in the spawned layout:
# - the running frontend shows "Seccomp: 2" and logs its Landlock ABI, and
#   still serves the dashboard's files (read through Landlock);
# - Landlock is in force: a file outside www that the davit user may read
#   (/etc/passwd) gives EACCES, a file in www opens;
# - a forbidden system call (execve) kills it with SIGSYS, and the backend
#   logs the signal and starts a new, again confined, frontend.
# The probes need a test-only build (-Dsandbox_test_trigger=true: SIGUSR1
# probes the files, SIGUSR2 calls execve), made here in
# $DAVIT_SRC/build-sandbox-trigger with DAVIT_BUILD's sanitizer option
# (DAVIT_BUILD itself, a build without the option, must not have the trigger).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

SIGSYS_NR=31	# x86_64, arm64
getent passwd davit >/dev/null || fail "no user davit (scripts/setup.sh)"

# ----------------------------------------------------- the trigger's build --
buildopt() { # buildopt DIR NAME: the value of a meson option of DIR
	meson introspect --buildoptions "$1" | jq -r --arg n "$2" '.[] | select(.name == $n) | .value'
}
[ "$(buildopt "$DAVIT_BUILD" sandbox_test_trigger)" = false ] ||
	fail "$DAVIT_BUILD was built with -Dsandbox_test_trigger=true: the suite's build must not be"
if grep -q "sandbox test trigger" "$DAVIT_BUILD/frontend/davit-frontend"; then
	fail "$DAVIT_BUILD/frontend/davit-frontend has the sandbox test trigger"
fi
assert_eq "$(cd "$DAVIT_SRC" && meson introspect --buildoptions meson.build |
	jq -r '.[] | select(.name == "sandbox_test_trigger") | .value')" false \
	"sandbox_test_trigger's default"
pass "the suite's build ($DAVIT_BUILD) and the default have no sandbox test trigger"

TB=$DAVIT_SRC/build-sandbox-trigger
san=$(buildopt "$DAVIT_BUILD" b_sanitize)
if [ ! -f "$TB/meson-private/coredata.dat" ]; then
	meson setup "$TB" "$DAVIT_SRC" -Dtests=false -Dsandbox_test_trigger=true \
		-Db_sanitize="$san" -Db_lundef=false >"$T/trigger-setup.log" 2>&1 ||
		fail "meson setup $TB: $(tail -n 20 "$T/trigger-setup.log")"
fi
ninja -C "$TB" backend/davit-backend frontend/davit-frontend gitchild/davit-git >"$T/trigger-build.log" 2>&1 ||
	fail "building $TB: $(tail -n 30 "$T/trigger-build.log")"
assert_eq "$(buildopt "$TB" sandbox_test_trigger)" true "$TB has the trigger"
info "test build $TB (b_sanitize=$san)"
DAVIT_BUILD=$TB

# ------------------------------------------------------ confined, working --
mkdir -p "$T/run" "$T/app"
LISTEN=127.0.0.1:$(unused_port)
PORT=${LISTEN##*:}
ENV=$T/davit.env
write_davit_env "$ENV" \
	"DAVIT_SOCKET=$T/run/backend.sock" \
	"DAVIT_LISTEN=$LISTEN" \
	"DAVIT_WORKDIR=$T/app" \
	"DAVIT_SERVICES=web" \
	"DAVIT_WWW_DIR=$DAVIT_SRC/www" \
	"DAVIT_COMPOSE_PROJECT=$(unique_project dvsb)"
LOG=$T/backend.log

frontend_pid() { # the running davit-frontend child of the backend
	local p
	for p in $(pgrep -P "$DAVIT_BACKEND_PID" -f davit-frontend); do
		_is_zombie "$p" || { echo "$p"; return 0; }
	done
	return 1
}
sandboxed() { grep -q "sandbox: seccomp allowlist" "$LOG"; }

davit_start_backend "$ENV"
wait_for port_open "$PORT" || fail "the frontend never listened on $PORT"
wait_for sandboxed || fail "no sandbox line in the log: $(tail -n 20 "$LOG")"
FE_PID=$(frontend_pid) || fail "no davit-frontend child of the backend $DAVIT_BACKEND_PID"
status=$(cat "/proc/$FE_PID/status")
assert_contains "$status" "Seccomp:	2" "the frontend's seccomp mode (filter)"
# the backend has none here: the one filter is the frontend's own
assert_contains "$(cat "/proc/$DAVIT_BACKEND_PID/status")" "Seccomp:	0" "the backend's seccomp mode"
assert_contains "$status" "Seccomp_filters:	1" "one filter: davit's own"
assert_contains "$status" "NoNewPrivs:	1" "the frontend's no_new_privs"
abi=$(sed -n 's/.*sandbox: seccomp allowlist (violation kills), Landlock ABI \([0-9]*\):.*/\1/p' "$LOG" | head -n 1)
[ -n "$abi" ] || fail "the kernel has Landlock but the frontend did not say its ABI: $(grep sandbox "$LOG")"
assert_eq "$(http_code "http://$LISTEN/")" 200 "GET / (www/index.html) under Landlock"
assert_eq "$(http_code "http://$LISTEN/app.js")" 200 "GET /app.js under Landlock"
assert_eq "$(http_code "http://$LISTEN/api/state")" 401 "GET /api/state without a session"
pass "frontend $FE_PID: Seccomp: 2, Landlock ABI $abi, serves www/ and the API"

# -------------------------------------------------------------- Landlock --
runuser -u davit -- cat /etc/passwd >/dev/null || fail "the davit user cannot read /etc/passwd anyway"
probed() { grep -q "sandbox test: open www/index.html" "$LOG"; }
kill -USR1 "$FE_PID"
wait_for probed || fail "no answer to SIGUSR1: $(tail -n 10 "$LOG")"
assert_file_contains "$LOG" "sandbox test: open /etc/passwd: Permission denied" "Landlock: a file outside www"
assert_file_contains "$LOG" "sandbox test: open www/index.html: allowed" "Landlock: a file in www"
kill -0 "$FE_PID" || fail "the frontend died of the file probes"
pass "Landlock: /etc/passwd (readable by davit) gives EACCES, www/index.html opens"

# ---------------------------------------------------- a forbidden call --
kill -USR2 "$FE_PID"
gone() { ! kill -0 "$FE_PID" 2>/dev/null || _is_zombie "$FE_PID"; }
wait_for -t 10 gone || fail "the frontend $FE_PID survived execve"
assert_file_contains "$LOG" "sandbox test: calling execve"
assert_file_not_contains "$LOG" "sandbox test: execve returned"
wait_for -t 10 grep -q "davit-frontend killed by signal $SIGSYS_NR " "$LOG" ||
	fail "the backend did not log SIGSYS: $(grep -i 'davit-frontend' "$LOG" | tail -n 5)"
assert_file_contains "$LOG" "restarting davit-frontend"
pass "execve killed the frontend with SIGSYS ($SIGSYS_NR); the backend logged it"

restarted() { p=$(frontend_pid) && [ "$p" != "$FE_PID" ] && port_open "$PORT"; }
wait_for restarted || fail "no new frontend on $PORT: $(tail -n 10 "$LOG")"
NEW_PID=$(frontend_pid)
sandboxed_again() { [ "$(grep -c "sandbox: seccomp allowlist" "$LOG")" -ge 2 ]; }
wait_for sandboxed_again ||
	fail "the new frontend did not enter its sandbox"
assert_contains "$(cat "/proc/$NEW_PID/status")" "Seccomp:	2" "the restarted frontend's seccomp mode"
assert_eq "$(http_code "http://$LISTEN/")" 200 "GET / from the restarted frontend"
pass "the backend restarted it: frontend $NEW_PID, Seccomp: 2, serving"

davit_stop_backend
assert_eq "$DAVIT_BACKEND_STATUS" 0 "backend exit status"
