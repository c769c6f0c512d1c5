#!/usr/bin/env bash
# Git over file://: status from memory, update shown after a push, fetch and a
# fast-forward pull (checked with the git CLI), the audit record of the pull,
# refusals that keep local work (modified tracked file, untracked file in the
# way, diverged history, detached HEAD, another branch), a missing and a
# corrupt repository, a checkout owned by a non-root user, clone into an empty
# and a missing workdir, a checkout or clone target that belongs to root
# (refused with the chown that fixes it, davit stays up), and the poll
# announcing origin's move as git.state. Checkouts belong to $DEMO_APP_USER:
# git never runs as root (the test's own git CLI edits are handed back).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/git_helpers.sh"

OWNER=davit-gitowner

# ---------------------------------------------------------------- fixtures --
git init -q --bare "$T/origin.git"
git clone -q "$T/origin.git" "$T/seed" 2>/dev/null
c1=$(push_commit "$T/seed" README "hello" "first")
push_commit "$T/seed" src/app.txt "v1" "second" >/dev/null
git clone -q "$T/origin.git" "$T/app"
app_owned "$T/app"
c2=$(git -C "$T/app" rev-parse HEAD)
assert_ne "$c1" "$c2"

start_davit() { # start_davit WORKDIR URL [KEY=VALUE...]
	local wd=$1 url=$2
	shift 2
	write_davit_env "$T/davit.env" "DAVIT_WORKDIR=$wd" "DAVIT_SERVICES=web" \
		"DAVIT_REPO_URL=$url" "$@"
	davit_start_backend "$T/davit.env" --no-frontend
}
restart_davit() {
	davit_stop_backend
	start_davit "$@"
}

start_davit "$T/app" "file://$T/origin.git"

# ------------------------------------------------------------ status, fetch --
if scenario status_fetch; then
wait_for -t 20 bash -c "[ \"\$(printf '%s\n' '{\"id\":1,\"op\":\"git.status\"}' | socat -t 5 - UNIX-CONNECT:$SOCK | jq -r .result.local.id)\" = $c2 ]" ||
	fail "the initial status never showed HEAD"
s=$(git_status)
assert_eq "$(jget "$s" .branch)" main "branch"
assert_eq "$(jget "$s" .local.id)" "$c2" "local = HEAD"
assert_eq "$(jget "$s" .local.summary)" second "local summary"
assert_eq "$(jget "$s" .local.author)" "davit test" "local author"
assert_eq "$(jget "$s" .remote.id)" "$c2" "remote = origin/main"
assert_eq "$(jget "$s" .update_available)" false "nothing to update at first"
assert_eq "$(jget "$s" .dirty)" "[]" "clean checkout"
assert_eq "$(jget "$s" .detached)" false "not detached"
pass "git.status from memory: branch, local, remote, clean"

c3=$(push_commit "$T/seed" src/new.txt "new file" "third: add new.txt")
git -C "$T/seed" mv src/app.txt src/renamed.txt
git -C "$T/seed" rm -q README
c4=$(push_commit "$T/seed" src/more.txt "more" "fourth: rename, delete, add")
s=$(git_status)
assert_eq "$(jget "$s" .update_available)" false "no update shown before a fetch"

config_before=$(cat "$T/app/.git/config")
j=$(run_job git.fetch)
assert_eq "$(jget "$j" .state)" succeeded "fetch succeeded: $j"
assert_contains "$(jget "$j" '.log|join("\n")')" "origin/main: " "fetch logs the move"
assert_contains "$(jget "$j" '.log|join("\n")')" "objects" "fetch logs objects received"
assert_eq "$(git -C "$T/app" rev-parse origin/main)" "$c4" "origin/main fetched (git CLI)"
assert_eq "$(git -C "$T/app" rev-parse HEAD)" "$c2" "fetch leaves HEAD"
assert_eq "$(cat "$T/app/.git/config")" "$config_before" "fetch leaves .git/config alone"
s=$(git_status)
assert_eq "$(jget "$s" .update_available)" true "update shown after fetch"
assert_eq "$(jget "$s" .behind)" 2 "behind by 2"
assert_eq "$(jget "$s" .ahead)" 0 "ahead 0"
assert_eq "$(jget "$s" '.incoming|length')" 2 "two incoming commits"
assert_eq "$(jget "$s" '.incoming[0].id')" "$c4" "incoming newest first"
assert_eq "$(jget "$s" '.incoming[1].id')" "$c3" "then the older"
assert_eq "$(jget "$s" '.incoming[0].summary')" "fourth: rename, delete, add" "incoming summary"
assert_ne "$(jget "$s" .fetched_at)" null "fetched_at set"
pass "a push to origin shows as update_available and incoming after git.fetch"
fi

