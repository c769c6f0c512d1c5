#!/usr/bin/env bash
# The spare git child (backend/git_spare.c): a davit-git exec'd ahead for the
# checkout's owner, waiting on its stdin for the next git run's request.
# - spare_used: after a git run a spare waits: dropped to the owner,
#   undumpable, no_new_privs, under its seccomp filter (entered before the
#   request is read; Landlock's rules need the request), holding no token;
#   the next fetch uses it (it is gone after the fetch, which succeeded)
#   and another spare follows;
# - spare_killed: a spare killed before its use is logged, the next fetch
#   execs its own child and succeeds, and a new spare follows;
# - spare_stop: stopping davit leaves no davit-git behind.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/git_helpers.sh"

git init -q --bare "$T/origin.git"
git clone -q "$T/origin.git" "$T/seed" 2>/dev/null
push_commit "$T/seed" README "hello" "first" >/dev/null
git clone -q "$T/origin.git" "$T/app"
app_owned "$T/app"
OUID=$(id -u "$DEMO_APP_USER")
OGID=$(id -g "$DEMO_APP_USER")
TOKEN=ghp_$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')

write_davit_env "$T/davit.env" "DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web" \
	"DAVIT_REPO_URL=file://$T/origin.git" "DAVIT_GITHUB_TOKEN=$TOKEN"
davit_start_backend "$T/davit.env" --no-frontend

# spare_pid: the backend's davit-git child that waits on its stdin (read
# from a pipe); empty if none
spare_pid() {
	local p
	for p in $(ps --ppid "$DAVIT_BACKEND_PID" -o pid=,args= | awk '/--git-child/ { print $1 }'); do
		case $(cat "/proc/$p/wchan" 2>/dev/null) in
		*pipe_read) ;;		# pipe_read, anon_pipe_read (6.x)
		*) continue ;;
		esac
		echo "$p"
		return 0
	done
	return 1
}
gone() { ! kill -0 "$1" 2>/dev/null; }
other_spare() { local p; p=$(spare_pid) && [ "$p" != "$1" ]; }

if scenario spare_used; then
	wait_for -t 15 spare_pid || fail "no spare git child after the start's status"
	sp=$(spare_pid)
	cmdline=$(tr '\0' ' ' <"/proc/$sp/cmdline")
	assert_contains "$cmdline" "--git-child $OUID $OGID" "the spare is the owner's child"
	assert_eq "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$sp/status")" "$OUID $OUID $OUID $OUID" "the spare runs as the owner"
	assert_eq "$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$sp/status")" 1 "the spare's no_new_privs"
	assert_eq "$(awk '/^Seccomp:/ { print $2 }' "/proc/$sp/status")" 2 "the spare waits under its seccomp filter"
	assert_eq "$(stat -c %u "/proc/$sp/environ")" 0 "the spare is undumpable"
	assert_not_contains "$(tr '\0' '\n' <"/proc/$sp/environ")" "$TOKEN" "no token in the spare's environment"
	c2=$(push_commit "$T/seed" src/a.txt "two" "second")
	j=$(run_job git.fetch)
	assert_eq "$(jget "$j" .state)" succeeded "the fetch: $j"
	assert_eq "$(git_status | jq -r .remote.id)" "$c2" "origin/main after the fetch"
	wait_for -t 10 gone "$sp" || fail "the spare $sp still waits: the fetch did not use it"
	wait_for -t 15 other_spare "$sp" || fail "no new spare after the fetch"
	pass "a spare git child waits as the owner, the fetch used it, another followed"
fi

if scenario spare_killed; then
	wait_for -t 15 spare_pid || fail "no spare git child"
	sp=$(spare_pid)
	kill -KILL "$sp"
	wait_for -t 10 grep -q "the spare git child was killed by signal 9 before it was used" "$T/backend.log" ||
		fail "the spare's death was not logged: $(tail -n 5 "$T/backend.log")"
	c3=$(push_commit "$T/seed" src/b.txt "three" "third")
	j=$(run_job git.fetch)
	assert_eq "$(jget "$j" .state)" succeeded "the fetch after the spare's death: $j"
	assert_eq "$(git_status | jq -r .remote.id)" "$c3" "origin/main after the fetch"
	wait_for -t 15 other_spare "$sp" || fail "no new spare after the fetch"
	pass "a spare killed before its use: logged, the fetch ran its own child, a new spare followed"
fi

if scenario spare_stop; then
	wait_for -t 15 spare_pid || fail "no spare git child"
	sp=$(spare_pid)
	davit_stop_backend
	assert_eq "$DAVIT_BACKEND_STATUS" 0 "davit stopped cleanly"
	wait_for -t 10 gone "$sp" || fail "the spare $sp outlived davit"
	pass "stopping davit ends its spare git child"
fi
