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

# The "projects" group (issue 13): a second davit with three projects from
# DAVIT_PROJECTS_DIR, each a demo app of its own, when the group is selected
# (by default it is). A backend that cannot run several projects (it refuses
# the configuration, or has no projects.list) leaves DAVIT_PROJECTS_URL unset:
# run.mjs prints SKIP for the group.
PROJECTS_IDS="projects_overview projects_page projects_action"
want_projects() {
	[ -n "${DAVIT_BROWSER_ONLY:-}" ] || return 0
	node -e 'const re = new RegExp(process.argv[1]);
		process.exit(process.argv.slice(2).some((id) => re.test(id)) ? 0 : 1)' \
		"$DAVIT_BROWSER_ONLY" $PROJECTS_IDS
}
PROJECTS_URL=
if want_projects; then
	PDIR=$T/projects.d
	install -d -m 0700 "$PDIR"
	PPUSH=
	for pn in alpha beta gamma; do
		pport=$(unused_port)
		pproj=$(unique_project "dvp$pn")
		PORT=$pport demo_app "$T/p-$pn" "$pproj"
		(cd "$T/p-$pn" && compose -p "$pproj" up -d --build) >>"$T/compose-up-projects.log" 2>&1 ||
			fail "compose up ($pn) failed: $(tail -n 30 "$T/compose-up-projects.log")"
		write_env "$PDIR/$pn.env" \
			"DAVIT_WORKDIR=$T/p-$pn" \
			"DAVIT_SERVICES=web,worker" \
			"DAVIT_COMPOSE_PROJECT=$pproj" \
			"DAVIT_REPO_URL=file://$T/p-$pn.origin.git" \
			"DAVIT_POLL_INTERVAL=0"
		[ -n "$PPUSH" ] || PPUSH=". $(printf '%q' "$DAVIT_SRC/scripts/demo-lib.sh") && push_commit $(printf '%q' "$T/p-$pn.origin.git") \"\$1\" VERSION \"\$1\""
	done
	PLISTEN=127.0.0.1:$(unused_port)
	mkdir -p "$T/run2" "$T/state2"
	write_env "$T/davit-projects.env" \
		"DAVIT_SOCKET=$T/run2/backend.sock" \
		"DAVIT_STATE_DIR=$T/state2" \
		"DAVIT_AUDIT_LOG=$T/audit2.jsonl" \
		"DAVIT_LISTEN=$PLISTEN" \
		"DAVIT_USER=davit" \
		"DAVIT_PROJECTS_DIR=$PDIR" \
		"DAVIT_WWW_DIR=$DAVIT_SRC/www" \
		"DAVIT_PASSWORD=\"$PASSWORD\""
	_SAN_LOGS+=("$T/backend-projects.log" "$T/frontend-projects.log")
	start_bg backend-projects "$DAVIT_BUILD/backend/davit-backend" \
		--config "$T/davit-projects.env" --no-frontend
	PB_PID=$BG_PID
	if wait_for -t 15 test -S "$T/run2/backend.sock"; then
		start_bg frontend-projects "$DAVIT_BUILD/frontend/davit-frontend" \
			--socket "$T/run2/backend.sock" --user davit --www "$DAVIT_SRC/www"
		wait_for -t 30 sh -c "curl -fsS 'http://$PLISTEN/healthz' | grep -q '\"up\"'" ||
			fail "the projects' frontend is not linked to its backend: $(tail -n 20 "$T/frontend-projects.log")"
		PROJECTS_URL=http://$PLISTEN
		info "davit with three projects at $PROJECTS_URL"
	else
		info "SKIP: the projects group: this backend does not run DAVIT_PROJECTS_DIR: $(tail -n 3 "$T/backend-projects.log" | tr '\n' ' ')"
		kill -TERM "$PB_PID" 2>/dev/null || true
	fi
fi

rc=0
DAVIT_PROJECTS_URL=$PROJECTS_URL DAVIT_PROJECTS_PUSH_CMD=${PPUSH:-} \
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
