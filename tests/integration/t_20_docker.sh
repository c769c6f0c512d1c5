#!/usr/bin/env bash
# Docker in the backend, against the real engine, with a compose app of its
# own (web with a healthcheck, worker; FROM scratch with busybox) and davit
# talking to the engine through a socat proxy that the test can cut:
# status before and after a rebuild, restart changes started_at, stop and
# start one, stack stop and start, service.rebuild recreates only its
# service, a slow build does not slow services.list, the compose child's
# environment, a broken Dockerfile fails stack.rebuild with the build output
# while the old containers keep running, events to a subscriber, a container
# removed behind davit's back, the engine unreachable and back (with a change
# made while it was away), unlisted services, audit records, and a build
# killed at DAVIT_JOB_TIMEOUT.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || fail "jq is needed"
ensure_docker

P=$(unique_project dvt20)
WEBPORT=$(unused_port)
# the intermediate images of the builds below carry a label of this run;
# registered first, so that it runs after compose_cleanup removed their children
remove_test_images() {
	local id
	# children first: newest first
	for id in $({ docker images -a --filter "label=davit.test.rebuild=$P" --format '{{.CreatedAt}} {{.ID}}'
		docker images -a --filter "label=davit.test.timeout=$P" --format '{{.CreatedAt}} {{.ID}}'; } |
		sort -r -u | awk '{ print $NF }'); do
		docker rmi "$id" >/dev/null 2>&1 || true
	done
}
on_exit remove_test_images
PORT=$WEBPORT demo_app "$T/app" "$P"

# davit reaches the engine through this proxy, so that the test can cut it
PROXY_SOCK=$T/docker.sock
start_proxy() {
	rm -f "$PROXY_SOCK"
	start_bg docker-proxy socat "UNIX-LISTEN:$PROXY_SOCK,fork,mode=0600" \
		UNIX-CONNECT:/var/run/docker.sock
	PROXY_PID=$BG_PID
	wait_for -t 10 test -S "$PROXY_SOCK" || fail "the proxy did not start"
}
stop_proxy() {
	kill -TERM -- "-$PROXY_PID" 2>/dev/null || true
	wait "$PROXY_PID" 2>/dev/null || true
}
start_proxy

write_davit_env "$T/davit.env" "DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web,worker" \
	"DAVIT_COMPOSE_PROJECT=$P" "DAVIT_DOCKER_SOCKET=$PROXY_SOCK" \
	"DAVIT_STOP_TIMEOUT=5" "DAVIT_JOB_TIMEOUT=300"
davit_start_backend "$T/davit.env" --no-frontend

# ----------------------------------------------------------------- helpers --
# slist: the services.list result
slist() {
	req services.list | jq -c .result
}
# sv SERVICE FIELD: one field of one service in services.list
sv() {
	slist | jq -r --arg s "$1" ".services[] | select(.service == \$s) | .$2"
}
# engine FIELD
engine() {
	slist | jq -r ".engine.$1"
}
# is SERVICE FIELD VALUE: for wait_for
is() {
	[ "$(sv "$1" "$2")" = "$3" ]
}
isnt() {
	[ "$(sv "$1" "$2")" != "$3" ]
}
engine_is() {
	[ "$(engine "$1")" = "$2" ]
}
# ms: a clock in milliseconds
ms() {
	echo $(($(date +%s%N) / 1000000))
}

# a subscriber for the whole test
start_bg events bash -c "(printf '%s\n' '{\"id\":1,\"op\":\"subscribe\"}'; sleep 3600) | socat -t 3600 - UNIX-CONNECT:$SOCK"
wait_for -t 10 grep -q '"subscribed":true' "$T/events.log" || fail "subscribe failed"

