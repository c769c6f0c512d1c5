#!/usr/bin/env bash
# What davit-backend refuses at start (a clear message, exit status 1): a
# config file that is a symlink, not root's, open to group or others, or inside
# DAVIT_WORKDIR; a webhook secret under 16 bytes; a DAVIT_USER that is root,
# nobody, the checkout's owner or in the docker group; a socket or audit-log
# directory that is not root's alone, an audit log that is a symlink. Then,
# on a running backend: no core dumps, comments and disguising characters
# refused, log lines escaped, idle peers closed, root's reserved slots; and
# davit-frontend refusing a socket that is not root's.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BIN=$DAVIT_BUILD/backend/davit-backend
FE_BIN=$DAVIT_BUILD/frontend/davit-frontend
mkdir -p "$T/app"

# refused NAME ENVFILE TEXT: the backend exits 1 at start and its log says TEXT
refused() {
	local st=0
	timeout 20 "$BIN" --config "$2" --no-frontend >"$T/$1.log" 2>&1 || st=$?
	assert_eq "$st" 1 "$1: exit status; log: $(tail -n 3 "$T/$1.log")"
	assert_file_contains "$T/$1.log" "$3"
	[ ! -S "$T/run/backend.sock" ] || fail "$1: a socket was made"
}

# (DAVIT_SOCKET in $T/run: refusals happen before it would be made)
base=("DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web" "DAVIT_SOCKET=$T/run/backend.sock")

# ------------------------------------------------------ the config file --
write_davit_env "$T/good.env" "${base[@]}"
if scenario config_file; then
ln -s "$T/good.env" "$T/link.env"
refused symlink "$T/link.env" "$T/link.env: is a symbolic link"
cp -p "$T/good.env" "$T/davits.env"
chown davit "$T/davits.env"
refused owner "$T/davits.env" "$T/davits.env: owned by uid $(id -u davit), must be owned by root"
for mode in 0640 0604 0620 0602; do
	cp -p "$T/good.env" "$T/m$mode.env"
	chmod "$mode" "$T/m$mode.env"
	refused "mode$mode" "$T/m$mode.env" "$T/m$mode.env: mode $mode lets group or others at it (it holds the secrets): chmod 600"
done
cp -p "$T/good.env" "$T/app/davit.env"
refused inside "$T/app/davit.env" "$T/app/davit.env: inside DAVIT_WORKDIR $T/app, the compose build context"
# the same through a symlinked workdir (real paths are compared)
ln -s "$T/app" "$T/applink"
write_davit_env "$T/app/sub.env" "DAVIT_WORKDIR=$T/applink" "DAVIT_SERVICES=web" "DAVIT_SOCKET=$T/run/backend.sock"
refused inside2 "$T/app/sub.env" "inside DAVIT_WORKDIR $T/applink"
write_davit_env "$T/short.env" "${base[@]}" "DAVIT_WEBHOOK_SECRET=fifteen-bytes!!"
refused shortsecret "$T/short.env" "DAVIT_WEBHOOK_SECRET: too short, at least 16 bytes"
assert_file_not_contains "$T/shortsecret.log" "fifteen-bytes"
pass "config file: symlink, owner, mode, inside the workdir, short webhook secret refused"
fi

# ------------------------------------------------------------ DAVIT_USER --
if scenario davit_user; then
write_davit_env "$T/root.env" "${base[@]}" "DAVIT_USER=root"
refused user-root "$T/root.env" "DAVIT_USER root: must not be root"
write_davit_env "$T/nobody.env" "${base[@]}" "DAVIT_USER=nobody"
refused user-nobody "$T/nobody.env" "DAVIT_USER nobody: must be a user of its own, not nobody"
mkdir -p "$T/davitapp"
chown davit "$T/davitapp"
write_davit_env "$T/owner.env" "DAVIT_WORKDIR=$T/davitapp" "DAVIT_SERVICES=web" "DAVIT_SOCKET=$T/run/backend.sock"
refused user-owner "$T/owner.env" "DAVIT_USER davit: owns DAVIT_WORKDIR $T/davitapp"
getent group docker >/dev/null || groupadd --system docker
DOCKU=dt11-$$
useradd --system --no-create-home --shell /usr/sbin/nologin -G docker "$DOCKU"
on_exit "userdel '$DOCKU'"
write_davit_env "$T/dock.env" "${base[@]}" "DAVIT_USER=$DOCKU"
refused user-docker "$T/dock.env" "DAVIT_USER $DOCKU: in the docker group, which is as good as root"
pass "DAVIT_USER: root, nobody, the checkout's owner, the docker group refused"
fi

