#!/usr/bin/env bash
# davit-frontend and its clients, told apart by address (loopback aliases
# 127.0.0.2 and up; the frontend listens on 127.0.0.1), against the fake
# backend: failed logins are counted per address, with 429 and Retry-After
# for the one that fails, and a right password from an address that has
# not failed still answers 200 however many others failed; behind a
# trusted proxy (DAVIT_TRUSTED_PROXIES=127.0.0.5) the client is
# X-Forwarded-For's right-most address that is not the proxy, and
# X-Forwarded-Proto: https makes the cookie Secure; from anyone else both
# headers are ignored; bad webhook signatures are throttled per address;
# slow clients: 300 connections from 127.0.0.2 trickling a byte every 2 s
# hold 32 at most and lose those after 10 s, a body slower than the minimum
# rate is cut, while 127.0.0.3's login and /api/state answer at once.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

frontend_needs

WEBHOOK_SECRET="fake hook secret $RANDOM$RANDOM"
TRUSTED_PROXIES=127.0.0.5
export WEBHOOK_SECRET TRUSTED_PROXIES
PORT=$(unused_port)
URL=http://127.0.0.1:$PORT
mkdir -p "$T/run" "$T/r"
chmod 0755 "$T/run"
FAKE=$T/run/fake.sock
start_bg fake python3 "$(dirname "$0")/fake_backend.py" "$FAKE" "127.0.0.1:$PORT"
wait_for -t 10 test -S "$FAKE" || fail "the fake backend did not start: $(cat "$T/fake.log")"
_SAN_LOGS+=("$T/frontend.log")
start_bg frontend "$FE_BIN" --socket "$FAKE" --user davit -v
wait_for -t 20 backend_up || fail "frontend not up: $(tail -n 20 "$T/frontend.log")"

N=0
# login FROM PASSWORD [CURL_ARGS...]: CODE; body $T/r/$N.b, headers $T/r/$N.h
login() {
	local from=$1 pw=$2
	shift 2
	N=$((N + 1))
	CODE=$(curl -s -o "$T/r/$N.b" -D "$T/r/$N.h" -w '%{http_code}' --max-time 8 \
		--interface "$from" -X POST -H 'Content-Type: application/json' \
		--data-binary "$(jq -cn --arg p "$pw" '{password:$p}')" "$@" \
		"$URL/api/login" || true)
}
hdr() { tr -d '\r' <"$T/r/$N.h" | sed -n "s/^$1: //Ip" | head -n 1; }
retry_ok() { # the last reply's Retry-After: 1..FE_THROTTLE_LOCK_MAX
	local r
	r=$(hdr Retry-After)
	[[ $r =~ ^[0-9]+$ ]] && [ "$r" -ge 1 ] && [ "$r" -le 900 ] || fail "Retry-After: '$r'"
}

# ------------------------------------------------- failures per address --
if scenario failures; then
for i in 1 2 3 4 5; do
	login 127.0.0.2 wrong
	assert_eq "$CODE" 401 "wrong password $i from 127.0.0.2"
done
assert_file_contains "$T/frontend.log" "login from 127.0.0.2 held for 1 s"
assert_file_contains "$T/frontend.log" "login from 127.0.0.2 held for 2 s"
login 127.0.0.2 pw
assert_eq "$CODE" 429 "127.0.0.2, locked: even the right password"
assert_eq "$(jq -r .error.code "$T/r/$N.b")" throttled "429's code"
retry_ok
pass "127.0.0.2: 3 failures free, then held 1 s and 2 s, then 429 with Retry-After"

# ten more addresses fail, 50 failures in all: past the backend's global rate
# (30 a minute), where every attempt is held 2 s and none refused
pids=()
for a in $(seq 10 19); do
	(
		for i in 1 2 3 4 5 6; do
			curl -s -o /dev/null --max-time 8 --interface "127.0.0.$a" -X POST \
				-H 'Content-Type: application/json' \
				--data-binary '{"password":"nope"}' "$URL/api/login" || true
		done
	) &
	pids+=($!)