# ------------------------------------------------------------------- pull --
if scenario pull status_fetch; then
j=$(run_job git.pull)
assert_eq "$(jget "$j" .state)" succeeded "pull succeeded: $j"
assert_eq "$(git -C "$T/app" rev-parse HEAD)" "$c4" "HEAD at origin (git CLI)"
assert_eq "$(git -C "$T/app" status --porcelain)" "" "clean after pull (git CLI)"
assert_eq "$(cat "$T/app/src/new.txt")" "new file" "new file checked out"
[ ! -e "$T/app/README" ] || fail "deleted file still there"
assert_eq "$(jget "$j" .result.from)" "$c2" "result from"
assert_eq "$(jget "$j" .result.to)" "$c4" "result to"
assert_eq "$(jget "$j" .result.commits)" 2 "two commits pulled"
files=$(jget "$j" '.result.files|map(.status+" "+(.old_path // "")+">"+.path)|sort|join(",")')
assert_eq "$files" "added >src/more.txt,added >src/new.txt,deleted >README,renamed src/app.txt>src/renamed.txt" "changed files"
log=$(jget "$j" '.log|join("\n")')
assert_contains "$log" "R src/app.txt -> src/renamed.txt" "rename in the job log"
assert_contains "$log" "D README" "deletion in the job log"
assert_contains "$log" "A src/new.txt" "addition in the job log"
rec=$(grep '"kind":"git.pull"' "$T/audit.jsonl" | tail -n 1)
assert_eq "$(jget "$rec" .from)" "$c2" "audit from"
assert_eq "$(jget "$rec" .to)" "$c4" "audit to"
assert_eq "$(jget "$rec" '.files|length')" 4 "audit lists the files"
s=$(git_status)
assert_eq "$(jget "$s" .local.id)" "$c4" "status local after pull"
assert_eq "$(jget "$s" .update_available)" false "no update after pull"
assert_eq "$(jget "$s" .behind)" 0 "behind 0 after pull"
pass "fast-forward pull: HEAD at origin, clean, files listed in result, log and audit"

j=$(run_job git.pull)
assert_eq "$(jget "$j" .state)" succeeded "pull when up to date"
assert_eq "$(jget "$j" .result.up_to_date)" true "up to date"
pass "pull when up to date is a no-op"
fi

# --------------------------------------------------------------- refusals --
if scenario refusals pull; then
c5=$(push_commit "$T/seed" src/new.txt "changed upstream" "fifth: change new.txt")
run_job git.fetch >/dev/null
printf 'local edit\n' >"$T/app/src/more.txt"
j=$(run_job git.pull)
assert_eq "$(jget "$j" .state)" failed "pull with a modified tracked file refused"
assert_eq "$(jget "$j" .result.code)" conflict "code conflict"
assert_contains "$(jget "$j" .error)" "src/more.txt" "message names the file"
assert_contains "$(jget "$j" .error)" "modified" "message says why"
assert_eq "$(cat "$T/app/src/more.txt")" "local edit" "the edit is intact"
assert_eq "$(git -C "$T/app" rev-parse HEAD)" "$c4" "HEAD unchanged"
s=$(git_status)
assert_eq "$(jget "$s" .dirty)" '["src/more.txt"]' "status lists the dirty file"
assert_contains "$(jget "$s" .error)" "modified" "status error says why"
git -C "$T/app" checkout -q -- src/more.txt
app_owned "$T/app"
pass "a modified tracked file: refused with conflict, the edit intact"