# -------------------------------------------------- status before anything --
wait_for -t 20 engine_is reachable true || fail "the engine never became reachable: $(slist)"
if scenario before_build; then
api=$(docker version --format '{{.Server.APIVersion}}')
want=$(awk -v v="$api" 'BEGIN { split(v, a, "."); print (a[2] + 0 > 41) ? "1.41" : v }')
s=$(slist)
assert_eq "$(jq -r .engine.api_version <<<"$s")" "$want" "negotiated API version (engine $api)"
assert_eq "$(jq -r .engine.error <<<"$s")" null "no engine error"
assert_eq "$(jq -r .engine.stale_ms <<<"$s")" 0 "not stale"
assert_eq "$(jq -r '[.services[].service] | join(",")' <<<"$s")" "web,worker" "order of DAVIT_SERVICES"
assert_eq "$(jq -r '[.services[].state] | join(",")' <<<"$s")" "missing,missing" "nothing runs yet"
assert_eq "$(jq -c '.services[0] | [.container, .id, .status, .health, .started_at, .image, .restarts, .exit_code]' <<<"$s")" \
	'[null,null,null,null,null,null,null,null]' "a missing service has no details"
pass "services.list before any build: reachable, API $want, both missing"
fi

# ------------------------------------------------------------ not allowed --
if scenario not_allowed; then
r=$(req service.restart '{"service":"db"}')
assert_eq "$(jq -r .error.code <<<"$r")" not_allowed "unlisted service: $r"
assert_contains "$r" "not in DAVIT_SERVICES"
r=$(req service.rebuild '{"service":"../web"}')
assert_eq "$(jq -r .error.code <<<"$r")" bad_request "a bad service name: $r"
r=$(req service.stop)
assert_eq "$(jq -r .error.code <<<"$r")" bad_request "no service: $r"
pass "an unlisted service is not_allowed, a malformed one bad_request"
fi

# --------------------------------------------------- rebuild: status after --
if scenario rebuild; then
j=$(run_job stack.rebuild)
assert_eq "$(jq -r .state <<<"$j")" succeeded "stack.rebuild: $j"
assert_contains "$(jq -r '.log[]' <<<"$j")" "-p $P build --force-rm"
assert_contains "$(jq -r '.log[]' <<<"$j")" "-p $P down"
assert_contains "$(jq -r '.log[]' <<<"$j")" "-p $P up -d"
assert_contains "$(jq -r '.log[]' <<<"$j")" "Successfully tagged $P-web"
wait_for is web state running || fail "web not running: $(slist)"
wait_for is worker state running || fail "worker not running: $(slist)"
wait_for -t 30 is web health healthy || fail "web never healthy: $(slist)"
s=$(slist)
web_id=$(sv web id)
worker_id=$(sv worker id)
[[ $web_id =~ ^[0-9a-f]{64}$ ]] || fail "web id: $web_id"
assert_eq "$web_id" "$(docker inspect -f '{{.Id}}' "$(docker ps -q --filter "label=com.docker.compose.project=$P" --filter label=com.docker.compose.service=web)")" "web id as docker says"
assert_eq "$(sv web image)" "$P-web" "web image"
assert_eq "$(sv worker health)" null "worker has no healthcheck"
assert_eq "$(sv web exit_code)" 0 "exit code"
assert_eq "$(sv web restarts)" 0 "restarts"
assert_contains "$(sv web status)" "Up " "web status"
assert_contains "$(sv web status)" "(healthy)" "web status says healthy"
assert_contains "$(sv web container)" "web" "container name"
[[ $(sv web started_at) =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$ ]] || fail "started_at: $(sv web started_at)"
pass "stack.rebuild: both running, web healthy, ids and details as the engine has them"
fi

# --------------------------------------------------------------- restart --
if scenario restart rebuild; then
web_started=$(sv web started_at)
sleep 1.1
j=$(run_job service.restart '{"service":"web"}')
assert_eq "$(jq -r .state <<<"$j")" succeeded "restart: $j"
assert_contains "$(jq -r '.log[]' <<<"$j")" "web: restarting"
wait_for isnt web started_at "$web_started" || fail "started_at did not change: $(slist)"
assert_eq "$(sv web id)" "$web_id" "restart keeps the container"
assert_eq "$(sv web state)" running "running after the restart"
pass "service.restart changes started_at ($web_started -> $(sv web started_at))"
fi

# ------------------------------------------------------- stop, start one --
if scenario stop_start rebuild; then
j=$(run_job service.stop '{"service":"worker"}')
assert_eq "$(jq -r .state <<<"$j")" succeeded "stop: $j"
wait_for is worker state exited || fail "worker not exited: $(slist)"
assert_contains "$(sv worker status)" "Exited (" "worker status"
assert_eq "$(sv web state)" running "web untouched by stopping worker"
assert_eq "$(docker inspect -f '{{.State.Status}}' "$worker_id")" exited "docker agrees"
j=$(run_job service.start '{"service":"worker"}')
assert_eq "$(jq -r .state <<<"$j")" succeeded "start: $j"
wait_for is worker state running || fail "worker not running again: $(slist)"
assert_eq "$(sv worker id)" "$worker_id" "same container"
pass "service.stop then service.start"
fi