done
wait "${pids[@]}"
[ "$(grep -c 'failed login from 127.0.0.1[0-9]$' "$T/frontend.log")" -ge 50 ] ||
	fail "50 failures from 127.0.0.10-19: $(grep -c 'failed login from' "$T/frontend.log")"
login 127.0.0.3 pw
assert_eq "$CODE" 200 "127.0.0.3, which never failed, after 55 failures from 11 others"
login 127.0.0.2 pw
assert_eq "$CODE" 429 "127.0.0.2 is still locked"
pass "failures from 11 other addresses: 127.0.0.3's right password answers 200"
fi

# ---------------------------------------------------- a trusted proxy --
if scenario proxy; then
for i in 1 2 3 4 5; do
	login 127.0.0.5 wrong -H 'X-Forwarded-For: 6.6.6.6, 198.51.100.7'
	assert_eq "$CODE" 401 "wrong password $i from 198.51.100.7 via the proxy"
done
login 127.0.0.5 pw -H 'X-Forwarded-For: 198.51.100.7'
assert_eq "$CODE" 429 "198.51.100.7 locked, via the proxy"
assert_file_contains "$T/frontend.log" "failed login from 198.51.100.7"
login 127.0.0.5 pw -H 'X-Forwarded-For: 198.51.100.8' -H 'X-Forwarded-Proto: https'
assert_eq "$CODE" 200 "198.51.100.8 via the same proxy"
assert_contains "$(hdr Set-Cookie)" "; Secure" "X-Forwarded-Proto: https from the proxy"
login 127.0.0.5 pw -H 'X-Forwarded-For: 198.51.100.8'
assert_eq "$CODE" 200 "again, without X-Forwarded-Proto"
assert_not_contains "$(hdr Set-Cookie)" "Secure" "no X-Forwarded-Proto: no Secure"
# what the client wrote is left of what the proxy appended: not believed
login 127.0.0.5 pw -H 'X-Forwarded-For: 198.51.100.8, 198.51.100.7'
assert_eq "$CODE" 429 "a client naming another address before its own"
pass "behind 127.0.0.5: X-Forwarded-For's right-most address is the client, X-Forwarded-Proto: https makes the cookie Secure"

# from an address that is not a trusted proxy, both headers are ignored
for i in 1 2 3 4 5; do
	login 127.0.0.6 wrong -H "X-Forwarded-For: 203.0.113.$i"
	assert_eq "$CODE" 401 "wrong password $i from 127.0.0.6"
done
assert_file_contains "$T/frontend.log" "failed login from 127.0.0.6"
assert_file_not_contains "$T/frontend.log" "203.0.113."
login 127.0.0.6 pw -H 'X-Forwarded-For: 203.0.113.99'
assert_eq "$CODE" 429 "127.0.0.6 cannot escape with X-Forwarded-For"
login 127.0.0.4 pw -H 'X-Forwarded-Proto: https'
assert_eq "$CODE" 200 "127.0.0.4 logs in"
assert_not_contains "$(hdr Set-Cookie)" "Secure" "X-Forwarded-Proto from a stranger"
pass "X-Forwarded-For and X-Forwarded-Proto from an untrusted peer are ignored"
fi

# ------------------------------------------- bad webhook signatures --
if scenario bad_signatures; then
hook() { # hook FROM SIGNATURE: CODE
	N=$((N + 1))
	CODE=$(curl -s -o "$T/r/$N.b" -D "$T/r/$N.h" -w '%{http_code}' --max-time 8 \
		--interface "$1" -X POST -H 'Content-Type: application/json' \
		-H 'X-GitHub-Event: ping' -H 'X-GitHub-Delivery: 0f0e0d0c-1111-2222-3333-444455556666' \
		-H "X-Hub-Signature-256: $2" --data-binary '{"zen":"x"}' "$URL/hooks/github" || true)
}
good_sig=sha256=$(python3 -c 'import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), b"{\"zen\":\"x\"}", hashlib.sha256).hexdigest())' "$WEBHOOK_SECRET")
bad_sig=sha256=$(printf '0%.0s' {1..64})
hook 127.0.0.7 "$good_sig"
assert_eq "$CODE" 200 "a signed ping"
for i in 1 2 3 4 5; do
	hook 127.0.0.7 "$bad_sig"
	assert_eq "$CODE" 401 "bad signature $i from 127.0.0.7"
