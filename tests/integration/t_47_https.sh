#!/usr/bin/env bash
# HTTPS of davit's own (frontend/tls.c, frontend/conn.c, backend/supervise.c),
# in the spawned layout and in the units' layout (backend --no-frontend, a
# frontend started apart), with self-signed certificates made here:
# - a key file that is not root's 0600 is refused at start and by
#   --check-config, and so is one key without the other;
# - login and /api/state over https (curl --cacert), HSTS and a Secure
#   session cookie; TLS 1.1 refused; plain HTTP to the port gets a plain
#   400 "this port speaks HTTPS";
# - the frontend still runs under its seccomp filter (Seccomp: 2);
# - SIGHUP to the backend with a renewed certificate: a connection opened
#   before keeps working (an open event stream), a new connection sees the
#   new certificate's serial;
# - the units' layout: the frontend gets the certificate and key by tls.get
#   (root's connection is refused it), serves HTTPS, and SIGHUP to the
#   backend (systemctl reload) renews it as above, without a restart;
# - no byte of the keys in any log or in the audit log.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

getent passwd davit >/dev/null || fail "no user davit (scripts/setup.sh)"
command -v openssl >/dev/null || fail "openssl is needed"

mkcert() { # mkcert DIR SERIAL: DIR/tls.crt and DIR/tls.key, root's 0600
	mkdir -p "$1"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1/tls.key" -out "$1/tls.crt" -days 2 -set_serial "$2" \
		-subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
	chown root:root "$1/tls.key" "$1/tls.crt"
	chmod 0600 "$1/tls.key" "$1/tls.crt"
}
serial_of() { # serial_of PORT: the serial the server presents, hex
	openssl s_client -connect "127.0.0.1:$1" -servername 127.0.0.1 </dev/null 2>/dev/null |
		openssl x509 -noout -serial | sed 's/^serial=//'
}