# -------------------------------------------- socket and audit directories --
if scenario directories; then
mkdir -p "$T/opensock" "$T/davitsock" "$T/openaudit" "$T/linkaudit"
chmod 0777 "$T/opensock"
chown davit "$T/davitsock"
chmod 1777 "$T/openaudit"
write_davit_env "$T/s1.env" "DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web" "DAVIT_SOCKET=$T/opensock/b.sock"
refused sockdir-open "$T/s1.env" "DAVIT_SOCKET's directory $T/opensock must belong to root and be writable by root only (it is uid 0, mode 0777)"
write_davit_env "$T/s2.env" "DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web" "DAVIT_SOCKET=$T/davitsock/b.sock"
refused sockdir-owner "$T/s2.env" "DAVIT_SOCKET's directory $T/davitsock must belong to root"
[ ! -e "$T/opensock/b.sock" ] && [ ! -e "$T/davitsock/b.sock" ] || fail "a socket was made in a bad directory"
write_davit_env "$T/a1.env" "${base[@]}" "DAVIT_AUDIT_LOG=$T/openaudit/audit.jsonl"
refused auditdir "$T/a1.env" "DAVIT_AUDIT_LOG's directory $T/openaudit must belong to root and be writable by root only"
ln -s "$T/elsewhere" "$T/linkaudit/audit.jsonl"
write_davit_env "$T/a2.env" "${base[@]}" "DAVIT_AUDIT_LOG=$T/linkaudit/audit.jsonl"
refused auditlink "$T/a2.env" "DAVIT_AUDIT_LOG $T/linkaudit/audit.jsonl: Too many levels of symbolic links"
[ ! -e "$T/elsewhere" ] || fail "the audit log's symlink was followed"
pass "socket and audit-log directories must be root's alone; the audit log is not followed through a symlink"
fi

# ------------------------------------------------------- a running backend --
if scenario running; then
rm -f "$T/app/davit.env" "$T/app/sub.env"
davit_start_backend "$T/good.env" --no-frontend
grep -E '^Max core file size +0 +0 ' "/proc/$DAVIT_BACKEND_PID/limits" >/dev/null ||
	fail "core dumps not off: $(grep core "/proc/$DAVIT_BACKEND_PID/limits")"
assert_eq "$(stat -c '%U %a' "$SOCK")" "root 660" "the socket"
# comments are not JSON: this hid a \u0000 from the pre-scans
r=$(proto '{"id":1,"op":"service.start","args":/*"*/{"service":"web\u0000zzz"}}')
assert_eq "$(jq -r .error.code <<<"$r")" bad_json "a comment: $r"
r=$(proto '{"id":2,/* x */"op":"hello"}')
assert_eq "$(jq -r .error.code <<<"$r")" bad_json "a comment: $r"
# disguising characters in text fields, raw and escaped
r=$(proto "{\"id\":3,\"op\":\"webhook.rejected\",\"args\":{\"reason\":\"bad $(printf '\xe2\x80\xae')gis\"}}")
assert_eq "$(jq -r .error.code <<<"$r")" bad_request "a bidi control in reason: $r"
r=$(proto '{"id":4,"op":"deploy","args":{"by":"me\u2028x"}}')
assert_eq "$(jq -r .error.code <<<"$r")" bad_request "U+2028 in by: $r"
r=$(proto '{"id":5,"op":"webhook.rejected","args":{"reason":"r","client":"\u0085"}}')
assert_eq "$(jq -r .error.code <<<"$r")" bad_request "a C1 control in client: $r"
# ... and a log line shows them escaped
r=$(proto '{"id":6,"op":"no\u202eop"}')
assert_eq "$(jq -r .error.code <<<"$r")" unknown_op "$r"
assert_file_contains "$T/backend.log" 'no\u202eop'
if grep -q "$(printf '\xe2\x80\xae')" "$T/backend.log"; then
	fail "a raw U+202E reached the log"
fi
pass "running backend: no core, JSON without comments, text fields and logs safe"
fi