done
hook 127.0.0.7 "$good_sig"
assert_eq "$CODE" 429 "127.0.0.7 after 5 bad signatures"
retry_ok
hook 127.0.0.8 "$good_sig"
assert_eq "$CODE" 200 "another address's signed ping"
login 127.0.0.7 pw
assert_eq "$CODE" 200 "bad webhooks do not lock logins out"
pass "bad webhook signatures: 429 with Retry-After for that address only"
fi

# ------------------------------------------------------- slow clients --
if scenario slow_clients; then
cat >"$T/slow.py" <<'PY'
import socket, sys, time
port, nconn, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = []
for i in range(nconn):
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    socks.append(s)
# a body far slower than the minimum rate, from 127.0.0.4
b = socket.socket()
b.bind(("127.0.0.4", 0))
b.connect(("127.0.0.1", port))
b.sendall(b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: 60000\r\n\r\n{")
b.setblocking(False)
open(ready, "w").close()
head = b"GET /api/state HTTP/1.1\r\nHost: x\r\nX-Slow: "
closed, bclosed = set(), False
for rnd in range(15):                 # 30 s at most
    for i, s in enumerate(socks):
        if i in closed:
            continue
        try:
            s.send(head[rnd:rnd + 1] if rnd < len(head) else b"a")
            if s.recv(1, socket.MSG_PEEK) == b"":
                closed.add(i)
        except BlockingIOError:
            pass
        except OSError:
            closed.add(i)
    if not bclosed:
        try:
            b.send(b" ")
            if b.recv(1, socket.MSG_PEEK) == b"":
                bclosed = True
        except BlockingIOError:
            pass
        except OSError:
            bclosed = True
    if len(closed) == nconn and bclosed:
        break
    time.sleep(2)
print(len(closed), "closed", "body-cut" if bclosed else "body-alive", rnd)
PY
rm -f "$T/slow.ready"
python3 "$T/slow.py" "$PORT" 300 "$T/slow.ready" >"$T/slow.out" 2>&1 &
SLOW_PID=$!
wait_for -t 20 test -e "$T/slow.ready" || fail "slow clients: $(cat "$T/slow.out")"
login 127.0.0.3 pw -c "$T/jar3"
assert_eq "$CODE" 200 "127.0.0.3's login beside 300 slow connections"
N=$((N + 1))
code=$(curl -s -o "$T/r/$N.b" -w '%{http_code}' --max-time 5 --interface 127.0.0.3 \
	-b "$T/jar3" "$URL/api/state" || true)
assert_eq "$code" 200 "127.0.0.3's /api/state beside 300 slow connections"
wait "$SLOW_PID" || fail "slow.py: $(cat "$T/slow.out")"
out=$(cat "$T/slow.out")
assert_contains "$out" "300 closed body-cut" "every slow connection closed"
assert_file_contains "$T/frontend.log" "client 127.0.0.2: 32 connections already"
assert_file_contains "$T/frontend.log" "client 127.0.0.2: request line and headers not in within 10 s"
assert_file_contains "$T/frontend.log" "client 127.0.0.4: body slower than"
backend_up || fail "frontend not answering after the slow clients"
pass "300 slow connections from 127.0.0.2: 32 held, then closed after 10 s; a slow body cut; 127.0.0.3 served at once ($out)"
fi

check_sanitizer_logs
