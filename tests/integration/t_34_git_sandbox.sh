#!/usr/bin/env bash
# The git child's own confinement (gitchild/sandbox.c):
# - a running child (a fetch from a server that never answers) shows
#   "Seccomp: 2", one filter (its own), no_new_privs;
# - Landlock is in force: a file outside the allowed set that the owner may
#   read (/etc/passwd) gives EACCES, a file in the workdir opens, a TCP
#   connection to a port that is not origin's gives EACCES, and the fetch
#   itself (file://, then http on loopback) still works;
# - a forbidden system call (execve) kills the child with SIGSYS, and the
#   backend fails the job saying so; the next fetch works.
# The probes need a test-only build (-Dsandbox_test_trigger=true: the file
# .git/davit-sandbox-test in the workdir), made in
# $DAVIT_SRC/build-sandbox-trigger (as t_43) with DAVIT_BUILD's sanitizer
# option; DAVIT_BUILD itself, a build without the option, must not have it.
# t_30 to t_33 and t_60 run the same child, confined, in the suite's build.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/git_helpers.sh"

SIGSYS_NR=31	# x86_64, arm64

# ----------------------------------------------------- the trigger's build --
buildopt() { # buildopt DIR NAME: the value of a meson option of DIR
	meson introspect --buildoptions "$1" | jq -r --arg n "$2" '.[] | select(.name == $n) | .value'
}
[ "$(buildopt "$DAVIT_BUILD" sandbox_test_trigger)" = false ] ||
	fail "$DAVIT_BUILD was built with -Dsandbox_test_trigger=true: the suite's build must not be"
if grep -q "davit-sandbox-test" "$DAVIT_BUILD/gitchild/davit-git"; then
	fail "$DAVIT_BUILD/gitchild/davit-git has the sandbox test trigger"
fi
pass "the suite's build ($DAVIT_BUILD) has no git sandbox test trigger"

TB=$DAVIT_SRC/build-sandbox-trigger
san=$(buildopt "$DAVIT_BUILD" b_sanitize)
if [ ! -f "$TB/meson-private/coredata.dat" ]; then
	meson setup "$TB" "$DAVIT_SRC" -Dtests=false -Dsandbox_test_trigger=true \
		-Db_sanitize="$san" -Db_lundef=false >"$T/trigger-setup.log" 2>&1 ||
		fail "meson setup $TB: $(tail -n 20 "$T/trigger-setup.log")"
fi
ninja -C "$TB" backend/davit-backend gitchild/davit-git >"$T/trigger-build.log" 2>&1 ||
	fail "building $TB: $(tail -n 30 "$T/trigger-build.log")"
assert_eq "$(buildopt "$TB" sandbox_test_trigger)" true "$TB has the trigger"
grep -q "davit-sandbox-test" "$TB/gitchild/davit-git" || fail "$TB's davit-git has no trigger"
info "test build $TB (b_sanitize=$san)"
DAVIT_BUILD=$TB

# ---------------------------------------------------------------- fixtures --
git init -q --bare "$T/origin.git"
git clone -q "$T/origin.git" "$T/seed" 2>/dev/null
push_commit "$T/seed" README "hello" "first" >/dev/null
git clone -q "$T/origin.git" "$T/app"
app_owned "$T/app"
TRIGGER=$T/app/.git/davit-sandbox-test

start_davit() { # start_davit URL [KEY=VALUE...]
	local url=$1
	shift
	write_davit_env "$T/davit.env" "DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web" \
		"DAVIT_REPO_URL=$url" "$@"
	davit_start_backend "$T/davit.env" --no-frontend
}
trigger() { # trigger WORDS: the child's next run acts on them
	printf '%s\n' "$*" >"$TRIGGER"
	chown "$DEMO_APP_USER" "$TRIGGER"
}

