#!/usr/bin/env bash
# Notifications of critical conditions outside jobs, to a receiver on
# 127.0.0.1: the Docker engine unreachable for DAVIT_NOTIFY_DOCKER_DOWN
# seconds (davit starts against a socket path where no engine answers yet),
# then reachable again (a socat relay to the real engine appears there), and
# a service that restarts over and over (restart: always, exits after a
# second). Each notification carries text and content, names the project,
# and holds no secret. Failed jobs are rate-limited per kind and service:
# service.start of two services without a container (ghost, phantom) is
# notified once each, ghost's repeated failures within the minute are held
# back and then sent as one with the count. The audit log's summary of the
# read-only requests is written by its one-minute timer.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ensure_docker
command -v socat >/dev/null || fail "socat is needed"
chmod 0711 "$T"
TOKEN=ghp_notifytest_token_must_not_leak
SECRET="notify test secret $RANDOM"
PROJECT=$(unique_project dvn)
PORT=$(unused_port) demo_app "$T/app" "$PROJECT"
# a third service that exits after a second, restarted by Docker every time
cat >>"$T/app/docker-compose.yml" <<YML
  crash:
    build:
      context: .
      dockerfile: worker/Dockerfile
      labels:
        davit.demo.project: "$PROJECT"
    image: $PROJECT-crash
    network_mode: none
    restart: always
    command: ["/bin/busybox", "sh", "-c", "/bin/busybox sleep 1; exit 3"]
YML
( cd "$T/app" && compose -p "$PROJECT" up -d --build ) >"$T/compose-up.log" 2>&1 ||
	fail "compose up: $(tail -n 20 "$T/compose-up.log")"

NOTIFYPORT=$(unused_port)
start_bg receiver python3 "$DAVIT_SRC/tests/integration/notify/receiver.py" "$NOTIFYPORT" "$T/notifications.jsonl"
RECEIVER_PID=$BG_PID
wait_for port_open "$NOTIFYPORT" || fail "notification receiver did not start"
: >"$T/notifications.jsonl"

ENV=$T/davit.env
write_davit_env "$ENV" \
	"DAVIT_SOCKET=$T/run/backend.sock" \
	"DAVIT_WORKDIR=$T/app" \
	"DAVIT_SERVICES=web,worker,crash,ghost,phantom" \
	"DAVIT_COMPOSE_PROJECT=$PROJECT" \
	"DAVIT_DOCKER_SOCKET=$T/docker.sock" \
	"DAVIT_GITHUB_TOKEN=$TOKEN" \
	"DAVIT_WEBHOOK_SECRET=\"$SECRET\"" \
	"DAVIT_NOTIFY_URL=http://127.0.0.1:$NOTIFYPORT/hook" \
	"DAVIT_NOTIFY_DOCKER_DOWN=2" \
	"DAVIT_REPO_URL=file://$T/app.origin.git" \
	"DAVIT_DEPLOY_VERIFY=8"
davit_start_backend "$ENV" --no-frontend
kind_sent() { grep -q "\"kind\":\"$1\"" "$T/notifications.jsonl"; }
note() { jq -c --arg k "$1" 'select(.kind == $k)' "$T/notifications.jsonl" | tail -n 1; }

# three refused webhook deliveries reported at once: the first is sent, the
# other two are held back for the rest of the minute (checked at the end)
for reason in first second third; do
	r=$(proto "{\"id\":1,\"op\":\"webhook.rejected\",\"args\":{\"reason\":\"test $reason\",\"client\":\"127.0.0.9\"}}")
	assert_contains "$r" '"recorded":true' "webhook.rejected $reason"
done

# --- the engine unreachable, then back ---------------------------------------
if scenario engine; then
wait_for -t 20 kind_sent docker.unreachable || fail "no docker.unreachable notification: $(cat "$T/notifications.jsonl")"
n=$(note docker.unreachable)
jq -e '(.text | type) == "string" and .text == .content' <<<"$n" >/dev/null ||
	fail "text and content missing or different: $n"
assert_contains "$n" "$PROJECT" "the notification names the project"
assert_contains "$n" "unreachable for" "the notification says what is wrong"
r=$(proto '{"id":1,"op":"services.list"}')
assert_eq "$(jq -r '.result.engine.reachable' <<<"$r")" false "services.list says the engine is unreachable"
pass "Docker unreachable for DAVIT_NOTIFY_DOCKER_DOWN seconds: notified"

