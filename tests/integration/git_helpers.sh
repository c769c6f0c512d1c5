# shellcheck shell=bash
# Helpers shared by the git integration tests (t_30_git.sh, t_31_git_http.sh,
# t_32_git_token_scope.sh), sourced after lib.sh (which has submit, job_wait,
# run_job). Its push_commit REPO FILE CONTENT MSG replaces demo-lib.sh's.

# git CLI of the tests: repositories owned by another test user are fine here
# (this never reaches davit's git child, which has no global config).
git config --file "$GIT_CONFIG_GLOBAL" safe.directory '*'
git config --file "$GIT_CONFIG_GLOBAL" protocol.file.allow always

# git_status: the git.status result, compact.
git_status() {
	proto '{"id":3,"op":"git.status"}' | jq -c .result
}

# jget JSON FILTER: jq -r on a JSON value.
jget() {
	jq -cr "$2" <<<"$1"
}

# push_commit REPO FILE CONTENT MSG: commits FILE=CONTENT in the clone REPO
# and pushes it to its origin; prints the new commit id.
push_commit() {
	local repo=$1 file=$2 content=$3 msg=$4
	mkdir -p "$(dirname "$repo/$file")"
	printf '%s\n' "$content" >"$repo/$file"
	git -C "$repo" add -A >/dev/null
	git -C "$repo" commit -qm "$msg" >/dev/null
	git -C "$repo" push -q origin HEAD:main >/dev/null 2>&1 || fail "push_commit: push failed"
	git -C "$repo" rev-parse HEAD
}

# keep JSON: records a reply in $REPLIES for a leak check, prints it back.
keep() {
	printf '%s\n' "$1" >>"$REPLIES"
	printf '%s' "$1"
}

# log_count JOBJSON PATTERN: how many job log lines match PATTERN (grep -E).
log_count() {
	jq -r '.log[]' <<<"$1" | grep -cE -- "$2" || true
}

# git_child_to PORT: the pid of the backend's davit-git connected to
# 127.0.0.1:PORT (a run's child, not the spare that waits for the next
# request: backend/git_spare.c); fails if none
git_child_to() {
	local p
	for p in $(ps --ppid "$DAVIT_BACKEND_PID" -o pid=,args= | awk '/--git-child/ { print $1 }'); do
		ss -tnp 2>/dev/null | grep "pid=$p," | grep -q "127.0.0.1:$1" &&
			{ echo "$p"; return 0; }
	done
	return 1
}