# ----------------------------------------------------- stack stop, start --
if scenario stack_stop_start rebuild; then
j=$(run_job stack.stop)
assert_eq "$(jq -r .state <<<"$j")" succeeded "stack.stop: $j"
assert_contains "$(jq -r '.log[]' <<<"$j")" "web: stopping"
assert_contains "$(jq -r '.log[]' <<<"$j")" "worker: stopping"
wait_for is web state exited || fail "web not exited: $(slist)"
wait_for is worker state exited || fail "worker not exited: $(slist)"
j=$(run_job stack.start)
assert_eq "$(jq -r .state <<<"$j")" succeeded "stack.start: $j"
wait_for is web state running || fail "web not running: $(slist)"
wait_for is worker state running || fail "worker not running: $(slist)"
assert_eq "$(sv web id) $(sv worker id)" "$web_id $worker_id" "the same containers"
pass "stack.stop then stack.start"
fi

# ------------------------------------- service.rebuild recreates only one --
if scenario service_rebuild rebuild; then
printf 'LABEL davit.test.rebuild="%s"\n' "$P" >>"$T/app/worker/Dockerfile"
j=$(run_job service.rebuild '{"service":"worker"}')
assert_eq "$(jq -r .state <<<"$j")" succeeded "service.rebuild: $j"
assert_contains "$(jq -r '.log[]' <<<"$j")" "-p $P build --force-rm worker"
assert_contains "$(jq -r '.log[]' <<<"$j")" "-p $P up -d --no-deps worker"
wait_for isnt worker id "$worker_id" || fail "worker was not recreated: $(slist)"
wait_for is worker state running || fail "new worker not running: $(slist)"
assert_eq "$(sv web id)" "$web_id" "web not recreated"
new_worker_id=$(sv worker id)
assert_eq "$(docker inspect -f '{{index .Config.Labels "davit.test.rebuild"}}' "$new_worker_id")" "$P" "the new image"
worker_id=$new_worker_id
pass "service.rebuild worker: new worker container, web's unchanged"
fi

# ----------------------------------- a slow build: services.list still fast --
if scenario slow_build rebuild; then
printf 'LABEL davit.test.slow="%s"\nRUN ["/bin/busybox", "sleep", "6"]\n' "$P" >>"$T/app/worker/Dockerfile"
id=$(submit service.rebuild '{"service":"worker"}')
wait_for -t 30 bash -c "printf '%s\n' '{\"id\":1,\"op\":\"job.get\",\"args\":{\"job\":$id}}' | socat -t 5 - UNIX-CONNECT:$SOCK | grep -q davit.test.slow" ||
	fail "the slow build did not start"
# the compose child's environment: nothing of davit's
cpid=$(pgrep -f -- "[d]ocker-compose -p $P build --force-rm worker" | head -n 1)
[ -n "$cpid" ] || fail "no compose process found"
envs=$(tr '\0' '\n' <"/proc/$cpid/environ" | cut -d= -f1 | sort | tr '\n' ' ')
assert_eq "$envs" "DOCKER_HOST HOME LANG PATH " "compose's environment"
assert_eq "$(tr '\0' '\n' <"/proc/$cpid/environ" | grep ^DOCKER_HOST=)" "DOCKER_HOST=unix://$PROXY_SOCK" "compose uses davit's engine"
assert_eq "$(readlink "/proc/$cpid/cwd")" "$T/app" "compose runs in the workdir"
worst=0
for i in $(seq 1 20); do
	t0=$(ms)
	r=$(req services.list)
	t1=$(ms)
	assert_eq "$(jq -r '.result.services | length' <<<"$r")" 2 "services.list during the build"
	[ $((t1 - t0)) -le "$worst" ] || worst=$((t1 - t0))