start_bg relay socat "UNIX-LISTEN:$T/docker.sock,fork,mode=600" UNIX-CONNECT:/var/run/docker.sock
wait_for -t 60 kind_sent docker.reachable || fail "no docker.reachable notification: $(cat "$T/notifications.jsonl")"
r=$(proto '{"id":1,"op":"services.list"}')
assert_eq "$(jq -r '.result.services | map(.service) | join(",")' <<<"$r")" "web,worker,crash,ghost,phantom" "services.list after recovery"
pass "the engine back: notified, services listed"
fi

# --- failed jobs: per kind and service -------------------------------------
if scenario failed_jobs engine; then
# ghost and phantom have no container: service.start fails at once
start_fails() {
	local r id st i
	r=$(proto "{\"id\":1,\"op\":\"service.start\",\"args\":{\"service\":\"$1\",\"by\":\"$2\"}}")
	id=$(jq -er .result.job <<<"$r") || fail "service.start $1: $r"
	for ((i = 0; i < 100; i++)); do
		st=$(proto "{\"id\":1,\"op\":\"job.get\",\"args\":{\"job\":$id}}" | jq -r .result.state)
		case $st in succeeded | failed) break ;; esac
		sleep 0.2
	done
	assert_eq "$st" failed "service.start $1 ($2)"
}
start_fails ghost g1
start_fails phantom p1
start_fails ghost g2
start_fails ghost g3
start_notes() { jq -c 'select(.kind == "service.start.failed")' "$T/notifications.jsonl"; }
wait_for -t 20 sh -c "[ \$(grep -c '\"kind\":\"service.start.failed\"' '$T/notifications.jsonl') -ge 2 ]" ||
	fail "no service.start.failed notifications: $(cat "$T/notifications.jsonl")"
assert_eq "$(start_notes | jq -r '.service' | sort | tr '\n' ' ')" "ghost phantom " "one for each service, the rest held back"
assert_eq "$(start_notes | jq -r '.held_back' | tr '\n' ' ')" "0 0 " "nothing held back before them"
pass "failed jobs of two services: one notification each"
fi

# --- a service in a restart loop -------------------------------------------
if scenario restart_loop engine; then
wait_for -t 60 kind_sent service.restarting || fail "no service.restarting notification: $(cat "$T/notifications.jsonl")"
n=$(note service.restarting)
assert_contains "$n" "service crash restarted" "the restart loop names the service"
assert_eq "$(jq -r .service <<<"$n")" crash "and says it in its own field"
assert_not_contains "$n" "service web" "web is not in a loop"
r=$(proto '{"id":1,"op":"services.list"}')
[ "$(jq -r '.result.services[] | select(.service == "crash") | .restarts' <<<"$r")" -ge 3 ] ||
	fail "crash's restart count: $r"
# one notification per loop, not one per restart
sleep 4
assert_eq "$(jq -r 'select(.kind == "service.restarting") | .kind' "$T/notifications.jsonl" | wc -l)" 1 "one notification for the loop"
pass "a service restarting over and over: notified once"
fi

# --- a deploy is verified over time: a crash-looping service fails it ------
if scenario deploy_verify engine; then
r=$(proto '{"id":1,"op":"deploy","args":{"by":"t_61"}}')
job=$(jq -r .result.job <<<"$r")
[[ $job =~ ^[0-9]+$ ]] || fail "deploy over the socket: $r"
st=
for ((i = 0; i < 240; i++)); do
	st=$(proto "{\"id\":1,\"op\":\"job.get\",\"args\":{\"job\":$job}}" | jq -r .result.state)
	case $st in succeeded | failed) break ;; esac
	sleep 0.5
done
assert_eq "$st" failed "a deploy with a service in a restart loop fails its verify step"
log=$(proto "{\"id\":1,\"op\":\"job.get\",\"args\":{\"job\":$job}}")
assert_contains "$log" "not ready and steady within DAVIT_DEPLOY_VERIFY" "the verify failure is named"
assert_contains "$log" "started by socket t_61" "trigger and requester in the log"
hist=$(proto '{"id":1,"op":"deploys.list"}')
assert_eq "$(jq -r '.result[0].trigger + " " + .result[0].by + " " + .result[0].state' <<<"$hist")" "socket t_61 failed" "history of the deploy"
assert_eq "$(jq -c '[.result[0].steps[] | [.name, .ok]]' <<<"$hist")" '[["fetch",true],["pull",true],["rebuild",true],["verify",false]]' "its steps"
wait_for -t 30 kind_sent deploy.failed || fail "no deploy.failed notification: $(cat "$T/notifications.jsonl")"
pass "deploy verify watches the services over time; a failed deploy is notified"
fi

