# shellcheck shell=bash
# Helpers shared by the git integration tests (t_30_git.sh, t_31_git_http.sh),
# sourced after lib.sh.

# git CLI of the tests: repositories owned by another test user are fine here
# (this never reaches davit's git child, which has no global config).
git config --file "$GIT_CONFIG_GLOBAL" safe.directory '*'
git config --file "$GIT_CONFIG_GLOBAL" protocol.file.allow always

# submit OP: submits a job op, prints its id.
submit() {
	local r
	r=$(proto "{\"id\":1,\"op\":\"$1\"}")
	jq -er '.result.job' <<<"$r" 2>/dev/null || fail "submit $1: $r"
}

# job_wait ID [SECONDS]: waits until the job ended, prints its JSON (job.get result).
job_wait() {
	local id=$1 r st deadline=$((SECONDS + ${2:-60}))
	while :; do
		r=$(proto "{\"id\":2,\"op\":\"job.get\",\"args\":{\"job\":$id}}")
		st=$(jq -r '.result.state' <<<"$r" 2>/dev/null || true)
		case $st in
		succeeded | failed)
			jq -c .result <<<"$r"
			return 0
			;;
		esac
		[ "$SECONDS" -lt "$deadline" ] || fail "job $id still '$st' after ${2:-60}s: $r"
		sleep 0.2
	done
}

# run_job OP [SECONDS]: submit + job_wait.
run_job() {
	local id
	id=$(submit "$1")
	job_wait "$id" "${2:-60}"
}

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

# log_count JOBJSON PATTERN: how many job log lines match PATTERN (grep -E).
log_count() {
	jq -r '.log[]' <<<"$1" | grep -cE -- "$2" || true
}
