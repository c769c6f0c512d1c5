#!/usr/bin/env bash
# The TLS key's bytes do not stay in the backend's memory once tls.get's
# reply is written: the reply line is wiped from the output buffer after it
# went out (backend/control.c), the JSON generator's memory when it is
# freed or moved (common/json.c), the files' bytes in sodium_malloc'd
# memory (backend/supervise.c), and the CPU's vector registers, which
# memcpy left holding the reply's last bytes, are cleared before a signal
# can save them in a frame on the stack (common/wipe.c).  Read from
# /proc/PID/mem as root: no line of the key's PEM body is anywhere in the
# backend's writable memory after several tls.get and a signal, nor after
# SIGHUP read the files again and a signal, while the reply did carry it.
# (The signal is SIGCHLD, which the backend handles and which has no child
# to reap here: under load, the end of the compose probe's child is the one
# that came after tls.get and left the key on the stack.)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

getent passwd davit >/dev/null || fail "no user davit (scripts/setup.sh)"
command -v openssl >/dev/null || fail "openssl is needed"

mkdir -p "$T/run" "$T/app" "$T/tls"
chmod 0755 "$T/run"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/tls/tls.key" -out "$T/tls/tls.crt" -days 2 -subj "/CN=127.0.0.1" 2>/dev/null
chmod 0600 "$T/tls/tls.key" "$T/tls/tls.crt"
write_davit_env "$T/davit.env" \
	"DAVIT_SOCKET=$T/run/backend.sock" \
	"DAVIT_WORKDIR=$T/app" \
	"DAVIT_SERVICES=web" \
	"DAVIT_TLS_CERT=$T/tls/tls.crt" \
	"DAVIT_TLS_KEY=$T/tls/tls.key"
davit_start_backend "$T/davit.env" --no-frontend

# the key's base64 lines, each long enough to be found only where the key is
grep -v '^-----' "$T/tls/tls.key" | awk 'length($0) >= 40' >"$T/needles"
[ -s "$T/needles" ] || fail "no line to look for in the key"
for i in 1 2 3 4; do
	r=$(proto_as davit "{\"id\":$i,\"op\":\"tls.get\"}")
	assert_contains "$r" "$(head -n 1 "$T/needles")" "tls.get $i carries the key"
done
r=; unset r

# scan PID NEEDLES: prints the needles found in the writable memory of PID
cat >"$T/scan.py" <<'PY'
import re, sys
pid, needles = sys.argv[1], [l.strip().encode() for l in open(sys.argv[2]) if l.strip()]
found = set()
with open("/proc/%s/maps" % pid) as maps, open("/proc/%s/mem" % pid, "rb", 0) as mem:
    for m in maps:
        f = m.split()
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        # writable private memory (heap, anonymous mappings, stacks), not
        # the sanitizer's shadow (terabytes reserved) nor files mapped
        if "rw" not in f[1] or hi - lo > (1 << 30) or (len(f) > 5 and f[5].startswith("/")):
            continue
        try:
            mem.seek(lo)
            data = mem.read(hi - lo)
        except OSError:
            continue
        for n in needles:
            if n in data:
                found.add(n.decode())
print("\n".join(sorted(found)))
PY
# a signal saves the registers in a frame on the backend's stack
kill -CHLD "$DAVIT_BACKEND_PID"
sleep 0.5	# the replies written and their buffers freed, the signal handled
found=$(python3 "$T/scan.py" "$DAVIT_BACKEND_PID" "$T/needles")
assert_eq "$found" "" "key lines left in the backend's memory after tls.get"
# SIGHUP reads both files again (the frontend would be told to ask again)
kill -HUP "$DAVIT_BACKEND_PID"
wait_for grep -q "SIGHUP: the frontend is told" "$T/backend.log" ||
	fail "no SIGHUP line in the backend's log"
kill -CHLD "$DAVIT_BACKEND_PID"
sleep 0.5
found=$(python3 "$T/scan.py" "$DAVIT_BACKEND_PID" "$T/needles")
assert_eq "$found" "" "key lines left in the backend's memory after SIGHUP"
# the scan finds what is there: the socket's path, kept from the config
printf '%s\n' "$T/run/backend.sock" >"$T/control-needle"
assert_eq "$(python3 "$T/scan.py" "$DAVIT_BACKEND_PID" "$T/control-needle")" "$T/run/backend.sock" \
	"the scan finds a string the backend holds"
pass "no line of the TLS key in the backend's memory after 4 tls.get replies, SIGHUP and signals"
davit_stop_backend