# ------------------------------------------------- connection slots, idle --
if scenario slots running; then
# DAVIT_USER's peers get at most 60 of the 64 slots; root still gets in
cat >"$T/slots.py" <<'EOF'
import socket, sys, time
path, n, hold = sys.argv[1], int(sys.argv[2]), sys.argv[3]
socks, served = [], 0
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(5)
    try:
        s.sendall(b'{"id":1,"op":"hello"}\n')
        if b'"ok":true' in s.recv(4096):
            served += 1
    except OSError:
        pass
    socks.append(s)
print(served, flush=True)
open(hold, "w").close()
time.sleep(30)
EOF
mkdir -p "$T/du"
chown davit "$T/du"
runuser -u davit -- python3 "$T/slots.py" "$SOCK" 64 "$T/du/slots.held" >"$T/slots.out" 2>&1 &
SLOTS_PID=$!
on_exit "kill $SLOTS_PID"
wait_for -t 40 test -e "$T/du/slots.held" || fail "the slot holder did not finish: $(cat "$T/slots.out")"
assert_eq "$(cat "$T/slots.out")" 60 "connections served for DAVIT_USER"
r=$(proto '{"id":7,"op":"hello"}')
assert_eq "$(jq -r .result.role <<<"$r")" root "root while DAVIT_USER holds its 60: $r"
assert_file_contains "$T/backend.log" "davit holds 60 connections already"
kill "$SLOTS_PID" 2>/dev/null || true
wait "$SLOTS_PID" 2>/dev/null || true
pass "root keeps its slots however many DAVIT_USER holds"

# an unsubscribed peer that sends nothing is closed; a subscriber is not
cat >"$T/idle.py" <<'EOF'
import socket, sys, time
path = sys.argv[1]
idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
idle.connect(path)
sub = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sub.connect(path)
sub.sendall(b'{"id":1,"op":"subscribe"}\n')
idle.settimeout(120)
try:
    got = idle.recv(1)
    print("idle closed" if got == b"" else "idle got data")
except socket.timeout:
    print("idle still open")
sub.settimeout(10)
sub.sendall(b'{"id":2,"op":"hello"}\n')
buf = b""
while b'"id":2' not in buf:
    d = sub.recv(65536)
    if not d:
        break
    buf += d
print("subscriber served" if b'"id":2' in buf else "subscriber lost")
EOF
timeout 150 python3 "$T/idle.py" "$SOCK" >"$T/idle.out" 2>&1 || fail "idle.py: $(cat "$T/idle.out")"
assert_eq "$(tr '\n' ' ' <"$T/idle.out")" "idle closed subscriber served " "idle peers"
assert_file_contains "$T/backend.log" "sent nothing for 60 s, closing"
davit_stop_backend
assert_eq "$DAVIT_BACKEND_STATUS" 0 "clean stop"
pass "an idle unsubscribed peer is closed, a subscriber kept"
fi

# ------------------------------------- the frontend checks who listens --
if scenario frontend_listener; then
mkdir -p "$T/fake"
chown davit "$T/fake"
chmod 0755 "$T/fake"
cat >"$T/listen.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(8)
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        c, _ = s.accept()
        c.settimeout(2)
        try:
            out.write(c.recv(65536))
        except OSError:
            pass
        c.close()
EOF
: >"$T/fake.got"
chmod 0666 "$T/fake.got"
start_bg fakelisten runuser -u davit -- python3 "$T/listen.py" "$T/fake/b.sock" "$T/fake.got"
wait_for -t 10 test -S "$T/fake/b.sock" || fail "the fake listener did not start"
_SAN_LOGS+=("$T/frontend.log")
start_bg frontend "$FE_BIN" --socket "$T/fake/b.sock" --user davit
FE_PID=$BG_PID
wait_for -t 20 grep -q "listened on by uid $(id -u davit)" "$T/frontend.log" ||
	fail "the frontend did not refuse: $(cat "$T/frontend.log")"
assert_file_contains "$T/frontend.log" "$T/fake/b.sock: listened on by uid $(id -u davit) pid"
assert_file_contains "$T/frontend.log" "not root: refused"
stop_pid "$FE_PID"
assert_eq "$(wc -c <"$T/fake.got")" 0 "nothing was sent to a listener that is not root"
pass "davit-frontend talks only to a socket root listens on"
fi
