#!/usr/bin/env bash
# The whole system for the browser tests (tests/browser/run.mjs calls this when
# DAVIT_URL is unset): a demo compose app (web + worker) built and started,
# its bare origin, davit-backend from $DAVIT_BUILD with --no-frontend and
# davit-frontend started on its own, as the systemd units run them (a frontend
# the backend spawns dies with it; this one outlives a killed backend and
# reconnects), on 127.0.0.1:<unused port> with the dashboard from www/; then
# `node run.mjs` against it with DAVIT_URL, DAVIT_PASSWORD, DAVIT_PUSH_CMD and
# DAVIT_APP_URL (the demo app's web service, which serves the repo's VERSION
# file) set. Everything (processes, containers, images, temp dirs) is removed
# at exit, also on failure (tests/integration/lib.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../integration/lib.sh
. "$HERE/../integration/lib.sh"

[ -x "$DAVIT_BUILD/backend/davit-backend" ] ||
	fail "no $DAVIT_BUILD/backend/davit-backend (build it, or set DAVIT_BUILD)"
[ -x "$DAVIT_BUILD/frontend/davit-frontend" ] ||
	fail "no $DAVIT_BUILD/frontend/davit-frontend (build it, or set DAVIT_BUILD)"
command -v node >/dev/null || fail "node is not installed (scripts/setup.sh --browser)"
[ -d "$HERE/node_modules/playwright-core" ] ||
	fail "playwright-core is not installed in tests/browser (scripts/setup.sh --browser)"

ensure_docker

APPPORT=$(unused_port)
PROJECT=$(unique_project dvb)
APP=$T/app
ORIGIN=$APP.origin.git
info "demo app $PROJECT (web on 127.0.0.1:$APPPORT), compose: $(compose_cmd)"
PORT=$APPPORT demo_app "$APP" "$PROJECT"
(cd "$APP" && compose -p "$PROJECT" up -d --build) >"$T/compose-up.log" 2>&1 ||
	fail "compose up failed: $(tail -n 30 "$T/compose-up.log")"
wait_for -t 60 curl -fsS "http://127.0.0.1:$APPPORT/" || fail "the demo app does not answer"

# The password has a space and quotes: the login must carry it as it is.
PASSWORD="browser test 'pw' $RANDOM"
LISTEN=127.0.0.1:$(unused_port)
mkdir -p "$T/run"
write_davit_env "$T/davit.env" \
	"DAVIT_SOCKET=$T/run/backend.sock" \
	"DAVIT_LISTEN=$LISTEN" \
	"DAVIT_WORKDIR=$APP" \
	"DAVIT_SERVICES=web,worker" \
	"DAVIT_COMPOSE_PROJECT=$PROJECT" \
	"DAVIT_REPO_URL=file://$ORIGIN" \
	"DAVIT_DEPLOY_VERIFY=20" \
	"DAVIT_WWW_DIR=$DAVIT_SRC/www" \
	"DAVIT_PASSWORD=\"$PASSWORD\""
davit_start_backend "$T/davit.env" --no-frontend
_SAN_LOGS+=("$T/frontend.log")
start_bg frontend "$DAVIT_BUILD/frontend/davit-frontend" --socket "$T/run/backend.sock" \
	--user davit --www "$DAVIT_SRC/www"
URL=http://$LISTEN
wait_for -t 30 curl -fsS "$URL/healthz" || fail "the frontend does not answer on $URL: $(tail -n 20 "$T/frontend.log")"
wait_for -t 30 sh -c "curl -fsS '$URL/healthz' | grep -q '\"up\"'" ||
	fail "the frontend is not linked to the backend: $(curl -sS "$URL/healthz" 2>&1)"
info "davit at $URL"

# DAVIT_PUSH_CMD: run.mjs calls it (bash -c CMD push MSG [FILE CONTENT]) to
# push a commit to the origin that writes CONTENT into FILE (default: MSG into
# VERSION); it prints the new commit id.
PUSH_CMD=". $(printf '%q' "$DAVIT_SRC/scripts/demo-lib.sh") && push_commit $(printf '%q' "$ORIGIN") \"\$1\" \"\${2:-VERSION}\" \"\${3:-\$1}\""

# The backend killed, then started again (the frontend stays and
# reconnects); its pid goes to $T/backend2.pid.
BIN=$DAVIT_BUILD/backend/davit-backend
DOWN_CMD="kill -KILL $DAVIT_BACKEND_PID"
UP_CMD="setsid $(printf '%q' "$BIN") --config $(printf '%q' "$T/davit.env") --no-frontend \
	</dev/null >>$(printf '%q' "$T/backend-2.log") 2>&1 & echo \$! >$(printf '%q' "$T/backend2.pid")"
_SAN_LOGS+=("$T/backend-2.log")
on_exit "[ ! -s $T/backend2.pid ] || kill -TERM \$(cat $T/backend2.pid)"

rc=0
DAVIT_URL=$URL DAVIT_PASSWORD=$PASSWORD DAVIT_PUSH_CMD=$PUSH_CMD DAVIT_SERVICES=web,worker \
	DAVIT_APP_URL=http://127.0.0.1:$APPPORT/ \
	DAVIT_BACKEND_DOWN_CMD=$DOWN_CMD DAVIT_BACKEND_UP_CMD=$UP_CMD \
	node "$HERE/run.mjs" || rc=$?

# Whichever backend runs now must be alive and stop cleanly.
if [ -s "$T/backend2.pid" ]; then
	B2=$(cat "$T/backend2.pid")
	kill -0 "$B2" 2>/dev/null || fail "the restarted backend died during the browser tests"
	stop_pid "$B2" 15
	: >"$T/backend2.pid"
	[ "$STOP_STATUS" -ne 137 ] || fail "the restarted backend ignored SIGTERM"
	check_sanitizer_logs
else
	kill -0 "$DAVIT_BACKEND_PID" 2>/dev/null || fail "the backend died during the browser tests"
	davit_stop_backend
fi
[ "$rc" -eq 0 ] || fail "browser tests failed (exit $rc)"
pass "browser tests"
