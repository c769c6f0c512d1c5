#!/usr/bin/env bash
# The backend's socket and protocol, driven with socat as a person would:
# hello, project.get, malformed JSON, unknown op, mistyped and unknown fields,
# an oversize line, random bytes, peers that must be refused, many clients at
# once, the audit log, and a clean shutdown; the backend answers throughout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

chmod 0711 "$T"
ENV=$T/davit.env
write_davit_env "$ENV" \
	"DAVIT_SOCKET=$T/run/backend.sock" \
	"DAVIT_WORKDIR=$T/app" \
	"DAVIT_SERVICES=web,worker" \
	"DAVIT_REPO_URL=https://x-access-token:ghp_notreallyatoken@github.com/acme/shop.git" \
	"DAVIT_GITHUB_TOKEN=ghp_tokenvalue_must_not_leak" \
	"DAVIT_WEBHOOK_SECRET=webhook-secret-must-not-leak" \
	"DAVIT_DOCKER_SOCKET=$T/no-docker.sock"
davit_start_backend "$ENV" --no-frontend

# ------------------------------------------------------------- basics --
if scenario basics; then
# the socket: 0660 root:davit in a 0750 directory
assert_eq "$(stat -c '%a %U %G' "$T/run/backend.sock")" "660 root davit" "socket mode"
assert_eq "$(stat -c '%a %U %G' "$T/run")" "750 root davit" "socket dir mode"

r=$(proto '{"id":1,"op":"hello"}')
assert_eq "$r" '{"id":1,"ok":true,"result":{"protocol":1,"version":"0.1.0","role":"root"}}' "hello"

r=$(proto '{"id":2,"op":"project.get"}')
assert_contains "$r" '"ok":true' "project.get ok"
assert_contains "$r" '"repo":"https://github.com/acme/shop.git"' "repo URL without credentials"
assert_contains "$r" '"services":["web","worker"]' "services listed"
assert_contains "$r" '"compose_project":"app"' "compose project defaults to the workdir's name"
assert_contains "$r" '"github_repo":"acme/shop"' "github repo derived"
assert_not_contains "$r" 'ghp_' "no token in project.get"
assert_not_contains "$r" 'webhook-secret' "no webhook secret in project.get"
fi

# ---------------------------------------------------------- bad requests --
if scenario errors; then
r=$(proto 'this is not json')
assert_contains "$r" '"id":null,"ok":false,"error":{"code":"bad_json"' "malformed JSON"
r=$(proto '{"id":3,"op":"reboot"}')
assert_contains "$r" '{"id":3,"ok":false,"error":{"code":"unknown_op"' "unknown op"
r=$(proto '{"id":4,"op":"job.get","args":{"job":"seven"}}')
assert_contains "$r" '{"id":4,"ok":false,"error":{"code":"bad_request","message":"field \"job\": expected an integer"' "mistyped field"
r=$(proto '{"id":5,"op":"hello","args":{"verbose":true}}')
assert_contains "$r" '"code":"bad_request","message":"unknown field \"verbose\" for op hello"' "unknown field"
r=$(proto '{"id":6,"op":"job.get"}')
assert_contains "$r" '"code":"bad_request","message":"missing field \"job\"' "missing field"
r=$(proto '{"id":7,"op":"service.restart","args":{"service":"../../etc"}}')
assert_contains "$r" '"code":"bad_request"' "service name with a path"
r=$(proto '{"id":8,"op":"service.restart","args":{"service":"db"}}')
assert_contains "$r" '"id":8,"ok":false' "unlisted service refused"
r=$(proto '{"id":9,"op":"job.get","args":{"job":123456}}')
assert_contains "$r" '"code":"not_found"' "unknown job"
r=$(proto '{"id":10,"op":"frontend.config"}')
assert_contains "$r" '"code":"not_allowed"' "frontend.config is for the frontend only"
assert_not_contains "$r" 'webhook-secret' "no secret in the refusal"
fi

if scenario bad_line; then
# a bad line in a good connection: an error, then the connection goes on
r=$(printf '%s\n' '{"id":11,' '{"id":12,"op":"hello"}' | socat -t 5 - "UNIX-CONNECT:$SOCK")
assert_contains "$r" '"code":"bad_json"' "bad line answered"
assert_contains "$r" '{"id":12,"ok":true' "same connection goes on"
fi