# ------------------------------------------ a running child: Seccomp: 2 --
TARPIT=$(unused_port)
start_bg tarpit socat "TCP-LISTEN:$TARPIT,bind=127.0.0.1,reuseaddr,fork" SYSTEM:'sleep 120'
TARPIT_PID=$BG_PID
wait_for -t 10 port_open "$TARPIT" || fail "no tarpit"
start_davit "http://127.0.0.1:$TARPIT/app.git"
submit git.fetch >/dev/null
# the child that waits for the tarpit's answer: by then it is confined
wait_for -t 30 git_child_to "$TARPIT" || fail "no git child connected to the tarpit"
cp=$(git_child_to "$TARPIT")
status=$(cat "/proc/$cp/status")
assert_contains "$status" "Seccomp:	2" "the git child's seccomp mode (filter)"
assert_contains "$status" "Seccomp_filters:	1" "one filter: the child's own"
assert_contains "$status" "NoNewPrivs:	1" "the git child's no_new_privs"
assert_contains "$(cat "/proc/$DAVIT_BACKEND_PID/status")" "Seccomp:	0" "the backend's seccomp mode"
own=$(id -u "$DEMO_APP_USER")
assert_eq "$(awk '/^Uid:/ { print $2 }' "/proc/$cp/status")" "$own" "the child runs as the owner"
pass "git child $cp, waiting for its server: Seccomp: 2, one filter, no_new_privs"
davit_stop_backend
stop_pid "$TARPIT_PID"

# --------------------------------------------------------------- Landlock --
runuser -u "$DEMO_APP_USER" -- cat /etc/passwd >/dev/null ||
	fail "the owner cannot read /etc/passwd anyway"
OTHER=$(unused_port)
start_bg other socat "TCP-LISTEN:$OTHER,bind=127.0.0.1,reuseaddr,fork" SYSTEM:'echo hi'
wait_for -t 10 port_open "$OTHER" || fail "no server on $OTHER"
c2=$(push_commit "$T/seed" src/a.txt "two" "second")
start_davit "file://$T/origin.git"
trigger probe "$OTHER"
j=$(run_job git.fetch)
assert_eq "$(jget "$j" .state)" succeeded "a file:// fetch, confined: $j"
assert_eq "$(git_status | jq -r .remote.id)" "$c2" "origin/main after the fetch"
assert_eq "$(log_count "$j" '^git: sandbox test: open /etc/passwd: Permission denied$')" 1 "Landlock: /etc/passwd: $j"
assert_eq "$(log_count "$j" '^git: sandbox test: open .git/HEAD: allowed$')" 1 "Landlock: the workdir: $j"
assert_eq "$(log_count "$j" "^git: sandbox test: connect to port $OTHER: Permission denied$")" 1 \
	"Landlock: TCP to a port that is not origin's: $j"
pass "Landlock: /etc/passwd (readable by the owner) and TCP to port $OTHER give EACCES; .git/HEAD opens; the fetch works"

# http on loopback: TCP to origin's port is allowed, the probe's is not
GOOD=ghp_sandbox$RANDOM$RANDOM
mkdir -p "$T/srv"
git clone -q --bare "$T/origin.git" "$T/srv/app.git"
HTTP=$(unused_port)
start_git_http "$T/srv" "$HTTP" "$GOOD"
davit_stop_backend
start_davit "http://127.0.0.1:$HTTP/app.git" "DAVIT_GITHUB_TOKEN=$GOOD"
j=$(run_job git.fetch)
assert_eq "$(jget "$j" .state)" succeeded "an http fetch, confined: $j"
assert_eq "$(log_count "$j" "^git: sandbox test: connect to port $OTHER: Permission denied$")" 1 \
	"Landlock over http: TCP to another port: $j"
pass "an http fetch under Landlock: origin's port connects, port $OTHER does not"

# ------------------------------------------------------ a forbidden call --
trigger violate
j=$(run_job git.fetch)
assert_eq "$(jget "$j" .state)" failed "execve in the git child: $j"
assert_contains "$(jget "$j" .error)" "killed by signal $SIGSYS_NR" "the job says the signal"
assert_eq "$(log_count "$j" '^git: sandbox test: calling execve')" 1 "the child got to the call: $j"
assert_eq "$(log_count "$j" '^git: sandbox test: execve returned')" 0 "execve never returned: $j"
pass "execve killed the git child with SIGSYS ($SIGSYS_NR); the job failed saying so"

rm -f "$TRIGGER"
c3=$(push_commit "$T/seed" src/b.txt "three" "third")
git -C "$T/srv/app.git" fetch -q "$T/origin.git" main:main
j=$(run_job git.fetch)
assert_eq "$(jget "$j" .state)" succeeded "the next fetch: $j"
assert_eq "$(git_status | jq -r .remote.id)" "$c3" "origin/main after the next fetch"
pass "the next child (no trigger) fetches: davit goes on"

davit_stop_backend
assert_eq "$DAVIT_BACKEND_STATUS" 0 "backend exit status"
check_sanitizer_logs
pass "clean shutdown"