c6=$(push_commit "$T/seed" untracked.txt "from origin" "sixth: add untracked.txt")
run_job git.fetch >/dev/null
printf 'mine\n' >"$T/app/untracked.txt"
j=$(run_job git.pull)
assert_eq "$(jget "$j" .state)" failed "pull over an untracked file refused"
assert_eq "$(jget "$j" .result.code)" conflict "code conflict (untracked)"
assert_contains "$(jget "$j" .error)" "untracked.txt" "message names the untracked file"
assert_eq "$(cat "$T/app/untracked.txt")" "mine" "untracked file intact"
assert_eq "$(git -C "$T/app" rev-parse HEAD)" "$c4" "HEAD unchanged (untracked)"
assert_eq "$(git -C "$T/app" status --porcelain --untracked-files=no)" "" "no half checkout"
rm "$T/app/untracked.txt"
pass "an untracked file in the way: refused, intact"

git -C "$T/app" checkout -q --detach HEAD
j=$(run_job git.pull)
assert_eq "$(jget "$j" .result.code)" conflict "detached HEAD refused"
assert_contains "$(jget "$j" .error)" "detached" "message says detached"
assert_eq "$(jget "$(git_status)" .detached)" true "status shows detached"
git -C "$T/app" checkout -q -b other
j=$(run_job git.pull)
assert_eq "$(jget "$j" .result.code)" conflict "other branch refused"
assert_contains "$(jget "$j" .error)" "on branch other, not main" "message names the branch"
git -C "$T/app" checkout -q main
git -C "$T/app" branch -q -D other
app_owned "$T/app"
pass "detached HEAD and another branch: refused"

printf 'local work\n' >"$T/app/local.txt"
git -C "$T/app" add local.txt
git -C "$T/app" commit -qm "local commit"
lc=$(git -C "$T/app" rev-parse HEAD)
j=$(run_job git.pull)
assert_eq "$(jget "$j" .state)" failed "diverged refused"
assert_eq "$(jget "$j" .result.code)" conflict "diverged: conflict"
assert_contains "$(jget "$j" .error)" "diverged" "message says diverged"
assert_eq "$(git -C "$T/app" rev-parse HEAD)" "$lc" "local commit kept"
s=$(git_status)
assert_eq "$(jget "$s" .ahead)" 1 "ahead 1"
assert_eq "$(jget "$s" .behind)" 2 "behind 2"
git -C "$T/app" reset -q --hard "$c4"
app_owned "$T/app"
pass "diverged history: refused, local commit kept"

j=$(run_job git.pull)
assert_eq "$(jget "$j" .state)" succeeded "pull after cleaning up"
assert_eq "$(git -C "$T/app" rev-parse HEAD)" "$c6" "HEAD at c6"
assert_eq "$(jget "$(git_status)" .error)" null "error cleared"
assert_ne "$c5" "$c6"
fi

# --------------------------------------------------- missing and corrupt --
if scenario missing_corrupt; then
restart_davit "$T/app" "file://$T/nope.git"
j=$(run_job git.fetch)
assert_eq "$(jget "$j" .state)" failed "missing repository fails"
assert_eq "$(jget "$j" .result.code)" not_found "missing repository: not_found"
assert_eq "$(log_count "$j" 'try [0-9] of 4 failed')" 1 "missing repository not retried"
assert_contains "$(jget "$j" .error)" "DAVIT_REPO_URL" "message says what to check"
pass "a missing origin repository: not_found, one try"

cp -a "$T/app" "$T/broken"
: >"$T/broken/.git/HEAD"
restart_davit "$T/broken" "file://$T/origin.git"
wait_for -t 20 bash -c "printf '%s\n' '{\"id\":1,\"op\":\"git.status\"}' | socat -t 5 - UNIX-CONNECT:$SOCK | jq -e '.result.error != null'" ||
	fail "no status error for a truncated HEAD"
j=$(run_job git.fetch)
assert_eq "$(jget "$j" .state)" failed "fetch into a corrupt repository fails"
assert_eq "$(jget "$j" .result.code)" unavailable "corrupt: unavailable"
assert_eq "$(log_count "$j" 'try [0-9] of 4 failed')" 1 "corrupt not retried"
j=$(run_job git.pull)
assert_eq "$(jget "$j" .state)" failed "pull in a corrupt repository fails"
pass "a truncated .git/HEAD: a status error, fetch and pull fail cleanly"