# the rate-limited kind: one at once, the others when the minute is over
if scenario held_rejected; then
rejected() { grep -c '"kind":"webhook.rejected"' "$T/notifications.jsonl" || true; }
wait_for -t 75 sh -c "[ \$(grep -c '\"kind\":\"webhook.rejected\"' '$T/notifications.jsonl') -ge 2 ]" ||
	fail "the held-back webhook.rejected never came: $(grep webhook.rejected "$T/notifications.jsonl")"
assert_eq "$(rejected)" 2 "webhook.rejected: the first at once, the rest in one more"
n=$(note webhook.rejected)
assert_contains "$n" "test third" "the held-back notification has the newest text"
assert_eq "$(jq -r .held_back <<<"$n")" 1 "and counts the other one held back"
pass "a rate-limited kind: what was held back is sent when its minute is over"
fi

# ghost's two later failures: one more notification, when its minute is over
if scenario held_failed failed_jobs; then
wait_for -t 75 sh -c "[ \$(grep -c '\"kind\":\"service.start.failed\"' '$T/notifications.jsonl') -ge 3 ]" ||
	fail "the held-back service.start.failed never came: $(start_notes)"
n=$(start_notes | tail -n 1)
assert_eq "$(jq -r .service <<<"$n")" ghost "the held-back one is ghost's"
assert_eq "$(jq -r .held_back <<<"$n")" 1 "it counts the other one held back"
assert_contains "$(jq -r .text <<<"$n")" "service.start ghost failed" "its text"
assert_contains "$(jq -r .text <<<"$n")" "1 like it" "and says how many more"
assert_eq "$(start_notes | wc -l)" 3 "three notifications for four failures"
pass "a service failing again within the minute: held back, then sent with the count"
fi

# the audit log: the read-only requests of this run (job.get, services.list)
if scenario audit_summary; then
# are in summary lines written by the minute's timer, not a line each
wait_for -t 75 grep -q '"kind":"requests.summary"' "$T/audit.jsonl" ||
	fail "no audit summary after more than a minute"
s=$(grep '"kind":"requests.summary"' "$T/audit.jsonl" | head -n 1)
since=$(date -d "$(jq -r .since <<<"$s")" +%s)
at=$(date -d "$(jq -r .time <<<"$s")" +%s)
[ $((at - since)) -ge 59 ] || fail "the summary came $((at - since)) s after its first request: $s"
[ "$(jq -r '.ok["job.get"]' <<<"$s")" -ge 1 ] || fail "job.get not counted: $s"
assert_file_not_contains "$T/audit.jsonl" '"op":"job.get"'
pass "the audit log counts read-only requests in a summary line a minute"
fi

if scenario no_secret; then
for secret in "$TOKEN" "$SECRET" test-password; do
	assert_file_not_contains "$T/notifications.jsonl" "$secret"
	assert_file_not_contains "$T/backend.log" "$secret"
done
pass "notifications hold no secret"
fi

# a receiver that takes the connection and never answers does not hold up
if scenario shutdown engine; then
# the shutdown (a send in progress is cut short)
stop_pid "$RECEIVER_PID"
wait_for -t 10 sh -c "! (exec 3<>/dev/tcp/127.0.0.1/$NOTIFYPORT) 2>/dev/null" || fail "receiver still up"
start_bg silent python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)' "$NOTIFYPORT"
wait_for port_open "$NOTIFYPORT" || fail "silent receiver did not start"
r=$(proto '{"id":1,"op":"webhook.rejected","args":{"reason":"test","client":"127.0.0.9"}}')
assert_contains "$r" '"recorded":true' "webhook.rejected recorded"
# and a deploy running at shutdown is recorded as interrupted
r=$(proto '{"id":1,"op":"deploy"}')
job=$(jq -r .result.job <<<"$r")
sleep 1
davit_stop_backend 5
assert_eq "$DAVIT_BACKEND_STATUS" 0 "backend exit status"
assert_eq "$(tail -n 1 "$T/state/app/deploys.jsonl" | jq -r '.job, .state' | tr '\n' ' ')" "$job interrupted " "a deploy cut by the shutdown is in the history"
pass "shutdown does not wait for a receiver that does not answer; a running deploy is recorded as interrupted"
fi