mkdir -p "$T/run" "$T/app"
chmod 0755 "$T/run"
mkcert "$T/tls" 4701
mkcert "$T/tls2" 4702
LISTEN=127.0.0.1:$(unused_port)
PORT=${LISTEN##*:}
URL=https://127.0.0.1:$PORT
ENV=$T/davit.env
base=(
	"DAVIT_SOCKET=$T/run/backend.sock"
	"DAVIT_LISTEN=$LISTEN"
	"DAVIT_WORKDIR=$T/app"
	"DAVIT_SERVICES=web"
	"DAVIT_WWW_DIR=$DAVIT_SRC/www"
	"DAVIT_COMPOSE_PROJECT=$(unique_project dvtls)"
)
BIN=$DAVIT_BUILD/backend/davit-backend

# ------------------------------------------------------------ refusals --
write_davit_env "$ENV" "${base[@]}" "DAVIT_TLS_CERT=$T/tls/tls.crt"
out=$("$BIN" --check-config "$ENV" 2>&1) && fail "--check-config took a certificate without a key: $out"
assert_contains "$out" "both DAVIT_TLS_CERT and DAVIT_TLS_KEY" "a certificate without its key"

write_davit_env "$ENV" "${base[@]}" "DAVIT_TLS_CERT=$T/tls/tls.crt" "DAVIT_TLS_KEY=$T/tls/tls.key"
chmod 0644 "$T/tls/tls.key"
out=$("$BIN" --check-config "$ENV" 2>&1) && fail "--check-config took a 0644 key: $out"
assert_contains "$out" "DAVIT_TLS_KEY $T/tls/tls.key: must be root's with no group or other access"
out=$(timeout 20 "$BIN" --config "$ENV" 2>&1) && fail "the backend started with a 0644 key: $out"
assert_contains "$out" "DAVIT_TLS_KEY $T/tls/tls.key: must be root's" "start with a 0644 key"
chmod 0600 "$T/tls/tls.key"
chown davit "$T/tls/tls.key"
out=$("$BIN" --check-config "$ENV" 2>&1) && fail "--check-config took a key that is davit's: $out"
assert_contains "$out" "DAVIT_TLS_KEY $T/tls/tls.key: must be root's" "a key not root's"
chown root "$T/tls/tls.key"
out=$("$BIN" --check-config "$ENV" 2>&1) || fail "--check-config refused good files: $out"
assert_contains "$out" "configuration OK"
pass "a key 0644 or not root's, or a certificate alone, is refused at start and by --check-config"

# --------------------------------------------------------------- serving --
LOG=$T/backend.log
davit_start_backend "$ENV"
wait_for port_open "$PORT" || fail "the frontend never listened on $PORT: $(tail -n 20 "$LOG")"
wait_for grep -q "sandbox: seccomp allowlist" "$LOG" || fail "no sandbox line: $(tail -n 20 "$LOG")"
FE_PID=$(pgrep -P "$DAVIT_BACKEND_PID" -f davit-frontend | head -n 1)
assert_file_contains "$LOG" "(HTTPS)"
CA=(--cacert "$T/tls/tls.crt")
curl -sS "${CA[@]}" -D "$T/login.h" -c "$T/jar" -o "$T/login.json" -X POST \
	-H 'Content-Type: application/json' --data-binary '{"password":"test-password"}' \
	"$URL/api/login" || fail "login over https: curl $?"
assert_contains "$(head -n 1 "$T/login.h")" " 200" "login over https"
assert_contains "$(tr -d '\r' <"$T/login.h")" "Strict-Transport-Security: max-age=31536000" "HSTS"
assert_contains "$(grep -i '^set-cookie:' "$T/login.h")" "; Secure" "the session cookie is Secure"
code=$(curl -sS "${CA[@]}" -b "$T/jar" -o "$T/state.json" -w '%{http_code}' "$URL/api/state")
assert_eq "$code" 200 "/api/state over https"
jq -e '.project' "$T/state.json" >/dev/null || fail "/api/state: $(head -c 300 "$T/state.json")"
assert_contains "$(cat "/proc/$FE_PID/status")" "Seccomp:	2" "the frontend's seccomp mode with TLS"
pass "login and /api/state over https, HSTS, a Secure cookie, under the seccomp filter"

# TLS 1.1 and below: refused
if curl -sS "${CA[@]}" --tlsv1.0 --tls-max 1.1 -o /dev/null "$URL/" 2>"$T/tls11.err"; then
	fail "a TLS 1.1 connection was accepted"
fi
out=$(openssl s_client -connect "$LISTEN" -tls1_2 </dev/null 2>&1 || true)
assert_contains "$out" "Protocol  : TLSv1.2" "TLS 1.2 is served"
pass "TLS 1.1 refused ($(head -c 120 "$T/tls11.err")), TLS 1.2 served"

# plain HTTP on the TLS port
out=$(curl -sS -i "http://$LISTEN/api/state" 2>&1) || true
assert_eq "$(grep -c "400 plain HTTP on the HTTPS port" "$LOG")" 1 "one refusal logged"
assert_contains "$out" "HTTP/1.1 400 Bad Request" "plain HTTP on the TLS port"
assert_contains "$out" "this port speaks HTTPS" "its message"
assert_eq "$(curl -s "${CA[@]}" -o /dev/null -w '%{http_code}' "$URL/")" 200 "https still served after it"
kill -0 "$FE_PID" || fail "the frontend died"
pass "plain HTTP to the TLS port: 400 this port speaks HTTPS; HTTPS goes on"

# ---------------------------------------------------------------- reload --
assert_eq "$(serial_of "$PORT")" "125D" "the first certificate's serial (4701)"
# a keep-alive connection opened before the reload: a request before, one after
cat >"$T/keepalive.py" <<'PY'
import os, socket, ssl, sys, time
port, ca, go = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1")
f = s.makefile("rb")
def get():
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    status = f.readline().decode().strip()
    n = 0
    while True:
        h = f.readline().decode().strip()
        if not h:
            break
        if h.lower().startswith("content-length:"):
            n = int(h.split(":")[1])
    return status, f.read(n).decode()
print("before", get(), s.getpeercert()["serialNumber"], flush=True)
while not os.path.exists(go):
    time.sleep(0.1)
print("after", get(), s.getpeercert()["serialNumber"], flush=True)
PY
start_bg keepalive python3 "$T/keepalive.py" "$PORT" "$T/tls/tls.crt" "$T/go"
KA_PID=$BG_PID
wait_for -t 10 grep -q '^before' "$T/keepalive.log" || fail "keep-alive: $(cat "$T/keepalive.log")"
start_bg events curl -sN "${CA[@]}" --max-time 60 -b "$T/jar" "$URL/api/events"
EV_PID=$BG_PID
wait_for -t 10 grep -q '^event: ' "$T/events.log" || fail "the event stream did not start: $(cat "$T/events.log")"
cp "$T/tls2/tls.crt" "$T/tls/tls.crt"
cp "$T/tls2/tls.key" "$T/tls/tls.key"
kill -HUP "$DAVIT_BACKEND_PID"
wait_for -t 10 grep -q "TLS reload: new connections use the new certificate" "$LOG" ||
	fail "no reload in the log: $(tail -n 10 "$LOG")"
assert_eq "$(serial_of "$PORT")" "125E" "a new connection's serial after SIGHUP (4702)"
assert_eq "$(curl -s --cacert "$T/tls2/tls.crt" -b "$T/jar" -o /dev/null -w '%{http_code}' "$URL/api/state")" 200 \
	"/api/state with the new certificate"
kill -0 "$EV_PID" || fail "the event stream opened before the reload was closed"
touch "$T/go"
wait_for -t 10 grep -q '^after' "$T/keepalive.log" || fail "keep-alive after the reload: $(cat "$T/keepalive.log")"
assert_file_contains "$T/keepalive.log" "after ('HTTP/1.1 200 OK', '{\"backend\":\"up\"}') 125D"
assert_eq "$(kill -0 "$FE_PID" && echo alive)" alive "the same frontend process"
pass "SIGHUP: new connections get serial 125E; one opened before keeps its certificate (125D) and is answered, an event stream stays open"

# a bad certificate at SIGHUP keeps the one in use
echo "not a certificate" >"$T/tls/tls.crt"
kill -HUP "$DAVIT_BACKEND_PID"
wait_for -t 10 grep -q "the certificate in use is kept" "$LOG" || fail "no refusal logged: $(tail -n 5 "$LOG")"
assert_eq "$(serial_of "$PORT")" "125E" "the serial after a bad reload"
pass "a bad certificate at SIGHUP: the one in use is kept"

kill "$EV_PID" 2>/dev/null || true
davit_stop_backend
assert_eq "$DAVIT_BACKEND_STATUS" 0 "backend exit status"

# ------------------------------------------------------ the units' layout --
# backend --no-frontend, the frontend started apart (as davit-frontend.service
# does): the same tls.get in its handshake, the same reload on SIGHUP
FE_BIN=$DAVIT_BUILD/frontend/davit-frontend
mkcert "$T/tls3" 4703
mkcert "$T/tls4" 4704
mkdir -p "$T/live"
cp -p "$T/tls3/tls.crt" "$T/tls3/tls.key" "$T/live/"
write_davit_env "$ENV" "${base[@]}" "DAVIT_TLS_CERT=$T/live/tls.crt" "DAVIT_TLS_KEY=$T/live/tls.key"
davit_start_backend "$ENV" --no-frontend
_SAN_LOGS+=("$T/frontend.log")
start_bg frontend "$FE_BIN" --socket "$SOCK" --user davit
FE2_PID=$BG_PID
wait_for port_open "$PORT" || fail "the frontend apart never listened on $PORT: $(tail -n 20 "$T/frontend.log")"
assert_file_contains "$T/frontend.log" "(HTTPS)"
assert_eq "$(serial_of "$PORT")" "125F" "the units' layout: the certificate's serial (4703)"
out=$(echo '{"id":1,"op":"tls.get"}' | socat -t 5 - "UNIX-CONNECT:$SOCK")
assert_contains "$out" '"not_allowed"' "tls.get asked by root"
assert_not_contains "$out" "PRIVATE" "root's refused tls.get"
pass "the units' layout: HTTPS from tls.get; root's tls.get is refused"

start_bg keepalive2 python3 "$T/keepalive.py" "$PORT" "$T/tls3/tls.crt" "$T/go2"
wait_for -t 10 grep -q '^before' "$T/keepalive2.log" || fail "keep-alive: $(cat "$T/keepalive2.log")"
cp "$T/tls4/tls.crt" "$T/live/tls.crt"
cp "$T/tls4/tls.key" "$T/live/tls.key"
kill -HUP "$DAVIT_BACKEND_PID"
wait_for -t 10 grep -q "TLS reload: new connections use the new certificate" "$T/frontend.log" ||
	fail "no reload in the frontend's log: $(tail -n 10 "$T/frontend.log")"
assert_eq "$(serial_of "$PORT")" "1260" "the units' layout: a new connection's serial after SIGHUP (4704)"
touch "$T/go2"
wait_for -t 10 grep -q '^after' "$T/keepalive2.log" || fail "keep-alive after the reload: $(cat "$T/keepalive2.log")"
assert_file_contains "$T/keepalive2.log" "after ('HTTP/1.1 200 OK', '{\"backend\":\"up\"}') 125F"
assert_eq "$(kill -0 "$FE2_PID" && echo alive)" alive "the same frontend process"
pass "the units' layout, SIGHUP: new connections get serial 1260, one opened before keeps 125F and is answered"

stop_pid "$FE2_PID"
davit_stop_backend
assert_eq "$DAVIT_BACKEND_STATUS" 0 "backend exit status"
# no byte of the keys in any log, nor in the audit log (tls.get is in it: "ok")
assert_file_contains "$T/audit.jsonl" '"tls.get"'
for k in "$T/tls/tls.key" "$T/tls2/tls.key" "$T/tls3/tls.key" "$T/tls4/tls.key"; do
	line=$(sed -n 2p "$k")
	for f in "$T"/*.log "$T/audit.jsonl"; do
		assert_file_not_contains "$f" "$line"
	done
done
for f in "$LOG" "$T/frontend.log" "$T/audit.jsonl"; do
	assert_file_not_contains "$f" "PRIVATE KEY"
done
pass "no key bytes in any log or in the audit log"