rm -rf "$T/broken"
cp -a "$T/app" "$T/broken"
tree=$(git -C "$T/broken" rev-parse 'HEAD^{tree}')
git -C "$T/broken" repack -q -a -d 2>/dev/null || true
for p in "$T"/broken/.git/objects/pack/*.pack; do
	: >"$p"
done
restart_davit "$T/broken" "file://$T/origin.git"
wait_for -t 20 bash -c "printf '%s\n' '{\"id\":1,\"op\":\"git.status\"}' | socat -t 5 - UNIX-CONNECT:$SOCK | jq -e '.result.error != null'" ||
	fail "no status error for truncated objects"
j=$(run_job git.pull)
assert_eq "$(jget "$j" .state)" failed "pull with truncated objects fails"
assert_ne "$tree" ""
pass "truncated object packs: a status error, the pull fails cleanly"
fi

# ------------------------------------------------- a non-root owner --------
if scenario owner; then
created_user=0
if ! id "$OWNER" >/dev/null 2>&1; then
	useradd --system --no-create-home --shell /usr/sbin/nologin "$OWNER"
	created_user=1
fi
if [ "$created_user" = 1 ]; then
	on_exit userdel "$OWNER"
fi
git clone -q --bare "$T/origin.git" "$T/owned-origin.git"
git clone -q "$T/owned-origin.git" "$T/owned" 2>/dev/null
git clone -q "$T/owned-origin.git" "$T/owned-seed" 2>/dev/null
oc=$(push_commit "$T/owned-seed" owned/new.txt "for the owner" "owned: new file")
chown -R "$OWNER:" "$T/owned-origin.git" "$T/owned"
restart_davit "$T/owned" "file://$T/owned-origin.git"
j=$(run_job git.fetch)
assert_eq "$(jget "$j" .state)" succeeded "fetch as the owner: $j"
j=$(run_job git.pull)
assert_eq "$(jget "$j" .state)" succeeded "pull as the owner: $j"
assert_eq "$(git -C "$T/owned" rev-parse HEAD)" "$oc" "owner's HEAD at origin"
assert_eq "$(stat -c %U "$T/owned/owned/new.txt")" "$OWNER" "the new file belongs to the owner"
assert_eq "$(stat -c %U "$T/owned/owned")" "$OWNER" "the new directory belongs to the owner"
notmine=$(find "$T/owned" ! -user "$OWNER" | head -n 5)
assert_eq "$notmine" "" "nothing in the checkout belongs to another user"
pass "a checkout owned by $OWNER: the pull runs as it, new files are its"
fi

# --------------------------------------------------------------- clone --
if scenario clone refusals; then
mkdir "$T/empty"
app_owned "$T/empty"
restart_davit "$T/empty" "file://$T/origin.git"
j=$(job_wait 1 60)
assert_eq "$(jget "$j" .op)" git.fetch "the clone is a git.fetch job"
assert_eq "$(jget "$j" .state)" succeeded "clone into an empty workdir: $j"
assert_eq "$(jget "$j" .result.cloned)" true "result says cloned"
assert_eq "$(git -C "$T/empty" rev-parse HEAD)" "$c6" "cloned HEAD"
assert_eq "$(git -C "$T/empty" status --porcelain)" "" "clean clone"
assert_eq "$(jget "$(git_status)" .local.id)" "$c6" "status after the clone"
pass "clone into an empty workdir at start"

restart_davit "$T/missing/app" "file://$T/origin.git"
j=$(job_wait 1 60)
# the parent does not exist: the clone fails clearly instead of creating it
assert_eq "$(jget "$j" .state)" failed "clone under a missing parent fails"
[ ! -e "$T/missing" ] || fail "the failed clone created the missing parent $T/missing"
mkdir -p "$T/missing"
app_owned "$T/missing"
restart_davit "$T/missing/app" "file://$T/origin.git"
j=$(job_wait 1 60)
assert_eq "$(jget "$j" .state)" succeeded "clone into a missing workdir: $j"
assert_eq "$(git -C "$T/missing/app" rev-parse HEAD)" "$c6" "cloned HEAD (missing workdir)"
pass "clone into a missing workdir"
fi

# ------------------------------------------------- root's checkout --
if scenario root_checkout; then
# git never runs as root: a checkout (or a clone's empty workdir) of root's is
# refused with the chown that fixes it; davit stays up and answers the rest.
cp -a "$T/app" "$T/rootapp"
chown -R root: "$T/rootapp"
rm -f "$T/rootapp/.git/FETCH_HEAD"
restart_davit "$T/rootapp" "file://$T/origin.git"
wait_for -t 20 bash -c "printf '%s\n' '{\"id\":1,\"op\":\"git.status\"}' | socat -t 5 - UNIX-CONNECT:$SOCK | jq -e '.result.error != null'" ||
	fail "no status error for a checkout of root's"
s=$(git_status)
assert_contains "$(jget "$s" .error)" "belongs to root" "status says whose it is"
assert_contains "$(jget "$s" .error)" "chown -R deploy: $T/rootapp" "status says how to fix it"
for op in git.fetch git.pull; do
	j=$(run_job "$op")
	assert_eq "$(jget "$j" .state)" failed "$op in root's checkout refused"
	assert_contains "$(jget "$j" .error)" "chown -R deploy: $T/rootapp" "$op says how to fix it"
	assert_eq "$(log_count "$j" 'try [0-9] of 4 failed')" 0 "$op not retried"
done
[ ! -e "$T/rootapp/.git/FETCH_HEAD" ] || fail "something was fetched as root"
r=$(proto '{"id":7,"op":"hello"}')
assert_eq "$(jget "$r" .ok)" true "the backend answers the rest: $r"
assert_eq "$(jget "$(proto '{"id":8,"op":"project.get"}')" .ok)" true "project.get answers"
kill -0 "$DAVIT_BACKEND_PID" || fail "the backend died"
mkdir "$T/rootempty"
restart_davit "$T/rootempty" "file://$T/origin.git"
j=$(job_wait 1 60)
assert_eq "$(jget "$j" .state)" failed "a clone into root's empty workdir is refused"
assert_contains "$(jget "$j" .error)" "chown -R deploy: $T/rootempty" "the clone says how to fix it"
assert_eq "$(ls -A "$T/rootempty")" "" "nothing cloned as root"
pass "root's checkout or clone target: refused with the chown hint, davit stays up"
fi

# ---------------------------------------------------------------- poll --
if scenario poll; then
restart_davit "$T/app" "file://$T/origin.git" "DAVIT_POLL_INTERVAL=10"
start_bg events bash -c "(printf '%s\n' '{\"id\":1,\"op\":\"subscribe\"}'; sleep 120) | socat -t 1 - UNIX-CONNECT:$SOCK"
wait_for -t 10 grep -q '"subscribed":true' "$T/events.log" || fail "no subscription"
c7=$(push_commit "$T/seed" poll.txt "poll" "seventh: for the poll")
wait_for -t 40 grep -q "\"polled_id\":\"$c7\"" "$T/events.log" ||
	fail "no git.state event with the polled commit"
ev=$(grep "\"polled_id\":\"$c7\"" "$T/events.log" | head -n 1)
assert_eq "$(jget "$ev" .event)" git.state "a git.state event"
assert_eq "$(jget "$ev" .data.update_available)" true "the poll marks update_available"
assert_ne "$(jget "$ev" .data.polled_at)" null "polled_at set"
assert_eq "$(jget "$(git_status)" .update_available)" true "status says update_available"
j=$(run_job git.fetch)
assert_eq "$(jget "$(git_status)" '.incoming[0].id')" "$c7" "fetch after the poll"
n=$(grep -c '"event":"git.state"' "$T/events.log")
[ "$n" -ge 2 ] || fail "git.state after the poll and the fetch ($n)"
pass "the poll (DAVIT_POLL_INTERVAL=10) announces origin's move with git.state"
fi

davit_stop_backend
assert_eq "$DAVIT_BACKEND_STATUS" 0 "backend exit status"
pass "clean shutdown"