done
st=$(req job.get "{\"job\":$id}" | jq -r .result.state)
assert_eq "$st" running "the build still runs after 20 calls"
# queued behind the build: an identical request is the same job
q1=$(submit service.restart '{"service":"worker"}')
q2=$(submit service.restart '{"service":"worker"}')
assert_eq "$q2" "$q1" "an identical job already queued is not queued twice"
assert_eq "$(req job.get "{\"job\":$q1}" | jq -r .result.state)" queued "it waits for the build"
[ "$worst" -lt 1000 ] || fail "services.list took $worst ms during a build"
j=$(job_wait "$id")
assert_eq "$(jq -r .state <<<"$j")" succeeded "slow rebuild: $j"
j=$(job_wait "$q1")
assert_eq "$(jq -r .state <<<"$j")" succeeded "the queued restart ran after the build: $j"
wait_for isnt worker id "$worker_id" || fail "worker was not recreated: $(slist)"
worker_id=$(sv worker id)
pass "during a build: 20 services.list calls, the slowest $worst ms (socat included); compose's env is PATH HOME LANG DOCKER_HOST; a duplicate job is not queued twice"
fi

# ------------------- a broken Dockerfile: stack.rebuild fails, app stays up --
if scenario broken_build rebuild; then
wait_for is worker state running || fail "worker not running: $(slist)"
cp "$T/app/web/Dockerfile" "$T/web.Dockerfile.good"
printf 'RUN ["/bin/busybox", "false"]\n' >>"$T/app/web/Dockerfile"
j=$(run_job stack.rebuild)
assert_eq "$(jq -r .state <<<"$j")" failed "a broken build fails: $j"
assert_contains "$(jq -r .error <<<"$j")" "compose build failed"
assert_contains "$(jq -r .error <<<"$j")" "left alone"
assert_eq "$(jq -r .exit <<<"$j")" 1 "exit status"
log=$(jq -r '.log[]' <<<"$j")
assert_contains "$log" 'RUN ["/bin/busybox", "false"]' "the build output is in the log"
assert_contains "$log" "non-zero code" "the build's own error is in the log"
assert_not_contains "$log" "-p $P down" "no down after a failed build"
sleep 1
assert_eq "$(sv web id) $(sv worker id)" "$web_id $worker_id" "the old containers"
assert_eq "$(sv web state) $(sv worker state)" "running running" "still running"
assert_eq "$(docker inspect -f '{{.State.Running}}' "$web_id")" true "docker agrees"
cp "$T/web.Dockerfile.good" "$T/app/web/Dockerfile"
pass "a broken Dockerfile: stack.rebuild failed with the build output, the app kept running"
fi

# -------------------------------------------------------------- the events --
if scenario events restart stop_start; then
assert_file_contains "$T/events.log" '"event":"job.log"'
assert_file_contains "$T/events.log" '"line":"web: restarting'
assert_file_contains "$T/events.log" '"event":"job.state"'
grep -q '"event":"service.state","data":{"project":"[^"]*","service":"worker","container":"[^"]*","id":"'"$worker_id"'","state":"running"' "$T/events.log" ||
	fail "no service.state for the new worker: $(grep service.state "$T/events.log" | tail -n 3)"
grep -q '"event":"service.state","data":{"project":"[^"]*","service":"worker",.*"state":"exited"' "$T/events.log" ||
	fail "no service.state for the stopped worker"
pass "subscribe: job.state, job.log and service.state events"
fi

# ----------------------------------------- removed behind davit's back --
if scenario removed rebuild; then
docker rm -f "$web_id" >/dev/null
wait_for -t 15 is web state missing || fail "web not missing: $(slist)"
assert_eq "$(sv web id)" null "no id"
assert_eq "$(sv worker state)" running "worker untouched"
grep -q '"event":"service.state","data":{"project":"[^"]*","service":"web","container":null,"id":null,"state":"missing"' "$T/events.log" ||
	fail "no service.state event for the removed web"
r=$(req service.start '{"service":"web"}')
j=$(job_wait "$(jq -r .result.job <<<"$r")")
assert_eq "$(jq -r .state <<<"$j")" failed "starting a missing service fails"
assert_contains "$(jq -r .error <<<"$j")" "has no container"
pass "docker rm -f behind davit's back: web missing, from the events stream"
fi

