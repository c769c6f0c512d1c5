#!/usr/bin/env bash
# davit-backend --check-config FILE (and -t --config FILE): every problem of
# the file, of the DAVIT_ variables of its environment and of the start-up
# checks that start nothing (DAVIT_USER, the directories root writes in, the
# compose command, the GitHub App key) at once, exit 1, nothing created; or
# where each key came from and "configuration OK", exit 0. Secrets are never
# printed. A normal start prints every problem before refusing. The
# environment wins over the file; no child (the frontend, compose) inherits
# a DAVIT_ variable of the backend's environment.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BIN=$DAVIT_BUILD/backend/davit-backend
SECRET=Zq7-short-secr	# 14 bytes: too short a webhook secret
LONG_SECRET=Zq7-the-webhook-secret-of-the-environment
mkdir -p "$T/app"

# check NAME ARGS...: runs the check with ARGS, sets ST, OUT (stdout), ERR
check() {
	local name=$1
	shift
	ST=0
	timeout 20 "$BIN" "$@" >"$T/$name.out" 2>"$T/$name.err" || ST=$?
	OUT=$(cat "$T/$name.out")
	ERR=$(cat "$T/$name.err")
}

# ------------------------------------------------ a file with many problems --
write_davit_env "$T/bad.env" "DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web" \
	"DAVIT_SOCKET=$T/run/backend.sock" "DAVIT_AUDIT_LOG=$T/auditdir/audit.jsonl" \
	"DAVIT_LISTEN=nope" "DAVIT_STOP_TIMEOUT=99999" "DAVIT_WEBHOOK_SECRET=$SECRET" \
	"DAVIT_USER=nobody" "DAVIT_COMPOSE_COMMAND=$T/untrusted/docker-compose"
chmod 0644 "$T/bad.env"
mkdir -p "$T/untrusted"
printf '#!/bin/sh\nexit 0\n' >"$T/untrusted/docker-compose"
chmod 0755 "$T/untrusted/docker-compose"
line() { grep -n "^$1=" "$T/bad.env" | cut -d: -f1; }
check bad --check-config "$T/bad.env"
assert_eq "$ST" 1 "exit status with problems; stderr: $ERR"
assert_contains "$ERR" "$T/bad.env: mode 0644 lets group or others at it"
assert_contains "$ERR" "$T/bad.env:$(line DAVIT_LISTEN): DAVIT_LISTEN: must be host:port or [ipv6]:port"
assert_contains "$ERR" "$T/bad.env:$(line DAVIT_STOP_TIMEOUT): DAVIT_STOP_TIMEOUT: must be an integer from 0 to 3600"
assert_contains "$ERR" "$T/bad.env:$(line DAVIT_WEBHOOK_SECRET): DAVIT_WEBHOOK_SECRET: too short, at least 16 bytes"
assert_contains "$ERR" "DAVIT_USER nobody: must be a user of its own"
assert_contains "$ERR" "DAVIT_COMPOSE_COMMAND: "
assert_contains "$ERR" "$T/bad.env: 6 problems, davit would not start"
assert_not_contains "$OUT$ERR" "$SECRET" "the secret is never printed"
assert_not_contains "$OUT" "configuration OK"
# nothing made: no socket directory, no audit log directory
[ ! -e "$T/run" ] || fail "--check-config made $T/run"
[ ! -e "$T/auditdir" ] || fail "--check-config made $T/auditdir"
# -t is the same check (sshd's letter)
check bad-t -t --config "$T/bad.env"
assert_eq "$ST" 1 "-t: exit status"
assert_eq "$ERR" "$(cat "$T/bad.err")" "-t reports the same"
pass "--check-config: every problem of a file at once, exit 1, no secret, nothing made"

# a normal start refuses, after printing every problem
ST=0
timeout 20 "$BIN" --config "$T/bad.env" --no-frontend >"$T/start.log" 2>&1 || ST=$?
assert_eq "$ST" 1 "a start with the broken file"
assert_file_contains "$T/start.log" "DAVIT_LISTEN: must be host:port"
assert_file_contains "$T/start.log" "DAVIT_STOP_TIMEOUT: must be an integer"
assert_file_contains "$T/start.log" "mode 0644 lets group or others at it"
assert_file_not_contains "$T/start.log" "$SECRET"
[ ! -e "$T/run" ] || fail "the refused start made $T/run"
pass "a start with several problems prints them all, then refuses"

# --------------------------------------- a good file, the environment's keys --
write_davit_env "$T/good.env" "DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web,worker" \
	"DAVIT_SOCKET=$T/run/backend.sock" "DAVIT_STOP_TIMEOUT=20"
