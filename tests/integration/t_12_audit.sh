#!/usr/bin/env bash
# The audit log stays bounded: read-only requests (hello, project.get,
# services.list, job.get, ...) are counted in one "requests.summary" line
# (written at the latest a minute after the first one counted, and at a
# reopen, a rotation and the shutdown) instead of a line each; other
# requests keep their line; past DAVIT_AUDIT_MAX bytes the file is rotated
# and audit.jsonl.1 .. .4 are kept; SIGHUP reopens it after it was moved
# away. (The minute's timer itself is checked at the end of t_61, which
# runs for longer than a minute anyway.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || fail "jq is needed"
chmod 0711 "$T"
AUDIT=$T/log/audit.jsonl
write_davit_env "$T/davit.env" \
	"DAVIT_SOCKET=$T/run/backend.sock" \
	"DAVIT_WORKDIR=$T/app" \
	"DAVIT_SERVICES=web,worker" \
	"DAVIT_DOCKER_SOCKET=$T/no-docker.sock" \
	"DAVIT_AUDIT_LOG=$AUDIT" \
	"DAVIT_AUDIT_MAX=65536"
davit_start_backend "$T/davit.env" --no-frontend

# pipe FILE: sends FILE's request lines on one connection, prints the replies
pipe() {
	socat -t 10 - "UNIX-CONNECT:$SOCK" <"$1"
}
# reqs N LINE: N copies of a request line (%d: its number)
reqs() {
	local i
	for ((i = 1; i <= $1; i++)); do
		# shellcheck disable=SC2059 # the line is the format
		printf "$2\n" "$i"
	done
}

# ------------------------------------------- read-only requests: counted --
if scenario read_only; then
{
	reqs 300 '{"id":%d,"op":"hello"}'
	reqs 200 '{"id":%d,"op":"services.list"}'
	reqs 100 '{"id":%d,"op":"project.get"}'
	reqs 5 '{"id":%d,"op":"job.get","args":{"job":999}}'
	reqs 1 '{"id":%d,"op":"service.restart","args":{"service":"db"}}'
} >"$T/quiet.txt"
pipe "$T/quiet.txt" >"$T/quiet.out"
assert_eq "$(grep -c '"ok":true' "$T/quiet.out")" 600 "the read-only requests answered"
assert_eq "$(grep -c '"ok":false' "$T/quiet.out")" 6 "and the failing ones"
jq -e . "$AUDIT" >/dev/null || fail "the audit log is not JSON lines"
assert_file_not_contains "$AUDIT" '"op":"hello"'
assert_file_not_contains "$AUDIT" '"op":"services.list"'
assert_file_not_contains "$AUDIT" '"op":"job.get"'
# a project-scoped request names its project (the only one: the workdir's name)
assert_file_contains "$AUDIT" '"op":"service.restart","project":"app","id":1,"args":{"service":"db"},"result":"not_allowed"'
assert_eq "$(grep -c . "$AUDIT")" 1 "one line for 606 requests, so far"
pass "read-only requests are not written a line each; the others are"
fi

# ------------------------------------------------- SIGHUP: reopened --
if scenario sighup read_only; then
mv "$AUDIT" "$T/log/audit.moved"
kill -HUP "$DAVIT_BACKEND_PID"
wait_for -t 10 test -f "$AUDIT" || fail "SIGHUP did not reopen the audit log"
# the summary so far ends the file that was moved away
s=$(grep '"kind":"requests.summary"' "$T/log/audit.moved") || fail "no summary in the moved file: $(cat "$T/log/audit.moved")"
assert_eq "$(jq -c .ok <<<"$s")" '{"hello":300,"project.get":100,"services.list":200}' "the summary's counts"
assert_eq "$(jq -c .failed <<<"$s")" '{"job.get":5}' "the failed ones"
assert_eq "$(jq -r .requests <<<"$s")" 605 "in all"
assert_eq "$(jq -c .uids <<<"$s")" '[0]' "who asked"
r=$(proto '{"id":7,"op":"service.stop","args":{"service":"db"}}')
assert_contains "$r" not_allowed
assert_file_contains "$AUDIT" '"op":"service.stop","project":"app","id":7'
assert_file_not_contains "$T/log/audit.moved" '"op":"service.stop"'
kill -0 "$DAVIT_BACKEND_PID" || fail "the backend died of SIGHUP"
pass "SIGHUP reopens the audit log after it was moved away; the summary ends the old file"
fi

# ------------------------------------------------------------ rotation --
if scenario rotation; then
# ~160 bytes a line: 2500 lines are more than five times DAVIT_AUDIT_MAX
reqs 2500 '{"id":%d,"op":"service.restart","args":{"service":"nope"}}' >"$T/loud.txt"
reqs 10 '{"id":%d,"op":"hello"}' >>"$T/loud.txt"
pipe "$T/loud.txt" >"$T/loud.out"
assert_eq "$(grep -c '"ok":false' "$T/loud.out")" 2500 "all answered"
for f in "$AUDIT" "$AUDIT".{1..4}; do
	[ -f "$f" ] || fail "$f missing"
	jq -e . "$f" >/dev/null || fail "$f is not JSON lines"
	sz=$(stat -c %s "$f")
	[ "$sz" -le $((65536 + 1024)) ] || fail "$f has $sz bytes, over DAVIT_AUDIT_MAX"
done
[ ! -e "$AUDIT.5" ] || fail "a fifth rotated file"
assert_eq "$(stat -c %a "$AUDIT")" 640 "the new file's mode"
# the newest request is in the current file; nothing lost between the kept ones
assert_eq "$(grep '"op":"service.restart"' "$AUDIT" | tail -n 1 | jq -r .id)" 2500 "the newest line"
ids=$(cat "$AUDIT".{4,3,2,1} "$AUDIT" | jq -r 'select(.op == "service.restart") | .id')
first=$(head -n 1 <<<"$ids")
assert_eq "$(tr '\n' ' ' <<<"$ids")" "$(seq -s " " "$first" 2500) " "the kept files hold consecutive lines"
pass "rotation at DAVIT_AUDIT_MAX keeps audit.jsonl.1 .. .4"
fi

# ---------------------------------------------- the summary at shutdown --
if scenario shutdown_summary sighup rotation; then
davit_stop_backend
assert_eq "$DAVIT_BACKEND_STATUS" 0 "clean stop"
s=$(tail -n 1 "$AUDIT")
assert_eq "$(jq -r .kind <<<"$s")" requests.summary "the last line"
assert_eq "$(jq -c .ok <<<"$s")" '{"hello":10}' "the hellos since the last summary"
pass "the pending summary is written at shutdown"
fi