# -------------------------------------------- the engine away, then back --
if scenario engine_away removed; then
stop_proxy
wait_for -t 15 engine_is reachable false || fail "still reachable: $(slist)"
sleep 1.2
s=$(slist)
assert_ne "$(jq -r .engine.error <<<"$s")" null "an error is given"
stale=$(jq -r .engine.stale_ms <<<"$s")
[ "$stale" -ge 1000 ] || fail "stale_ms $stale"
assert_eq "$(jq -r '.services[1].state' <<<"$s")" running "the last known state is kept"
r=$(req service.restart '{"service":"worker"}')
assert_eq "$(jq -r .error.code <<<"$r")" unavailable "an action while the engine is away: $r"
assert_contains "$r" "Docker engine is unreachable"
r=$(req stack.rebuild)
assert_eq "$(jq -r .error.code <<<"$r")" unavailable "a rebuild while the engine is away: $r"
# changed while davit cannot see it: the resync on reconnection shows it
docker stop -t 5 "$worker_id" >/dev/null
start_proxy
wait_for -t 45 engine_is reachable true || fail "never reachable again: $(slist)"
s=$(slist)
assert_eq "$(jq -r .engine.stale_ms <<<"$s")" 0 "fresh again"
assert_eq "$(jq -r .engine.error <<<"$s")" null "no error"
assert_eq "$(jq -r '.services[1].state' <<<"$s")" exited "the change made while away"
assert_eq "$(jq -r '.services[0].state' <<<"$s")" missing "web still missing"
assert_file_contains "$T/backend.log" "Docker engine unreachable"
pass "engine unreachable (stale ${stale} ms, actions unavailable), then back by itself with a full resync"
fi

# ----------------------------------------------------------- the records --
if scenario records restart stop_start service_rebuild; then
assert_file_contains "$T/audit.jsonl" '"kind":"docker.restart"'
assert_file_contains "$T/audit.jsonl" '"kind":"docker.stop"'
assert_file_contains "$T/audit.jsonl" '"kind":"docker.start"'
assert_file_contains "$T/audit.jsonl" '"kind":"docker.rebuild"'
assert_file_contains "$T/audit.jsonl" '"kind":"docker.stack_rebuild"'
grep -q "\"kind\":\"docker.restart\".*\"id\":\"$web_id\"" "$T/audit.jsonl" || fail "the restart's audit record names the container"
assert_file_not_contains "$T/audit.jsonl" test-password
assert_file_not_contains "$T/backend.log" test-password
assert_file_not_contains "$T/events.log" test-password
fi

davit_stop_backend
assert_eq "$DAVIT_BACKEND_STATUS" 0 "the backend stops cleanly"
pass "audit records of every Docker action; no secret anywhere; clean stop"

# ------------------------------------ a build over DAVIT_JOB_TIMEOUT is killed --
if scenario job_timeout engine_away; then
write_davit_env "$T/davit2.env" "DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web,worker" \
	"DAVIT_COMPOSE_PROJECT=$P" "DAVIT_DOCKER_SOCKET=$PROXY_SOCK" \
	"DAVIT_JOB_TIMEOUT=3"
davit_start_backend "$T/davit2.env" --no-frontend
wait_for -t 20 engine_is reachable true || fail "not reachable after the restart: $(slist)"
printf 'LABEL davit.test.timeout="%s"\nRUN ["/bin/busybox", "sleep", "20"]\n' "$P" >>"$T/app/worker/Dockerfile"
t0=$SECONDS
j=$(run_job service.rebuild '{"service":"worker"}')
assert_eq "$(jq -r .state <<<"$j")" failed "a build over the job timeout fails: $j"
assert_eq "$(jq -r .error <<<"$j")" "timed out after 3 s" "the job's error"
[ $((SECONDS - t0)) -lt 15 ] || fail "the timed-out job took $((SECONDS - t0)) s"
assert_not_contains "$(jq -r '.log[]' <<<"$j")" "up -d" "no up after a killed build"
wait_for -t 10 bash -c "! pgrep -f -- '[d]ocker-compose -p $P build' >/dev/null" || fail "compose still runs"
assert_eq "$(sv worker state)" exited "the worker as it was"
davit_stop_backend
assert_eq "$DAVIT_BACKEND_STATUS" 0 "the backend stops cleanly"
pass "a build over DAVIT_JOB_TIMEOUT: killed with its process group, the job failed"
fi
