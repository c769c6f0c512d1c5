#!/usr/bin/env bash
# The backend against a fake Docker engine (tests/integration/docker/
# fake_engine.py) that misbehaves: the API version capped at 1.41, an
# engine error passed on as the job's error, then HTML instead of JSON, a
# 500, an engine too old, a 5 MiB list, a malformed container id, a garbage
# event line and an endless one. Each gives a clear error in services.list
# and the backend's log; none crashes it (ASan/UBSan watch). Then the
# compose command: "docker compose" (v2) found on PATH, none at all, and a
# DAVIT_COMPOSE_COMMAND that does not exist; a stack rebuild's steps: down
# and up only when the compose file has no service outside DAVIT_SERVICES,
# else by name (a failed down or stop is followed by up).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || fail "jq is needed"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

P=fakeproj
ENGINE=$T/engine.sock
MODE=$T/engine.mode
echo good >"$MODE"
: >"$T/engine.requests"
start_bg fake-engine "$PY" "$DAVIT_SRC/tests/integration/docker/fake_engine.py" \
	"$ENGINE" "$MODE" "$T/engine.requests" "$P"
wait_for -t 10 test -S "$ENGINE" || fail "the fake engine did not start"

mkdir -p "$T/app"
write_davit_env "$T/davit.env" "DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web,worker" \
	"DAVIT_COMPOSE_PROJECT=$P" "DAVIT_DOCKER_SOCKET=$ENGINE"

engine() {
	req services.list | jq -r ".result.engine.$1"
}
engine_is() {
	[ "$(engine "$1")" = "$2" ]
}
error_has() {
	[[ $(engine error) == *"$1"* ]]
}
# with_mode MODE: the backend restarted against the fake in MODE
with_mode() {
	echo "$1" >"$MODE"
	if [ -n "${DAVIT_BACKEND_PID:-}" ]; then
		davit_stop_backend
		assert_eq "$DAVIT_BACKEND_STATUS" 0 "clean stop"
	fi
	: >"$T/engine.requests"
	davit_start_backend "$T/davit.env" --no-frontend
}
# unreachable_with MODE TEXT: services.list says unreachable because of TEXT
unreachable_with() {
	with_mode "$1"
	wait_for -t 10 error_has "$2" || fail "mode $1: error '$(engine error)' does not say '$2'"
	assert_eq "$(engine reachable)" false "mode $1: unreachable"
	assert_eq "$(req services.list | jq -r '.result.services[0].state')" missing "mode $1: nothing known"
	r=$(req service.start '{"service":"web"}')
	assert_eq "$(jq -r .error.code <<<"$r")" unavailable "mode $1: actions unavailable: $r"
	kill -0 "$DAVIT_BACKEND_PID" || fail "mode $1: the backend died"
	assert_file_contains "$T/backend.log" "Docker engine unreachable: "
	pass "$1: unreachable, \"$(engine error)\""
}

# ------------------------------------------------------------------- good --
if scenario good; then
with_mode good
wait_for -t 10 engine_is reachable true || fail "never reachable: $(req services.list)"
s=$(req services.list | jq -c .result)
assert_eq "$(jq -r .engine.api_version <<<"$s")" 1.41 "API 1.43 offered, 1.41 used"
assert_eq "$(jq -c '.services[0] | [.service, .state, .container, .restarts, .started_at, .image]' <<<"$s")" \
	'["web","running","fake_web_1",2,"2026-11-26T19:34:18.210Z","fake-web"]' "web from the fake"
assert_eq "$(jq -r '.services[1].state' <<<"$s")" missing "worker missing"
assert_file_contains "$T/engine.requests" "GET /version"
# one stream for every project: the compose label, any value (issue 13)
grep -q '^GET /v1.41/events?filters=.*%22com.docker.compose.project%22.*type.*container' "$T/engine.requests" ||
	fail "the events request: $(grep events "$T/engine.requests")"
