#!/usr/bin/env bash
# The HTTP edge (frontend/http.c, HTTP.md "The HTTP edge"), against the fake
# backend: a request's head is held back from evhttp until it is all in,
# then its route's body limit applies. A connection's first request over
# its limit is refused by davit itself: 413 too_large as JSON with the
# security headers, before the body is read, and the connection closed; a
# chunked first body is cut once its bytes pass the limit; a Content-Length
# davit and evhttp could read differently is 400. A head that comes in
# pieces, and pipelined requests, are answered as usual. The backend's
# results and event data reach the browser as the backend wrote them.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

frontend_needs

export FLOOD=10 SLOW=1 LATE=9 WEBHOOK_SECRET="edge secret $RANDOM"
PORT=$(unused_port)
URL=http://127.0.0.1:$PORT
mkdir -p "$T/run"
chmod 0755 "$T/run"
FAKE=$T/run/fake.sock
start_bg fake python3 "$(dirname "$0")/fake_backend.py" "$FAKE" "127.0.0.1:$PORT"
wait_for -t 10 test -S "$FAKE" || fail "the fake backend did not start: $(cat "$T/fake.log")"
_SAN_LOGS+=("$T/frontend.log")
start_bg frontend "$FE_BIN" --socket "$FAKE" --user davit -v
FE_PID=$BG_PID
up() { [ "$(curl -s --max-time 5 "$URL/healthz")" = '{"backend":"up"}' ]; }
wait_for -t 20 up || fail "frontend not up: $(tail -n 20 "$T/frontend.log")"

cat >"$T/raw.py" <<'PY'
import socket, sys, time
port, what = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(5)
head = "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n" % port
if what == "big":          # a first request whose Content-Length is over 64 KiB
    s.sendall((head + "Content-Length: 70000\r\n\r\n").encode())
elif what == "twolengths":
    s.sendall((head + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n").encode())
elif what == "chunked":    # a first chunked body past 64 KiB, in 4 KiB chunks
    s.sendall((head + "Transfer-Encoding: chunked\r\n\r\n").encode())
    try:
        for i in range(40):
            s.sendall(b"1000\r\n" + b"x" * 4096 + b"\r\n")
    except OSError:
        pass
elif what == "pieces":     # a head in three pieces, 0.3 s apart
    body = b'{"password":"pw"}'
    whole = (head + "Content-Length: %d\r\n\r\n" % len(body)).encode() + body
    for a, b in ((0, 10), (10, 60), (60, len(whole))):
        s.sendall(whole[a:b])
        time.sleep(0.3)
data = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
        if what == "pieces" and b"\r\n\r\n" in data:
            break
except (socket.timeout, ConnectionError):
    pass
sys.stdout.write(data.decode("latin-1"))
PY
raw() { python3 "$T/raw.py" "$PORT" "$1"; }
sec_ok() { # sec_ok REPLY: the security headers are there
	assert_contains "$1" "Content-Security-Policy: default-src 'self'" "CSP in: $1"
	assert_contains "$1" "X-Content-Type-Options: nosniff" "nosniff in: $1"
	assert_contains "$1" "X-Frame-Options: DENY" "X-Frame-Options in: $1"
}

r=$(raw big)
assert_contains "$r" "HTTP/1.1 413 " "a 70 kB login body on a first request"
assert_contains "$r" '"code":"too_large"' "413 as davit's JSON error"
assert_contains "$r" "Connection: close" "the refused connection is closed"
sec_ok "$r"
assert_file_contains "$T/frontend.log" "client 127.0.0.1: 413 request body larger than 65536 bytes"
pass "a first request over its limit: davit's 413 too_large with the security headers, from the head"

r=$(raw chunked)
assert_contains "$r" "HTTP/1.1 413 " "a chunked first body past 64 KiB"
sec_ok "$r"
pass "a chunked first body cut once past the limit"

r=$(raw twolengths)
assert_contains "$r" "HTTP/1.1 400 " "two Content-Lengths that differ"
assert_contains "$r" '"code":"bad_request"' "400 as davit's JSON error"
pass "two Content-Lengths: 400 bad_request"

r=$(raw pieces)
assert_contains "$r" "HTTP/1.1 200 " "a login whose head came in three pieces"
assert_contains "$r" "davit_session=" "its cookie"
pass "a head in pieces, held until it is all in, then answered"

# ------------------------------------------- the backend's bytes, passed on --
curl -s -c "$T/jar" -X POST -H 'Content-Type: application/json' \
	--data-binary '{"password":"pw"}' "$URL/api/login" >"$T/login.json"
start_bg events curl -sN --max-time 30 -b "$T/jar" "$URL/api/events"
wait_for -t 10 grep -q '^event: backend' "$T/events.log" || fail "the event stream did not start"
curl -s -b "$T/jar" -o "$T/job.json" "$URL/api/jobs/4403"
# the fake writes "caf\u00e9" (json.dumps); rebuilt by yajl it would be UTF-8
assert_eq "$(cat "$T/job.json")" '{"id":4403,"line":"caf\u00e9"}' "a job as the backend wrote it"
wait_for -t 10 grep -q '"job":4403' "$T/events.log" || fail "the job.log event did not come"
assert_file_contains "$T/events.log" 'data: {"job":4403,"n":1,"line":"caf\u00e9"}'
pass "a reply and an event are passed on as the backend wrote them"

# stream_end.py MODE HOSTPORT CSRF SID: opens an event stream, logs out (which
# ends it), reads it to its end; MODE "close": the stream said Connection:
# close; MODE "after": then sends a request on the same connection, which must
# get an answer or the connection's end within 5 s (not be held)
cat >"$T/stream_end.py" <<'PY'
import socket, subprocess, sys, time
mode, (host, port), csrf, sid = sys.argv[1], sys.argv[2].rsplit(":", 1), sys.argv[3], sys.argv[4]
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(("GET /api/events HTTP/1.1\r\nHost: x\r\nCookie: davit_session=%s\r\n\r\n" % sid).encode())
head = b""
while b"\r\n\r\n" not in head:
	head += s.recv(4096)
if mode == "close" and b"connection: close" not in head.lower():
	sys.exit("no Connection: close on the event stream: %r" % head[:400])
out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
	"-H", "Cookie: davit_session=" + sid, "-H", "X-Davit-CSRF: " + csrf,
	"http://%s:%s/api/logout" % (host, port)], capture_output=True, text=True).stdout
