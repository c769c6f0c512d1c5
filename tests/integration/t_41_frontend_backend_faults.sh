#!/usr/bin/env bash
# davit-frontend against a scripted fake backend (fake_backend.py) that
# floods events and misbehaves: every browser stream either gets an event or
# counts it in "missed" (a stream that stops reading loses events, not the
# frontend's memory); the backend's own "missed" reaches the browsers; events
# the API does not know are not passed on; an "internal" error is 502; a
# reply to an id nobody asked for is ignored; a line that is not a reply
# makes the frontend drop the link (503) and reconnect by itself. The
# backend's engine.state reaches the browsers and /api/state at once.
# Lifetimes: many clients go away (FIN or RST) while their API call, login
# or webhook delivery waits for a slow reply; the replies then arrive, or the
# link drops under them: no sanitizer report, the frontend still answers,
# and a login whose client left still counts for throttling. Bodies: the
# API's limit (64 KiB) and the webhook's (25 MB, at most 4 that large at
# once) are enforced from the Content-Length, before the body is read; a
# webhook the backend is slow to accept gets 504 in time for GitHub.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

frontend_needs

FLOOD=20000
SLOW=1.5
LATE=9
WEBHOOK_SECRET="fake hook secret $RANDOM"
export FLOOD SLOW LATE WEBHOOK_SECRET
PORT=$(unused_port)
URL=http://127.0.0.1:$PORT
mkdir -p "$T/run"
chmod 0755 "$T/run"
FAKE=$T/run/fake.sock
start_fake() {
	rm -f "$FAKE"
	start_bg fake python3 "$(dirname "$0")/fake_backend.py" "$FAKE" "127.0.0.1:$PORT"
	FAKE_PID=$BG_PID
	wait_for -t 10 test -S "$FAKE" || fail "the fake backend did not start: $(cat "$T/fake.log")"
}
start_fake
_SAN_LOGS+=("$T/frontend.log")
start_bg frontend "$FE_BIN" --socket "$FAKE" --user davit -v
FE_PID=$BG_PID
count() { grep -ac -- "$1" "$2" || true; }           # count PATTERN FILE
count_is() { [ "$(count "$2" "$3")" -eq "$1" ]; }   # count_is N PATTERN FILE
wait_for -t 20 backend_up || fail "frontend not up: $(tail -n 20 "$T/frontend.log")"

curl -s -c "$T/jar" -X POST -H 'Content-Type: application/json' \
	--data-binary '{"password":"pw"}' "$URL/api/login" >"$T/login.json"
CSRF=$(jq -r .csrf "$T/login.json")
SID=$(awk '$6 == "davit_session" { print $7 }' "$T/jar")
[ -n "$SID" ] || fail "login failed: $(cat "$T/login.json")"
post() { # post PATH: prints the status
	curl -s -o "$T/post.out" -w '%{http_code}' --max-time 60 -b "$T/jar" -X POST \
		-H "X-Davit-CSRF: $CSRF" "$URL$1"
}
pass "frontend linked to the fake backend, logged in"

# a fast stream, read by the scenarios that follow (set-up)
start_bg fast curl -sN --max-time 120 -b "$T/jar" "$URL/api/events"
wait_for -t 10 grep -q '^event: backend' "$T/fast.log" || fail "the fast stream did not start"

# ------------------------------------------------ a fast and a slow stream --
if scenario flood; then
cat >"$T/slow.py" <<'PY'
import os, socket, sys, time
port, sid, out, go = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
s.sendall(("GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
           "Cookie: davit_session=%s\r\n\r\n" % (port, sid)).encode())
data = b""
while b'data: {"up":true}' not in data:
    data += s.recv(4096)
open(out + ".ready", "w").close()
while not os.path.exists(go):          # not reading: the frontend must cope
    time.sleep(0.1)
s.settimeout(10)
while b"event: job.state" not in data:
    d = s.recv(65536)
    if not d:
        break
    data += d
open(out, "wb").write(data)
PY
start_bg slow python3 "$T/slow.py" "$PORT" "$SID" "$T/slow.out" "$T/go"
wait_for -t 10 test -e "$T/slow.out.ready" || fail "the slow stream did not start"