if scenario oversize; then
# an oversize line: an error and the connection is closed
r=$(python3 - "$SOCK" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
try:
    s.sendall(b"x" * 70000 + b'\n{"id":13,"op":"hello"}\n')
except OSError:
    pass
s.settimeout(5)
out = b""
while True:
    try:
        d = s.recv(65536)
    except OSError:
        break
    if not d:
        break
    out += d
print(out.decode())
PY
)
assert_contains "$r" '"code":"too_large"' "oversize line refused"
assert_not_contains "$r" '"id":13' "connection closed after the oversize line"
fi

if scenario random_bytes; then
# random bytes, with and without newlines
for i in 1 2 3; do
	head -c 20000 /dev/urandom | socat -t 3 - "UNIX-CONNECT:$SOCK" >/dev/null 2>&1 || true
done
head -c 200000 /dev/urandom | tr -d '\n' | socat -t 3 - "UNIX-CONNECT:$SOCK" >/dev/null 2>&1 || true

# a request cut off in the middle, then the peer goes away
printf '{"id":14,"op":"hel' | socat -t 1 - "UNIX-CONNECT:$SOCK" >/dev/null 2>&1 || true
fi

# ----------------------------------------------------------------- peers --
if scenario peers; then
# peers that are not root or DAVIT_USER: nobody cannot even open the socket;
# a member of the group passes the file mode and is refused by SO_PEERCRED
if runuser -u nobody -- socat -t 2 - "UNIX-CONNECT:$SOCK" </dev/null 2>/dev/null; then
	fail "uid nobody could connect"
fi
id davit-intruder >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin -G davit davit-intruder
r=$(proto_as davit-intruder '{"id":15,"op":"hello"}' 2>&1 || true)
assert_not_contains "$r" '"ok":true' "group member that is not DAVIT_USER refused"
assert_file_contains "$T/backend.log" "refused peer uid $(id -u davit-intruder)"
# DAVIT_USER itself is served, as the frontend
r=$(proto_as davit '{"id":16,"op":"hello"}')
assert_contains "$r" '"role":"frontend"' "DAVIT_USER served as the frontend"
r=$(proto_as davit '{"id":17,"op":"frontend.config"}')
assert_not_contains "$r" '"code":"not_allowed"' "frontend.config allowed for the frontend"
fi

# -------------------------------------------------------------- many at once --
if scenario concurrent; then
# many clients at once
pids=()
for i in $(seq 1 30); do
	(r=$(proto "{\"id\":$i,\"op\":\"hello\"}"); [[ $r == *"\"id\":$i,\"ok\":true"* ]]) &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || fail "a concurrent client got no answer"
done

# pipelined requests on one connection are answered in order
r=$(for i in 1 2 3 4 5; do printf '{"id":%d,"op":"hello"}\n' "$i"; done | socat -t 5 - "UNIX-CONNECT:$SOCK" | grep -o '"id":[0-9]*' | tr '\n' ' ')
assert_eq "$r" '"id":1 "id":2 "id":3 "id":4 "id":5 ' "pipelined replies in order"
fi

if scenario half_closed; then
# a peer that shuts down its writing side after many requests (what socat
# does at the end of its input) still gets every reply: 8,000 of them, more
# than the backend queues for one peer before it stops reading its requests
python3 -c 'import sys; sys.stdout.write("".join("{\"id\":%d,\"op\":\"project.get\"}\n" % i for i in range(1, 8001)))' >"$T/many.txt"
socat -t 20 - "UNIX-CONNECT:$SOCK" <"$T/many.txt" >"$T/many.out"
assert_eq "$(grep -c '"ok":true' "$T/many.out")" 8000 "replies to a half-closed peer"
[ "$(wc -c <"$T/many.out")" -gt $((1024 * 1024)) ] || fail "the replies were not over CTL_MAX_OUTPUT: the backpressure was not exercised"
assert_eq "$(tail -n 1 "$T/many.out" | jq -r .id)" 8000 "in order, to the last"
fi