gline() { grep -n "^$1=" "$T/good.env" | cut -d: -f1; }
check good --check-config "$T/good.env"
assert_eq "$ST" 0 "a good file; stderr: $ERR"
assert_eq "$(tail -n 1 "$T/good.out")" "configuration OK"
assert_contains "$OUT" "DAVIT_WORKDIR=$T/app ($T/good.env:$(gline DAVIT_WORKDIR))"
assert_contains "$OUT" "DAVIT_SERVICES=web,worker ($T/good.env:$(gline DAVIT_SERVICES))"
assert_contains "$OUT" "DAVIT_PASSWORD=(secret) ($T/good.env:$(gline DAVIT_PASSWORD))"
assert_contains "$OUT" "DAVIT_STOP_TIMEOUT=20 ($T/good.env:"
assert_not_contains "$OUT$ERR" "test-password"
[ ! -e "$T/run" ] || fail "--check-config made $T/run"

DAVIT_STOP_TIMEOUT=7 DAVIT_WEBHOOK_SECRET=$LONG_SECRET check env --check-config "$T/good.env"
assert_eq "$ST" 0 "environment overrides; stderr: $ERR"
assert_contains "$OUT" "DAVIT_STOP_TIMEOUT=7 (environment)"
assert_contains "$OUT" "DAVIT_WEBHOOK_SECRET=(secret) (environment)"
assert_not_contains "$OUT$ERR" "$LONG_SECRET"
assert_not_contains "$OUT" "DAVIT_STOP_TIMEOUT=20"

DAVIT_LISTEN=bad DAVIT_WEBHOOK_SECRET=$SECRET check envbad --check-config "$T/good.env"
assert_eq "$ST" 1 "bad values in the environment"
assert_contains "$ERR" "environment: DAVIT_LISTEN: must be host:port or [ipv6]:port"
assert_contains "$ERR" "environment: DAVIT_WEBHOOK_SECRET: too short"
assert_not_contains "$OUT$ERR" "$SECRET"
pass "--check-config: sources (file:line, environment), the environment wins, secrets shown as (secret)"

# ------------------------------------------------------ the GitHub App key --
printf 'not a key\n' >"$T/app.pem"
chmod 0600 "$T/app.pem"
write_davit_env "$T/app.env" "DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web" \
	"DAVIT_SOCKET=$T/run/backend.sock" "DAVIT_GITHUB_APP_ID=12345" \
	"DAVIT_GITHUB_APP_KEY=$T/app.pem" "DAVIT_GITHUB_REPO=acme/shop"
check appkey --check-config "$T/app.env"
assert_eq "$ST" 1 "a GitHub App key that is no key"
assert_contains "$ERR" "DAVIT_GITHUB_APP_KEY $T/app.pem: "
assert_contains "$ERR" "1 problem, davit would not start"
cp "$DAVIT_SRC/tests/fixtures/github/test-app-key.TEST-ONLY.pem" "$T/app.pem"
chmod 0600 "$T/app.pem"
check appkey2 --check-config "$T/app.env"
assert_eq "$ST" 0 "a valid GitHub App key; stderr: $ERR"
pass "--check-config: the GitHub App key is read and checked"

# ------------------------------------- no DAVIT_ variable reaches a child --
ensure_docker
trusted_bin_dir
cat >"$TBIN/docker-compose" <<EOS
#!/bin/sh
env >"$T/compose.environ"
echo "fake compose: \$*"
exit 1
EOS
chmod 0755 "$TBIN/docker-compose"
write_davit_env "$T/run.env" "DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web" \
	"DAVIT_COMPOSE_PROJECT=$(unique_project cc)" "DAVIT_COMPOSE_COMMAND=$TBIN/docker-compose"
export DAVIT_STOP_TIMEOUT=7 DAVIT_WEBHOOK_SECRET=$LONG_SECRET
davit_start_backend "$T/run.env"
unset DAVIT_STOP_TIMEOUT DAVIT_WEBHOOK_SECRET
grep -qz '^DAVIT_WEBHOOK_SECRET=' "/proc/$DAVIT_BACKEND_PID/environ" ||
	fail "the backend was not given the variable"
fe_pid() {
	local p
	for p in $(pgrep -P "$DAVIT_BACKEND_PID"); do
		[[ $(readlink "/proc/$p/exe") == */davit-frontend ]] && { echo "$p"; return 0; }
	done
	return 1
}
wait_for -t 15 fe_pid || fail "no frontend under the backend"
FE=$(fe_pid)
fe_env=$(tr '\0' '\n' <"/proc/$FE/environ")
[ -n "$fe_env" ] || fail "could not read the frontend's environment"
assert_not_contains "$fe_env" "DAVIT_" "the frontend's environment: $fe_env"
r=$(proto '{"id":1,"op":"stack.rebuild","args":{}}')
wait_for -t 30 test -s "$T/compose.environ" || fail "compose did not run: $r; $(tail -n 5 "$T/backend.log")"
assert_file_not_contains "$T/compose.environ" "DAVIT_"
assert_file_contains "$T/compose.environ" "PATH="
assert_file_not_contains "$T/backend.log" "$LONG_SECRET"
davit_stop_backend
pass "a DAVIT_ variable of the backend's environment is in neither the frontend's nor compose's"