grep -q '^GET /v1.41/containers/json?all=1&filters=' "$T/engine.requests" || fail "no list request"
grep -q "^GET /v1.41/containers/$(printf 'ab%.0s' $(seq 32))/json" "$T/engine.requests" || fail "no inspect"
r=$(req service.start '{"service":"web"}')
j=$(job_wait "$(jq -r .result.job <<<"$r")")
assert_eq "$(jq -r .state <<<"$j")" failed "start refused by the engine"
assert_contains "$(jq -r .error <<<"$j")" "500 fake engine says no"
assert_contains "$(jq -r .error <<<"$j")" "POST /containers/"
r=$(req service.stop '{"service":"web"}')
j=$(job_wait "$(jq -r .result.job <<<"$r")")
assert_eq "$(jq -r .state <<<"$j")" succeeded "stop: $j"
grep -q "^POST /v1.41/containers/.*/stop?t=10" "$T/engine.requests" || fail "stop with t=DAVIT_STOP_TIMEOUT"
pass "good: API capped at 1.41, state from list and inspect, the engine's error in the job"
fi

# ------------------------------------------------------------ hostile ones --
if scenario hostile; then
unreachable_with garbage "malformed"
unreachable_with http500 "500 engine on fire"
unreachable_with oldapi "API 1.20"
unreachable_with huge "longer than 4194304 bytes"
unreachable_with badlist "not 64 hex digits"
fi

# ----------------------------------------------------------------- events --
if scenario events; then
with_mode badevent
wait_for -t 10 grep -q "Docker sent a bad event" "$T/backend.log" || fail "the garbage event line was not reported"
wait_for -t 10 engine_is reachable true || fail "a garbage line should not cut the engine off"
echo longline >"$MODE"
wait_for -t 10 error_has "an event line longer than 65536 bytes" || fail "long line: $(engine error)"
kill -0 "$DAVIT_BACKEND_PID" || fail "the backend died"
pass "events: a garbage line is logged and skipped, an endless one drops the stream"

echo good >"$MODE"
wait_for -t 20 engine_is reachable true || fail "no recovery: $(req services.list)"
pass "back to good: reachable again by itself"
fi
if [ -n "${DAVIT_BACKEND_PID:-}" ]; then
davit_stop_backend
assert_eq "$DAVIT_BACKEND_STATUS" 0 "clean stop"
fi

# ------------------------------------------- the compose command: v2, none --
# a "docker" whose compose plugin works: davit must pick "docker compose"
# (it records its environment, but for the PWD that sh sets itself)
# (in a directory davit trusts: the compose command must be root's, in
# directories only root can write, so not under /tmp)
trusted_bin_dir
mkdir -p "$T/empty"
cat >"$TBIN/docker" <<EOS
#!/bin/sh
[ "\$1 \$2" = "compose version" ] && { echo "Docker Compose version v2.99.0"; exit 0; }
env | cut -d= -f1 | grep -vx PWD | sort | tr '\n' ' ' >"$T/compose.env"
echo "fake compose: \$*"
EOS
chmod 0755 "$TBIN/docker"
# start_with_path PATHVALUE ENVFILE: the backend, with PATH=PATHVALUE for it alone
start_with_path() {
	mkdir -p "$T/wrap/backend"
	cat >"$T/wrap/backend/davit-backend" <<EOS
#!/bin/sh
exec /usr/bin/env PATH="$1" "$DAVIT_BUILD/backend/davit-backend" "\$@"
EOS
	chmod 0755 "$T/wrap/backend/davit-backend"
	DAVIT_BUILD=$T/wrap davit_start_backend "$2" --no-frontend
}
if scenario compose_v2; then
echo good >"$MODE"
start_with_path "$TBIN:/usr/bin:/bin" "$T/davit.env"
wait_for -t 10 engine_is reachable true || fail "not reachable: $(req services.list)"
r=$(req service.rebuild '{"service":"web"}')
j=$(job_wait "$(jq -r .result.job <<<"$r")")
assert_eq "$(jq -r .state <<<"$j")" succeeded "rebuild with compose v2: $j"
assert_eq "$(jq -r '.log[0]' <<<"$j")" "\$ $TBIN/docker compose -p $P build web" "v2's build argv"
assert_contains "$(jq -r '.log[]' <<<"$j")" "fake compose: compose -p $P up -d --no-deps web"
assert_eq "$(cat "$T/compose.env")" "DOCKER_HOST HOME LANG PATH " "compose's environment"
assert_file_contains "$T/backend.log" "compose command: $TBIN/docker compose"
davit_stop_backend
pass "docker compose (v2) found through PATH and used with a fixed argv"
fi