if out != "200":
	sys.exit("logout: %s" % out)
t, rest = time.time(), head
while not rest.endswith(b"\r\n0\r\n\r\n"):
	try:
		b = s.recv(4096)
	except socket.timeout:
		sys.exit("the stream did not end %.1f s after logout: %r" % (time.time() - t, rest[-300:]))
	if not b:
		sys.exit("closed before the stream's end")
	rest += b
print("ended %.2f s after logout" % (time.time() - t))
if mode == "after":
	t = time.time()
	s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	try:
		b = s.recv(4096)
	except socket.timeout:
		sys.exit("a request after the stream's end: nothing for %.1f s (held)" % (time.time() - t))
	print("after the end: %s in %.2f s" % ("closed" if not b else b.split(b"\r\n")[0].decode(), time.time() - t))
PY
stream_end() { # stream_end MODE: logs in, then stream_end.py MODE
	curl -s -c "$T/jar" -X POST -H 'Content-Type: application/json' \
		--data-binary '{"password":"pw"}' "$URL/api/login" >"$T/login.json"
	python3 "$T/stream_end.py" "$1" "${URL#http://}" "$(jq -r .csrf "$T/login.json")" \
		"$(awk '$6 == "davit_session" { print $7 }' "$T/jar")" >"$T/stream-end.log" 2>&1
}

# An event stream says Connection: close, so that no client sends another
# request after it on the same connection: one sent so was held until the
# 10 s body rule closed it, which hung a page reload after logout in the
# browser.
stream_end close || fail "an ended event stream: $(cat "$T/stream-end.log")"
pass "an event stream says Connection: close and ends at logout: nothing is sent behind it"

# The end of a chunked reply is the end of its request for evhttp too: a
# stream's last chunk went out before evhttp said what to call once all was
# written, so evhttp never took the connection back: its Connection: close
# was not acted on, and a request sent after the end (by a client that
# ignores it) was held until the 10 s body rule closed the connection.
# Now the connection closes at once, well within curl-like 5 s.
stream_end after || fail "after an event stream's end: $(cat "$T/stream-end.log")"
info "$(tail -n 1 "$T/stream-end.log")"
pass "an ended event stream's connection is closed at once, not held for the body rule"

up || fail "frontend not answering"
stop_pid "$FE_PID"
assert_eq "$STOP_STATUS" 0 "frontend exit status"
check_sanitizer_logs