# still answering after all that
r=$(proto '{"id":99,"op":"hello"}')
assert_contains "$r" '{"id":99,"ok":true' "backend still answers"

# ------------------------------------------------------------- audit --
if scenario audit errors peers; then
# the audit log: one JSON line per request, with peer, op, result, duration
# (read-only ops are counted in a summary instead: checked after the stop)
assert_file_contains "$T/audit.jsonl" '"op":"frontend.config","id":17,'
assert_file_contains "$T/audit.jsonl" '"op":null,"id":3,"args":null,"result":"unknown_op"'
assert_file_contains "$T/audit.jsonl" '"result":"bad_json"'
n=$(grep -c . "$T/audit.jsonl")
jq -e . "$T/audit.jsonl" >/dev/null || fail "audit log is not JSON lines"
[ "$n" -ge 5 ] || fail "audit log has only $n lines"
for secret in ghp_tokenvalue_must_not_leak webhook-secret-must-not-leak ghp_notreallyatoken test-password; do
	assert_file_not_contains "$T/audit.jsonl" "$secret"
	assert_file_not_contains "$T/backend.log" "$secret"
done
# nor on the command line of the backend
assert_not_contains "$(tr '\0' ' ' </proc/"$DAVIT_BACKEND_PID"/cmdline)" "test-password" "cmdline"
fi

if scenario second_backend; then
# a second backend on the same socket refuses to start
if timeout 10 "$DAVIT_BUILD/backend/davit-backend" --config "$ENV" --no-frontend >"$T/second.log" 2>&1; then
	fail "a second backend started on a live socket"
fi
assert_file_contains "$T/second.log" "another backend is listening"
fi

# -------------------------------------------------------------- shutdown --
if scenario shutdown concurrent half_closed; then
# SIGTERM: clean exit, socket removed
davit_stop_backend
assert_eq "$DAVIT_BACKEND_STATUS" 0 "exit status after SIGTERM"
s=$(grep '"kind":"requests.summary"' "$T/audit.jsonl" | tail -n 1)
[ "$(jq -r .ok.hello <<<"$s")" -ge 30 ] && [ "$(jq -r '.ok["project.get"]' <<<"$s")" -ge 8000 ] ||
	fail "the audit summary at shutdown: $s"
[ ! -e "$T/run/backend.sock" ] || fail "socket left behind"
fi

if scenario stale_socket shutdown; then
# a stale socket file is replaced
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$T/run/backend.sock"
davit_start_backend "$ENV" --no-frontend
listening() { [ "$(grep -c 'listening on' "$T/backend.log")" -ge 2 ]; }
wait_for listening || fail "backend did not listen after a stale socket"
assert_file_contains "$T/backend.log" "replaced stale socket"
assert_contains "$(proto '{"id":1,"op":"hello"}')" '"ok":true' "hello after replacing a stale socket"
davit_stop_backend
fi

# ------------------------------------------------------ configuration --
if scenario config_errors; then
# configuration errors: a message naming the key and line, non-zero exit
write_env "$T/bad.env" "DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web" "DAVIT_PASSWORD=x" "DAVIT_STOP_TIMEOUT=soon"
if "$DAVIT_BUILD/backend/davit-backend" --config "$T/bad.env" >"$T/bad.log" 2>&1; then
	fail "a bad .env was accepted"
fi
assert_file_contains "$T/bad.log" "bad.env:4: DAVIT_STOP_TIMEOUT"
# a state directory others may write to is refused (root writes files there)
mkdir -p "$T/openstate"
chmod 0777 "$T/openstate"
write_davit_env "$T/openstate.env" "DAVIT_SOCKET=$T/run2/backend.sock" "DAVIT_WORKDIR=$T/app" \
	"DAVIT_SERVICES=web" "DAVIT_STATE_DIR=$T/openstate"
if timeout 10 "$DAVIT_BUILD/backend/davit-backend" --config "$T/openstate.env" --no-frontend >"$T/openstate.log" 2>&1; then
	fail "a world-writable DAVIT_STATE_DIR was accepted"
fi
assert_file_contains "$T/openstate.log" "must belong to root and be writable by root only"
fi
[ -z "${DAVIT_BACKEND_PID:-}" ] || davit_stop_backend
pass "protocol"