# a "down" that fails (or is cut short by the job's timeout) leaves the app
# down: davit runs "up -d" after it all the same, and the job fails with the
# reason of the first failure.  The fake's "config --services" names the
# services of $T/compose.services; the step named in $T/compose.breaks fails.
cat >"$TBIN/docker-compose" <<EOS
#!/bin/sh
echo "\$*" >>"$T/compose.calls"
case "\$*" in *" config --services") cat "$T/compose.services"; exit 0 ;; esac
case "\$*" in *" \$(cat "$T/compose.breaks")"*) echo "fake compose: \$(cat "$T/compose.breaks") breaks"; exit 1 ;; esac
echo "fake compose: \$*"
EOS
chmod 0755 "$TBIN/docker-compose"
if scenario compose_plans; then
echo web >"$T/compose.services"
echo down >"$T/compose.breaks"
write_davit_env "$T/davit3.env" "DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web" \
	"DAVIT_COMPOSE_PROJECT=$P" "DAVIT_DOCKER_SOCKET=$ENGINE" \
	"DAVIT_COMPOSE_COMMAND=$TBIN/docker-compose"
davit_start_backend "$T/davit3.env" --no-frontend
wait_for -t 10 engine_is reachable true || fail "not reachable: $(req services.list)"
r=$(req stack.rebuild)
j=$(job_wait "$(jq -r .result.job <<<"$r")")
assert_eq "$(jq -r .state <<<"$j")" failed "stack.rebuild with a failing down: $j"
assert_contains "$(jq -r .error <<<"$j")" "compose down failed (exit 1)" "the first failure is reported"
assert_contains "$(jq -r '.log[]' <<<"$j")" "bringing the services up again" "the log says so"
assert_eq "$(tr '\n' ',' <"$T/compose.calls")" "-p $P config --services,-p $P build --force-rm,-p $P down,-p $P up -d," "up -d ran after the failed down"
pass "a failed down is followed by up -d"

# a compose file with a service that is not listed (db): never down; the
# listed one by name, and a failed stop is followed by up -d --no-deps
printf 'web\nWARNING: some noise on stderr\ndb\n' >"$T/compose.services"
echo stop >"$T/compose.breaks"
: >"$T/compose.calls"
r=$(req stack.rebuild)
j=$(job_wait "$(jq -r .result.job <<<"$r")")
assert_eq "$(jq -r .state <<<"$j")" failed "stack.rebuild with a failing stop: $j"
assert_contains "$(jq -r .error <<<"$j")" "compose stop failed (exit 1)" "the first failure is reported"
assert_contains "$(jq -r '.log[]' <<<"$j")" "1 service not in DAVIT_SERVICES (db)" "the log says why"
assert_eq "$(tr '\n' ',' <"$T/compose.calls")" "-p $P config --services,-p $P build --force-rm web,-p $P stop web,-p $P up -d --no-deps web," "by name, up after the failed stop"
# and when it goes through: stop, rm -f, up -d --no-deps, all by name
echo nothing-breaks >"$T/compose.breaks"
: >"$T/compose.calls"
r=$(req stack.rebuild)
j=$(job_wait "$(jq -r .result.job <<<"$r")")
assert_eq "$(jq -r .state <<<"$j")" succeeded "stack.rebuild by name: $j"
assert_eq "$(tr '\n' ',' <"$T/compose.calls")" "-p $P config --services,-p $P build --force-rm web,-p $P stop web,-p $P rm -f web,-p $P up -d --no-deps web," "by name"
# a compose file without any listed service: nothing is built or stopped
printf 'db\n' >"$T/compose.services"
: >"$T/compose.calls"
r=$(req stack.rebuild)
j=$(job_wait "$(jq -r .result.job <<<"$r")")
assert_eq "$(jq -r .state <<<"$j")" failed "stack.rebuild without a listed service in the file: $j"
assert_contains "$(jq -r .error <<<"$j")" "names none of DAVIT_SERVICES; the running containers were left alone"
assert_eq "$(tr '\n' ',' <"$T/compose.calls")" "-p $P config --services," "nothing after it"
# a "config --services" that fails: the job fails before anything is touched
echo "config" >"$T/compose.breaks"
printf '#!/bin/sh\necho "$*" >>"%s"\necho "config breaks"; exit 1\n' "$T/compose.calls" >"$TBIN/docker-compose"
: >"$T/compose.calls"
r=$(req stack.rebuild)
j=$(job_wait "$(jq -r .result.job <<<"$r")")
assert_eq "$(jq -r .state <<<"$j")" failed "stack.rebuild with a failing config: $j"
assert_contains "$(jq -r .error <<<"$j")" "compose config failed (exit 1); the running containers were left alone"
assert_eq "$(tr '\n' ',' <"$T/compose.calls")" "-p $P config --services," "nothing after a failed config"
davit_stop_backend
pass "a service outside DAVIT_SERVICES: the listed ones by name, never down"
fi