# delivered + reported missing = sent, for both
account() { # account FILE: prints "delivered missed"
	local got missed
	got=$(grep -ac '^event: job.log' "$1" || true)
	missed=$({ grep -a -A1 '^event: missed' "$1" || true; } |
		sed -n 's/^data: {"count":\([0-9]*\)}.*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
	echo "$got $missed"
}
fast_done() { # the whole flood reached the fast stream, or was counted missed
	local g m
	read -r g m < <(account "$T/fast.log")
	[ $((g + m)) -ge "$FLOOD" ]
}
code=$(post /api/git/pull)
assert_eq "$code" 202 "POST /api/git/pull (the flood)"
# the flood is over for the frontend before the slow reader resumes, so that
# what the slow stream shows next is deterministic: its buffer, "missed", and
# the job.state that follows
wait_for -t 60 fast_done || fail "the flood did not reach the fast stream: $(account "$T/fast.log")"
fe_rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$FE_PID/status")
touch "$T/go"
sleep 1
code=$(post /api/git/fetch)
assert_eq "$code" 202 "POST /api/git/fetch (a job.state after the flood)"
wait_for -t 20 test -s "$T/slow.out" || fail "the slow stream got nothing after resuming"
wait_for -t 20 grep -q '^event: job.state' "$T/fast.log" || fail "the fast stream did not get the job.state"
read -r fgot fmissed < <(account "$T/fast.log")
read -r sgot smissed < <(account "$T/slow.out")
assert_eq $((fgot + fmissed)) "$FLOOD" "fast stream: delivered $fgot + missed $fmissed"
assert_eq $((sgot + smissed)) "$FLOOD" "slow stream: delivered $sgot + missed $smissed"
[ "$smissed" -gt 0 ] || fail "the slow stream missed nothing: the bound did not apply"
# the order of a stream: missed comes before the event that follows it
assert_contains "$(grep -a '^event:' "$T/slow.out" | tail -n 2 | tr '\n' ' ')" \
	"event: missed event: job.state" "missed announced before the next event"
# (a sanitizer build keeps freed memory in quarantine: no figure to check)
if ! ldd "$FE_BIN" | grep libasan >/dev/null; then
	[ "$fe_rss" -lt 16384 ] || fail "frontend at ${fe_rss} kB after the flood"
fi
pass "flood of $FLOOD events: fast stream $fgot + $fmissed missed, slow stream $sgot + $smissed missed; frontend ${fe_rss} kB"
fi

# ------------------------------------------- the backend's events, filtered --
if scenario events_filtered; then
code=$(post /api/deploy)
assert_eq "$code" 202 "POST /api/deploy"
wait_for -t 10 grep -q 'data: {"count":7}' "$T/fast.log" || fail "the backend's missed count did not reach the browser"
sleep 0.5
assert_file_not_contains "$T/fast.log" "secret.internal"
assert_file_not_contains "$T/fast.log" "must-not-pass"
pass "the backend's \"missed\" reaches the browsers with its count; unknown events do not"
fi

# ----------------------------------------------------- replies that are off --
if scenario replies; then
code=$(curl -s -o "$T/j.out" -w '%{http_code}' -b "$T/jar" "$URL/api/jobs/555")
assert_eq "$code" 502 "an internal error of the backend"
assert_eq "$(jq -r .error.code "$T/j.out")" bad_gateway "502 code"
assert_contains "$(jq -r .error.message "$T/j.out")" "the fake broke" "502 message"
code=$(curl -s -o "$T/j.out" -w '%{http_code}' -b "$T/jar" "$URL/api/jobs/777")
assert_eq "$code" 200 "the real reply after a stray one"
assert_eq "$(cat "$T/j.out")" '{"id":777}' "the reply to our id"
assert_file_contains "$T/frontend.log" "which is not waiting"
backend_up || fail "a stray reply dropped the link"
pass "internal error 502; a reply to an unknown id ignored"
fi

if scenario reconnect; then
code=$(curl -s -o "$T/j.out" -w '%{http_code}' -b "$T/jar" "$URL/api/jobs/666")
assert_eq "$code" 503 "a garbage line from the backend"
assert_eq "$(jq -r .error.code "$T/j.out")" unavailable "503 code"
assert_file_contains "$T/frontend.log" "neither a reply nor an event"
wait_for -t 20 backend_up || fail "the frontend did not reconnect to the fake"
n=$(grep -c '"op":"hello"' "$FAKE.requests")
[ "$n" -ge 2 ] || fail "no second handshake ($n hello requests)"
code=$(curl -s -o "$T/j.out" -w '%{http_code}' -b "$T/jar" "$URL/api/state")
assert_eq "$code" 200 "state after the reconnect"
assert_eq "$(jq -c '[.git, .deploys, .jobs]' "$T/j.out")" '[null,null,[]]' "unavailable parts are null"
pass "a line that is not a reply: 503, link dropped and made again ($n handshakes)"
fi

# ------------------------------------------------------------ engine.state --
if scenario engine_state; then
# the fake broadcasts engine.state when asked for job 4401 (Docker
# unreachable) or 4402 (reachable again), before its not_found reply
start_bg engine curl -sN --max-time 120 -b "$T/jar" "$URL/api/events"
wait_for -t 10 grep -q '^event: backend' "$T/engine.log" || fail "the stream for engine.state did not start"
engine_of() { jq -c '.services.engine | [.reachable, .error, .stale_ms]' "$1"; }
curl -s -o "$T/st0.json" -b "$T/jar" "$URL/api/state"
assert_eq "$(engine_of "$T/st0.json")" '[true,null,0]' "engine reachable at first"
# one curl, one connection: the state right after the event, well within the
# cache's second, is answered afresh
curl -s -b "$T/jar" -o "$T/ev.out" "$URL/api/jobs/4401" -o "$T/st1.json" "$URL/api/state"
assert_eq "$(engine_of "$T/st1.json")" '[false,"connect /var/run/docker.sock: refused",5000]' \
	"/api/state right after engine.state (unreachable)"
wait_for -t 10 grep -q '^event: engine.state' "$T/engine.log" || fail "engine.state did not reach the browser"
assert_eq "$(grep -a -A1 '^event: engine.state' "$T/engine.log" | sed -n 's/^data: //p' | head -n 1 | jq -c '[.reachable, .error, .stale_ms, .api_version]')" \
	'[false,"connect /var/run/docker.sock: refused",5000,"1.41"]' "engine.state's data passed on as the backend sent it"
curl -s -b "$T/jar" -o "$T/ev.out" "$URL/api/jobs/4402" -o "$T/st2.json" "$URL/api/state"
assert_eq "$(engine_of "$T/st2.json")" '[true,null,0]' "/api/state right after engine.state (reachable)"
wait_for -t 10 count_is 2 '^event: engine.state' "$T/engine.log" || fail "the second engine.state did not reach the browser"
pass "engine.state: to the browsers as sent, and /api/state's services.engine at once"
fi

# ---------------------------------------------------- clients that go away --
cat >"$T/client.py" <<'PY'
import hashlib, hmac, os, re, socket, sys, time

def request(port, method, path, headers=(), body=b"", length=None):
    h = "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (method, path, port)
    for k, v in headers:
        h += "%s: %s\r\n" % (k, v)
    if body or method == "POST":
        h += "Content-Length: %d\r\n" % (len(body) if length is None else length)
    return h.encode() + b"\r\n" + body

def hook(port, delivery, body):
    sig = "sha256=" + hmac.new(os.environ["WEBHOOK_SECRET"].encode(), body,
                               hashlib.sha256).hexdigest()
    return request(port, "POST", "/hooks/github", [
        ("Content-Type", "application/json"), ("X-GitHub-Event", "push"),
        ("X-GitHub-Delivery", delivery), ("X-Hub-Signature-256", sig)], body)

def leave(socks, wait):
    """close them all before the reply: half with FIN, half with RST"""
    time.sleep(wait)
    for i, s in enumerate(socks):
        if i % 2:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        s.close()

_conns = 0
def connect(port):
    """from 127.0.0.1, or with SPREAD=1 from 127.0.0.20-23 in turn: one
    address may hold 32 connections only"""
    global _conns
    _conns += 1
    src = "127.0.0.%d" % (20 + _conns % 4) if os.environ.get("SPREAD") else "127.0.0.1"
    return socket.create_connection(("127.0.0.1", port), source_address=(src, 0))

def reply(s, timeout):
    """the status line and headers of the reply, or "" if none in time"""
    s.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            d = s.recv(65536)
            if not d:
                break
            data += d
    except (socket.timeout, ConnectionError):
        pass
    return data.split(b"\r\n\r\n")[0].decode("latin-1")

cmd, port = sys.argv[1], int(sys.argv[2])
push = (b'{"ref":"refs/heads/main","after":"' + b"a" * 40 +
        b'","repository":{"full_name":"acme/demo"}}')
if cmd == "drop":                       # drop PORT N KIND [SID]
    n, kind = int(sys.argv[3]), sys.argv[4]
    sid = sys.argv[5] if len(sys.argv) > 5 else ""
    socks = []
    for i in range(n):
        s = connect(port)
        if kind == "job":
            s.sendall(request(port, "GET", "/api/jobs/888",
                              [("Cookie", "davit_session=" + sid)]))
        elif kind in ("login", "login-wrong"):
            pw = b"slow" if kind == "login" else b"slow-wrong"
            s.sendall(request(port, "POST", "/api/login",
                              [("Content-Type", "application/json")],
                              b'{"password":"' + pw + b'"}'))
        elif kind == "hook":
            s.sendall(hook(port, "late-drop-%d-%d" % (os.getpid(), i), push))
        socks.append(s)
    leave(socks, 0.5)
elif cmd == "digest":                   # digest PORT: the SHA-256 of the push
    print(hashlib.sha256(push).hexdigest())
elif cmd == "hook":                     # hook PORT DELIVERY: the reply's head
    s = connect(port)
    s.sendall(hook(port, sys.argv[3], push))
    print(reply(s, 20))
elif cmd == "wait":                     # wait PORT N SID: N job 888s, kept open
    n, sid = int(sys.argv[3]), sys.argv[4]
    socks = [connect(port) for i in range(n)]
    for s in socks:
        s.sendall(request(port, "GET", "/api/jobs/888",
                          [("Cookie", "davit_session=" + sid)]))
    open(sys.argv[5], "w").close()
    for s in socks:
        print(reply(s, 20).split("\r\n")[0])
elif cmd == "bighead":                  # bighead PORT PATH LENGTH: headers only
    s = connect(port)
    s.sendall(request(port, "POST", sys.argv[3],
                      [("Content-Type", "application/json")], b"",
                      int(sys.argv[4])))
    print(reply(s, 2).split("\r\n")[0] or "no reply")
elif cmd == "pipe":                     # pipe PORT: requests in one go, one connection
    s = connect(port)
    s.sendall(request(port, "GET", "/healthz") +
              request(port, "POST", "/hooks/github",
                      [("Content-Type", "application/json")], b"{" * 100000) +
              request(port, "GET", "/healthz") +
              request(port, "POST", "/api/login",
                      [("Content-Type", "application/json")], b"", 100000))
    s.settimeout(5)
    data = b""
    try:
        while data.count(b"HTTP/1.1 ") < 4:
            d = s.recv(65536)
            if not d:
                break
            data += d
    except socket.timeout:
        pass
    print(" ".join(w.decode()[9:12] for w in re.findall(rb"HTTP/1.1 \d+", data)))
elif cmd == "hold":                     # hold PORT N LENGTH GO: webhook bodies begun, then left
    n, length, go = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    socks = []
    for i in range(n):
        s = connect(port)
        s.sendall(("POST /hooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: "
                   "application/json\r\nContent-Length: %d\r\n\r\n" % length).encode()
                  + b"{" * 70000)
        socks.append(s)
    open(go + ".ready", "w").close()
    while not os.path.exists(go):
        time.sleep(0.1)
    leave(socks, 0)
PY
sec_ok() { # sec_ok HEAD: a reply head has the security headers
	assert_contains "$1" "Content-Security-Policy: default-src 'self'" "CSP in: $1"
	assert_contains "$1" "X-Content-Type-Options: nosniff" "nosniff in: $1"
	assert_contains "$1" "X-Frame-Options: DENY" "X-Frame-Options in: $1"
}
alive() {
	backend_up || fail "frontend not answering: $(tail -n 20 "$T/frontend.log")"
	check_sanitizer_logs
}
if scenario clients_leave; then
n888=$(count '"job":888' "$FAKE.requests")
r888=$(count 'GET /api/jobs/888 200' "$T/frontend.log")
SPREAD=1 python3 "$T/client.py" drop "$PORT" 40 job "$SID"
# every one reaches the backend (16 at a time) and its reply comes, to nobody
wait_for -t 30 count_is $((n888 + 40)) '"job":888' "$FAKE.requests" ||
	fail "not all 40 slow job.get reached the backend"
wait_for -t 30 count_is $((r888 + 40)) 'GET /api/jobs/888 200' "$T/frontend.log" ||
	fail "not all 40 slow job.get were answered"
alive
code=$(curl -s -o "$T/j.out" -w '%{http_code}' -b "$T/jar" "$URL/api/jobs/888")
assert_eq "$code" 200 "a slow job.get whose client stays"
assert_eq "$(cat "$T/j.out")" '{"id":888}' "its reply"
pass "40 API calls whose clients left (FIN and RST) before the backend's reply: no harm"
fi

if scenario backend_gone; then
# the backend goes away while calls wait (16 sent, 14 queued behind them),
# some of their clients gone, some not: every call ends
SPREAD=1 python3 "$T/client.py" drop "$PORT" 20 job "$SID" &
dropper=$!
SPREAD=1 python3 "$T/client.py" wait "$PORT" 10 "$SID" "$T/waiting" >"$T/waited.out" &
waiter=$!
wait_for -t 10 test -e "$T/waiting" || fail "the waiting clients did not start"
sleep 0.3
stop_pid "$FAKE_PID"
wait "$dropper" || fail "the dropping clients failed"
wait "$waiter" || fail "the waiting clients failed"
assert_eq "$(sort "$T/waited.out" | uniq -c | sed 's/^ *//')" "10 HTTP/1.1 503 Service Unavailable" \
	"calls waiting when the backend went away are answered 503"
start_fake
wait_for -t 20 backend_up || fail "no reconnect to the new fake backend"
alive
pass "the backend went away under 30 waiting calls (20 clients gone): 503 to those still there, reconnected"
fi

# ---------------------------------------------- webhook: slow backend, gone --
if scenario webhook_slow; then
python3 "$T/client.py" drop "$PORT" 10 hook
head=$(python3 "$T/client.py" hook "$PORT" late-kept)
assert_contains "$head" "HTTP/1.1 504 " "a webhook the backend is slow to accept: 504 in time"
sec_ok "$head"
assert_file_contains "$T/frontend.log" "webhook delivery late-kept: no answer from the backend in 8 s"
# the late replies come while nobody waits for them
wait_for -t 20 grep -q 'webhook delivery late-kept: late: {"queued":true' "$T/frontend.log" ||
	fail "the late reply was not logged"
wait_for -t 20 count_is 10 'webhook delivery late-drop-.*: late:' "$T/frontend.log" ||
	fail "late replies for the deliveries whose clients left: $(grep -c 'late-drop-.*: late:' "$T/frontend.log")"
head=$(python3 "$T/client.py" hook "$PORT" d-fast-1)
assert_contains "$head" "HTTP/1.1 202 " "a webhook answered at once"
sec_ok "$head"
assert_contains "$(grep -a '"delivery":"d-fast-1"' "$FAKE.requests")" \
	"\"digest\":\"$(python3 "$T/client.py" digest "$PORT")\"" "webhook.push carries the body's SHA-256"
alive
pass "webhook deliveries: 504 after 8 s when the backend is slow, late replies logged, 10 clients gone meanwhile"
fi

# ------------------------------------------------------------- body limits --
if scenario body_limits; then
r=$(python3 "$T/client.py" bighead "$PORT" /api/login 20000000)
assert_contains "$r" " 413 " "a 20 MB login body refused from its headers"
r=$(python3 "$T/client.py" bighead "$PORT" /api/state 70000)
assert_contains "$r" " 413 " "a 70 kB API body refused from its headers"
r=$(python3 "$T/client.py" bighead "$PORT" /hooks/github 26214401)
assert_contains "$r" " 413 " "a webhook body over 25 MB refused from its headers"
r=$(python3 "$T/client.py" bighead "$PORT" /hooks/github 1000000)
assert_eq "$r" "no reply" "a 1 MB webhook body is waited for"
# requests pipelined on one connection each get their own route's limit
assert_eq "$(python3 "$T/client.py" pipe "$PORT")" "200 401 200 413" \
	"healthz, a 100 kB webhook, healthz, a 100 kB login on one connection"
# four large webhook bodies on their way: a fifth may be small only
start_bg hold python3 "$T/client.py" hold "$PORT" 4 10000000 "$T/hold-go"
wait_for -t 10 test -e "$T/hold-go.ready" || fail "the holding clients did not start"
sleep 0.5
r=$(python3 "$T/client.py" bighead "$PORT" /hooks/github 1000000)
assert_contains "$r" " 413 " "a fifth large webhook body at once"
assert_file_contains "$T/frontend.log" "4 webhook bodies coming in already"
head=$(python3 "$T/client.py" hook "$PORT" d-fast-2)
assert_contains "$head" "HTTP/1.1 202 " "a small webhook still passes"
touch "$T/hold-go"
sleep 1
r=$(python3 "$T/client.py" bighead "$PORT" /hooks/github 1000000)
assert_eq "$r" "no reply" "the slots are free again once those clients left mid-body"
alive
pass "bodies: 413 from the headers over 64 KiB (API) and 25 MB (webhook); 4 large webhook bodies at once"
fi

# --------------------------------------------------------- logins that leave --
if scenario logins_leave; then
python3 "$T/client.py" drop "$PORT" 5 login
sleep 2
alive
wait_for -t 10 count_is 6 ': login from 127.0.0.1$' "$T/frontend.log" ||
	fail "5 slow right logins (and the first): $(count ': login from 127.0.0.1$' "$T/frontend.log")"
python3 "$T/client.py" drop "$PORT" 5 login-wrong
wait_for -t 10 count_is 5 'failed login from 127.0.0.1' "$T/frontend.log" ||
	fail "5 slow wrong logins: $(count 'failed login from 127.0.0.1' "$T/frontend.log")"
code=$(curl -s -o "$T/l.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	--data-binary '{"password":"pw"}' "$URL/api/login")
assert_eq "$code" 429 "5 wrong logins whose clients left still count"
alive
pass "logins whose clients left during the slow check: no harm, and they count for throttling"
fi

# ------------------- refused deliveries: reported once a minute, none lost --
if scenario refused_reports; then
bad_hook() {
	curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		-H 'X-GitHub-Event: push' -H "X-Hub-Signature-256: sha256=$(printf '0%.0s' {1..64})" \
		--data-binary '{"ref":"refs/heads/main"}' "$URL/hooks/github"
}
for i in 1 2 3 4; do
	assert_eq "$(bad_hook)" 401 "a delivery with a wrong signature ($i)"
done
# the first goes to the backend at once (unless one went less than a minute
# ago); the others are held back, and reported, counted, when the minute is
# over: a report comes after the last delivery, with nothing sent meanwhile
sleep 0.5
reports() { grep -ac '"op":"webhook.rejected"' "$FAKE.requests" || true; }
n0=$(reports)
later() { [ "$(reports)" -gt "$n0" ]; }
wait_for -t 75 later || fail "the refused deliveries held back were never reported: $(grep -a webhook.rejected "$FAKE.requests")"
grep -a '"op":"webhook.rejected"' "$FAKE.requests" | tail -n 1 | grep -Eq '\([1-9][0-9]* refused since the last report\)' ||
	fail "the late report does not count them: $(grep -a webhook.rejected "$FAKE.requests" | tail -n 1)"
pass "refused webhook deliveries: reported at most once a minute, those held back when it is over"
fi

stop_pid "$FE_PID"
assert_eq "$STOP_STATUS" 0 "frontend exit status"
