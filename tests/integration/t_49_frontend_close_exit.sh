#!/usr/bin/env bash
# Requests that ask for Connection: close (Python's urllib always does),
# then SIGTERM: the frontend exits at once with status 0. libevent 2.1's
# filter ran the socket's first "writable" callback without a reference of
# its own; when evhttp wrote a reply from it and freed the connection, the
# filter re-armed its write timeout on itself as it was freed, and the freed
# timer stayed in the loop: event_base_free at exit spun for ever, or the
# loop crashed in event_active_nolock_ (frontend/conn.c, http_newconn). Nine
# such connections were enough, every time, in a plain build. Against the
# fake backend; the 10 s of stop_pid only tell a hang from an exit, and
# the 12 s wait lets the connections' write timeout come due.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

frontend_needs

export WEBHOOK_SECRET="close secret $RANDOM"
mkdir -p "$T/run"
chmod 0755 "$T/run"

cat >"$T/close.py" <<'PY'
import hashlib, hmac, json, os, socket, sys, urllib.error, urllib.request
port, what, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
url = "http://127.0.0.1:%d" % port
out = []
if what == "urllib":       # GET /healthz and signed webhook POSTs
    body = json.dumps({"ref": "refs/heads/main", "before": "1" * 40,
        "after": "2" * 40, "repository": {"full_name": "a/b"},
        "commits": []}).encode()
    sig = "sha256=" + hmac.new(os.environ["WEBHOOK_SECRET"].encode(), body,
        hashlib.sha256).hexdigest()
    for i in range(n):
        if i % 4 == 3:
            r = urllib.request.Request(url + "/hooks/github", data=body,
                method="POST", headers={"Content-Type": "application/json",
                "X-GitHub-Event": "push", "X-GitHub-Delivery": "d%d" % i,
                "X-Hub-Signature-256": sig})
        else:
            r = urllib.request.Request(url + "/healthz")
        try:
            with urllib.request.urlopen(r, timeout=5) as x:
                x.read()
                out.append(x.status)
        except urllib.error.HTTPError as e:
            out.append(e.code)
else:                      # one raw GET /healthz each, Connection: close
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.settimeout(5)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        d = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            d += b
        s.close()
        out.append(int(d.split(b" ", 2)[1]))
print(" ".join(sorted(set(str(c) for c in out))), len(out))
PY

up() { [ "$(curl -s --max-time 5 "$URL/healthz")" = '{"backend":"up"}' ]; }

if scenario close_exit; then
	PORT=$(unused_port)
	URL=http://127.0.0.1:$PORT
	FAKE=$T/run/fake.sock
	start_bg fake python3 "$(dirname "$0")/fake_backend.py" "$FAKE" "127.0.0.1:$PORT"
	wait_for -t 10 test -S "$FAKE" || fail "the fake backend did not start: $(cat "$T/fake.log")"
	_SAN_LOGS+=("$T/frontend.log")
	start_bg frontend "$FE_BIN" --socket "$FAKE" --user davit -v
	FE_PID=$BG_PID
	wait_for -t 20 up || fail "frontend not up: $(tail -n 20 "$T/frontend.log")"

	# 15 GET /healthz and 5 webhook POSTs (the fake queues them: 202)
	assert_eq "$(python3 "$T/close.py" "$PORT" urllib 20)" "200 202 20" "urllib's statuses and count"
	assert_eq "$(python3 "$T/close.py" "$PORT" raw 20)" "200 20" "Connection: close statuses and count"
	# A freed timer comes due with the connections' write timeout (evhttp's
	# 10 s, FE_HTTP_TIMEOUT): in the ASan build, where freed memory is not
	# handed out again at once, that is when it shows.
	sleep 12
	kill -0 "$FE_PID" 2>/dev/null || fail "the frontend died: $(tail -n 20 "$T/frontend.log")"
	up || fail "the frontend does not answer: $(tail -n 20 "$T/frontend.log")"
	stop_pid "$FE_PID" 10
	assert_eq "$STOP_STATUS" 0 "the frontend's exit status after SIGTERM (137: it hung and was killed; 139: it crashed)"
	assert_file_contains "$T/frontend.log" ": stopped" "the frontend's last log line"
	assert_file_not_contains "$T/frontend.log" "too few references" "libevent freeing a connection's bufferevent twice"
	pass "after 40 requests with Connection: close, 20 of them urllib's, the frontend runs on and exits 0 on SIGTERM"
fi

# HTTPS: plain HTTP to the port is refused (conn.c http_peek); the TLS
# handshake also ran on the socket's writability, read the plain bytes and
# failed, and evhttp freed the connection from it, before our own close
# (a 0 s timer) took a reference on the freed filter and freed it again:
# libevent's "too few references", once per refusal or so.
if scenario https_plain_exit; then
	command -v openssl >/dev/null || fail "openssl is needed"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/tls.key" -out "$T/tls.crt" -days 2 -subj "/CN=127.0.0.1" \
		-addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
	PORT=$(unused_port)
	URL=https://127.0.0.1:$PORT
	FAKE=$T/run/fake-tls.sock
	TLS_CERT=$T/tls.crt TLS_KEY=$T/tls.key start_bg fake-tls python3 \
		"$(dirname "$0")/fake_backend.py" "$FAKE" "127.0.0.1:$PORT"
	wait_for -t 10 test -S "$FAKE" || fail "the fake backend did not start: $(cat "$T/fake-tls.log")"
	_SAN_LOGS+=("$T/frontend-tls.log")
	start_bg frontend-tls "$FE_BIN" --socket "$FAKE" --user davit -v
	FE_PID=$BG_PID
	tls_up() { [ "$(curl -s --cacert "$T/tls.crt" --max-time 5 "$URL/healthz")" = '{"backend":"up"}' ]; }
	wait_for -t 20 tls_up || fail "frontend not up: $(tail -n 20 "$T/frontend-tls.log")"
	for i in 1 2 3 4 5 6; do
		out=$(curl -s -i --max-time 5 "http://127.0.0.1:$PORT/healthz" || true)
		assert_contains "$out" "HTTP/1.1 400 Bad Request" "plain HTTP to the HTTPS port ($i)"
	done
	wait_for -t 10 bash -c "[ \$(grep -c '400 plain HTTP on the HTTPS port' '$T/frontend-tls.log') -ge 6 ]" ||
		fail "refusals not logged: $(tail -n 20 "$T/frontend-tls.log")"
	# the refused connections close at once (a 0 s timer), the refused
	# clients' lingering sockets after FE_TLS_PLAIN_LINGER
	sleep 3
	tls_up || fail "the frontend does not answer: $(tail -n 20 "$T/frontend-tls.log")"
	stop_pid "$FE_PID" 10
	assert_eq "$STOP_STATUS" 0 "the HTTPS frontend's exit status after SIGTERM"
	assert_file_contains "$T/frontend-tls.log" ": stopped" "the frontend's last log line"
	assert_file_not_contains "$T/frontend-tls.log" "too few references" "libevent freeing a refused connection's bufferevent twice"
	pass "HTTPS: 6 plain-HTTP requests refused, each connection freed once; the frontend exits 0 on SIGTERM"
fi

check_sanitizer_logs