# neither docker compose nor docker-compose
if scenario no_compose; then
start_with_path "$T/empty" "$T/davit.env"
wait_for -t 10 engine_is reachable true || fail "not reachable: $(req services.list)"
r=$(req stack.rebuild)
assert_eq "$(jq -r .error.code <<<"$r")" unavailable "no compose: $r"
assert_contains "$(jq -r .error.message <<<"$r")" "no compose command"
r=$(req service.restart '{"service":"web"}')
assert_eq "$(jq -r .error.code <<<"$r")" null "start/stop/restart need no compose: $r"
davit_stop_backend

# DAVIT_COMPOSE_COMMAND naming a file that is not there
write_davit_env "$T/davit2.env" "DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web" \
	"DAVIT_COMPOSE_PROJECT=$P" "DAVIT_DOCKER_SOCKET=$ENGINE" \
	"DAVIT_COMPOSE_COMMAND=/nonexistent/docker-compose"
davit_start_backend "$T/davit2.env" --no-frontend
wait_for -t 10 engine_is reachable true || fail "not reachable: $(req services.list)"
r=$(req service.rebuild '{"service":"web"}')
assert_eq "$(jq -r .error.code <<<"$r")" unavailable "a missing DAVIT_COMPOSE_COMMAND: $r"
assert_contains "$(jq -r .error.message <<<"$r")" "/nonexistent/docker-compose is not an executable"
davit_stop_backend

# a compose command that someone but root could change is refused, never run:
# under /tmp (others can write there), or not root's
mkdir -p "$T/untrusted"
cp "$TBIN/docker-compose" "$T/untrusted/docker-compose"
: >"$T/compose.calls"
write_davit_env "$T/davit4.env" "DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web" \
	"DAVIT_COMPOSE_PROJECT=$P" "DAVIT_DOCKER_SOCKET=$ENGINE" \
	"DAVIT_COMPOSE_COMMAND=$T/untrusted/docker-compose"
davit_start_backend "$T/davit4.env" --no-frontend
wait_for -t 10 engine_is reachable true || fail "not reachable: $(req services.list)"
r=$(req service.rebuild '{"service":"web"}')
assert_eq "$(jq -r .error.code <<<"$r")" unavailable "a compose command under /tmp: $r"
assert_contains "$(jq -r .error.message <<<"$r")" "compose command $T/untrusted/docker-compose refused: /tmp is writable by group or others"
assert_file_contains "$T/backend.log" "it must be root's, in directories only root can write"
davit_stop_backend
chown davit "$TBIN/docker-compose"
write_davit_env "$T/davit5.env" "DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web" \
	"DAVIT_COMPOSE_PROJECT=$P" "DAVIT_DOCKER_SOCKET=$ENGINE" \
	"DAVIT_COMPOSE_COMMAND=$TBIN/docker-compose"
davit_start_backend "$T/davit5.env" --no-frontend
wait_for -t 10 engine_is reachable true || fail "not reachable: $(req services.list)"
r=$(req service.rebuild '{"service":"web"}')
assert_eq "$(jq -r .error.code <<<"$r")" unavailable "a compose command not root's: $r"
assert_contains "$(jq -r .error.message <<<"$r")" "refused: $TBIN/docker-compose is not root's"
davit_stop_backend
assert_eq "$(cat "$T/compose.calls")" "" "an untrusted compose command never ran"
chown root "$TBIN/docker-compose"
assert_eq "$DAVIT_BACKEND_STATUS" 0 "clean stop"
pass "no compose command: rebuilds are unavailable, with the reason"
fi
