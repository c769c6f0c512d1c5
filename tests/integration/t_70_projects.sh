#!/usr/bin/env bash
# Several projects from one davit (issue 13), the project list's side: the
# backend with DAVIT_PROJECTS_DIR holding two projects, each a real compose
# app (a running, b on another branch and never started).  Checked:
# projects.list's values; the project argument (unknown: not_allowed; left
# out: bad_request naming the count; a's service under b: not_allowed);
# audit lines naming the project; SIGHUP adding a third project and
# removing one while a deploy of the other runs (it ends well); an invalid
# NAME.env keeping the last good configuration with its error shown;
# projects.changed to a subscriber; a project's file changed, removed, or
# removed and back while that project deploys (the deploy ends well, the
# change waits for it, one project, deploy ids once); and today's
# single-project main file
# (one project named after its workdir, ops without "project", the state
# directory's migration keeping the deploy history).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ensure_docker
chmod 0711 "$T"

# a: $T/Alpha_App (its single-project name is alpha-app), services web and
# worker, running; b: $T/app-b on branch stable, service web, not started
declare -A CP DIR ORIGIN APPPORT
for n in a b; do
	CP[$n]=$(unique_project "dv70$n")
	APPPORT[$n]=$(unused_port)
done
DIR[a]=$T/Alpha_App
DIR[b]=$T/app-b
for n in a b; do
	PORT=${APPPORT[$n]} demo_app "${DIR[$n]}" "${CP[$n]}"
	unset PORT
	ORIGIN[$n]=${DIR[$n]}.origin.git
done
git -C "${DIR[b]}" checkout -q -b stable
git -C "${DIR[b]}" push -q origin stable
app_owned "${DIR[a]}" "${DIR[b]}"
( cd "${DIR[a]}" && compose -p "${CP[a]}" up -d --build ) >"$T/compose-up-a.log" 2>&1 ||
	fail "compose up a: $(tail -5 "$T/compose-up-a.log")"
wait_for -t 60 curl -fsS "http://127.0.0.1:${APPPORT[a]}/" || fail "demo app a does not serve"

mkdir -m 0700 "$T/projects.d"
project_env() { # project_env NAME KEY=VALUE...: DAVIT_PROJECTS_DIR/NAME.env
	local f=$T/projects.d/$1.env
	shift
	write_env "$f" DAVIT_POLL_INTERVAL=0 "$@"
}
env_a() {
	project_env a "DAVIT_WORKDIR=${DIR[a]}" "DAVIT_SERVICES=web,worker" \
		"DAVIT_COMPOSE_PROJECT=${CP[a]}" "DAVIT_REPO_URL=file://${ORIGIN[a]}" \
		"DAVIT_GITHUB_REPO=acme/alpha" "DAVIT_DEPLOY_VERIFY=30" "$@"
}
env_a
project_env b "DAVIT_WORKDIR=${DIR[b]}" "DAVIT_SERVICES=web" \
	"DAVIT_COMPOSE_PROJECT=${CP[b]}" "DAVIT_REPO_URL=file://${ORIGIN[b]}" \
	"DAVIT_BRANCH=stable" "DAVIT_GITHUB_REPO=acme/bravo"
mkdir -p "$T/run"
write_davit_env "$T/davit.env" "DAVIT_SOCKET=$T/run/backend.sock" \
	"DAVIT_PROJECTS_DIR=$T/projects.d"
"$DAVIT_BUILD/backend/davit-backend" --check-config "$T/davit.env" >"$T/check.log" 2>&1 ||
	fail "the two projects' configuration is refused: $(cat "$T/check.log")"
davit_start_backend "$T/davit.env" --no-frontend -v
start_bg events bash -c "(printf '%s\n' '{\"id\":1,\"op\":\"subscribe\"}'; sleep 3600) | socat -t 3600 - UNIX-CONNECT:$SOCK"
wait_for -t 10 grep -q '"subscribed":true' "$T/events.log" || fail "no subscription"
plist() { # plist NAME: projects.list's object of NAME, compact ("null" if none)
	req projects.list | jq -c --arg n "$1" '[.result.projects[] | select(.name == $n)][0]'
}
a_running() {
	[ "$(plist a | jq '.services.running')" = 2 ]
}
wait_for -t 60 a_running || fail "a's services not seen running: $(plist a)"

# --- projects.list's values ------------------------------------------------
if scenario list; then
ha=$(git -C "${DIR[a]}" rev-parse HEAD)
hb=$(git -C "${DIR[b]}" rev-parse HEAD)
ca=$(push_commit "${ORIGIN[a]}" "v2 of a" VERSION v2)
for n in a b; do
	j=$(psubmit git.fetch "$n")
	assert_eq "$(job_state "$j" 60)" succeeded "$n's fetch"
done
r=$(req projects.list)
assert_eq "$(jq -r '[.result.projects[].name] | join(",")' <<<"$r")" "a,b" "two projects, in name order"
pa=$(plist a)
pb=$(plist b)
assert_eq "$(jq -c '[.repo, .branch, .local, .origin, .update_available]' <<<"$pa")" \
	"[\"file://${ORIGIN[a]}\",\"main\",\"$ha\",\"$ca\",true]" "a's repository and commits"
assert_eq "$(jq -c '[.repo, .branch, .local, .origin, .update_available]' <<<"$pb")" \
	"[\"file://${ORIGIN[b]}\",\"stable\",\"$hb\",\"$hb\",false]" "b's repository and commits"
assert_eq "$(jq -c '.services' <<<"$pa")" '{"running":2,"total":2}' "a's services"
assert_eq "$(jq -c '.services' <<<"$pb")" '{"running":0,"total":1}' "b's services"
assert_eq "$(jq -c '[.last_deploy, .error]' <<<"$pa")" '[null,null]' "a: no deploy, no error"
assert_eq "$(jq -c '[.last_deploy, .error]' <<<"$pb")" '[null,null]' "b: no deploy, no error"
# the keys are those of the protocol, no more
assert_eq "$(jq -c 'keys' <<<"$pa")" \
	'["branch","error","last_deploy","local","name","origin","repo","services","update_available"]' \
	"projects.list's keys"
# each project's own view agrees
assert_eq "$(preq project.get b | jq -c '.result | [.name, .branch, .services, .compose_project]')" \
	"[\"b\",\"stable\",[\"web\"],\"${CP[b]}\"]" "project.get of b"
assert_eq "$(preq git.status a | jq -c '.result | [.project, .branch, .local.id, .remote.id, .behind]')" \
	"[\"a\",\"main\",\"$ha\",\"$ca\",1]" "git.status of a"
pass "projects.list: each project's repository, branch, commits, services, deploy, error"
fi

# --- the project argument --------------------------------------------------
if scenario scope; then
r=$(preq services.list nosuch)
assert_eq "$(jq -c '[.ok, .error.code, .error.message]' <<<"$r")" \
	'[false,"not_allowed","no such project"]' "an unknown project"
r=$(req services.list)
assert_eq "$(jq -c '[.ok, .error.code]' <<<"$r")" '[false,"bad_request"]' "no project with two"
assert_contains "$(jq -r .error.message <<<"$r")" "project: required (2 projects)" "the count named"
r=$(req service.restart '{"service":"worker"}')
assert_eq "$(jq -r .error.code <<<"$r")" bad_request "a service without a project"
# a's service under b: refused, nothing queued for either
r=$(preq service.restart b '{"service":"worker"}')
assert_eq "$(jq -c '[.ok, .error.code]' <<<"$r")" '[false,"not_allowed"]' "a's worker under b"
r=$(preq service.stop b '{"service":"worker"}')
assert_eq "$(jq -r .error.code <<<"$r")" not_allowed "a's worker stopped under b"
assert_eq "$(preq jobs.list b | jq -c '[.result[] | select(.op != "git.fetch")]')" '[]' "b has no job queued"
# the same under a: allowed, a's job, named so
j=$(psubmit service.restart a '{"service":"worker"}')
assert_eq "$(job_state "$j" 60)" succeeded "a's worker restarted"
assert_eq "$(req job.get "{\"job\":$j}" | jq -r .result.project)" a "the job names a"
assert_eq "$(preq jobs.list b | jq --argjson j "$j" '[.result[] | select(.id == $j)] | length')" 0 \
	"a's job is not in b's list"
assert_eq "$(preq jobs.list a | jq --argjson j "$j" '[.result[] | select(.id == $j)] | length')" 1 \
	"a's job is in a's list"
wait_for -t 60 a_running || fail "a's services not back: $(plist a)"
pass "the project argument: unknown, missing, another project's service"
fi

# --- audit lines carry the project -----------------------------------------
if scenario audit scope; then
AUDIT=$T/audit.jsonl
wait_for -t 10 grep -q '"op":"service.stop","project":"b"' "$AUDIT" || fail "no audit line of b's service.stop"
assert_eq "$(grep '"op":"service.stop","project":"b"' "$AUDIT" | tail -1 | jq -c '[.project, .args.service, .result]')" \
	'["b","worker","not_allowed"]' "the refused request's audit line"
assert_eq "$(grep '"op":"service.restart","project":"a"' "$AUDIT" | tail -1 | jq -c '[.project, .args.service]')" \
	'["a","worker"]' "a's restart's audit line"
# the Docker action's own line too
assert_eq "$(grep '"kind":"docker.restart"' "$AUDIT" | tail -1 | jq -c '[.project, .service, .result]')" \
	'["a","worker","ok"]' "the restart's docker.restart line"
# every project-scoped request that named a project carries it (only the
# one refused for want of a project has none)
bad=$(jq -r 'select(.kind == "request" and (.op == "service.restart" or .op == "service.stop" or .op == "git.fetch")) |
	select((.project // "") != (.args.project // "")) | .op' "$AUDIT" | head -3)
assert_eq "$bad" "" "request lines whose project is not the one asked for"
pass "audit lines name the project"
fi

# --- SIGHUP: c added, b removed, while a deploys -----------------------------
if scenario reload; then
# c: a checkout of its own, no containers
mkdir -p "$T/c-src"
DIR[c]=$T/app-c
git init -q -b main "$T/c-src"
printf 'services: {}\n' >"$T/c-src/docker-compose.yml"
git -C "$T/c-src" add -A && git -C "$T/c-src" commit -qm "c"
git clone -q --bare "$T/c-src" "$T/app-c.origin.git"
git clone -q "$T/app-c.origin.git" "${DIR[c]}"
app_owned "${DIR[c]}"
CP[c]=$(unique_project dv70c)
# a's deploys take a while: its web image sleeps as it is built, after
# VERSION (so at each new version)
sed 's|^\(COPY VERSION.*\)$|\1\nRUN ["/bin/busybox", "sleep", "8"]|' \
	"${DIR[a]}/web/Dockerfile" >"$T/slow.Dockerfile"
grep -q sleep "$T/slow.Dockerfile" || fail "no slow Dockerfile"
push_commit "${ORIGIN[a]}" "slow build" web/Dockerfile "$(cat "$T/slow.Dockerfile")" >/dev/null
ca=$(push_commit "${ORIGIN[a]}" "v3 of a" VERSION v3)
ja=$(psubmit deploy a)
jstate() { req job.get "{\"job\":$1}" | jq -r '.result.state'; }
# pulled, so building now (for 8 s at least)
deploy_building() { [ "$(git -C "${DIR[a]}" rev-parse HEAD)" = "$ca" ] && [ "$(jstate "$ja")" = running ]; }
wait_for -t 60 deploy_building || fail "a's deploy does not reach its build: $(req job.get "{\"job\":$ja}")"
nchanged=$(grep -c '"event":"projects.changed"' "$T/events.log" || true)
project_env c "DAVIT_WORKDIR=${DIR[c]}" "DAVIT_SERVICES=app" \
	"DAVIT_COMPOSE_PROJECT=${CP[c]}" "DAVIT_REPO_URL=file://$T/app-c.origin.git"
rm "$T/projects.d/b.env"
kill -HUP "$DAVIT_BACKEND_PID"
names() { req projects.list | jq -r '[.result.projects[].name] | join(",")'; }
is_ac() { [ "$(names)" = "a,c" ]; }
wait_for -t 20 is_ac || fail "after the reload: projects $(names), not a,c"
# the reload came while a's deploy ran
assert_eq "$(jstate "$ja")" running "a's deploy still running after the reload"
changed_more() { [ "$(grep -c '"event":"projects.changed"' "$T/events.log")" -gt "$nchanged" ]; }
wait_for -t 10 changed_more || fail "no projects.changed event after the reload"
# b is gone for every op; c is there
r=$(preq services.list b)
assert_eq "$(jq -c '[.ok, .error.code, .error.message]' <<<"$r")" \
	'[false,"not_allowed","no such project"]' "b after its removal"
assert_eq "$(preq project.get c | jq -c '.result | [.name, .services, .compose_project]')" \
	"[\"c\",[\"app\"],\"${CP[c]}\"]" "c after its addition"
hc=$(git -C "${DIR[c]}" rev-parse HEAD)
j=$(psubmit git.fetch c)
assert_eq "$(job_state "$j" 60)" succeeded "c's fetch"
assert_eq "$(plist c | jq -c '[.local, .origin, .update_available, .services, .error]')" \
	"[\"$hc\",\"$hc\",false,{\"running\":0,\"total\":1},null]" "c in projects.list"
# a's deploy ends well, undisturbed
assert_eq "$(job_state "$ja" 240)" succeeded "a's deploy across the reload"
assert_eq "$(git -C "${DIR[a]}" rev-parse HEAD)" "$ca" "a is at the pushed commit"
wait_for -t 30 sh -c "curl -fsS http://127.0.0.1:${APPPORT[a]}/ | grep -qx v3" || fail "a serves v3"
la=$(plist a)
assert_eq "$(jq -c '[.last_deploy.id != null, .last_deploy.state, .local, .error]' <<<"$la")" \
	"[true,\"succeeded\",\"$ca\",null]" "a's last deploy in projects.list"
[[ $(jq -r .last_deploy.time <<<"$la") =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z$ ]] ||
	fail "a's last deploy's time: $(jq -r .last_deploy.time <<<"$la")"
assert_eq "$(preq deploys.list a | jq -r '.result[0].to')" "$ca" "a's deploy recorded"
assert_file_contains "$T/state/a/deploys.jsonl" "$ca"
# b's removal: logged; a new request for b queues nothing
assert_file_contains "$T/backend.log" "project b: removed"
assert_file_contains "$T/backend.log" "project c: added"
pass "SIGHUP added c and removed b while a deployed, undisturbed"
fi

# --- an invalid NAME.env keeps the last good configuration ------------------
if scenario invalid_env; then
cp "$T/projects.d/a.env" "$T/a.env.good"
# a global key in a project's file, and a change of services with it
env_a "DAVIT_LISTEN=127.0.0.1:1" && sed -i 's/^DAVIT_SERVICES=.*/DAVIT_SERVICES=web/' "$T/projects.d/a.env"
nchanged=$(grep -c '"event":"projects.changed"' "$T/events.log" || true)
kill -HUP "$DAVIT_BACKEND_PID"
has_error() { [ "$(plist a | jq -r '.error // ""')" != "" ]; }
wait_for -t 20 has_error || fail "no error shown for a's bad file: $(plist a)"
err=$(plist a | jq -r .error)
assert_contains "$err" "DAVIT_LISTEN" "the error names the key"
assert_contains "$err" "a.env" "the error names the file"
# the last good configuration goes on: both services, the engine's view
assert_eq "$(preq project.get a | jq -c .result.services)" '["web","worker"]' "a keeps its services"
assert_eq "$(plist a | jq -c .services)" '{"running":2,"total":2}' "a's services in projects.list"
assert_eq "$(jq -r '.ok' <<<"$(preq service.restart a '{"service":"worker"}')")" true "a's worker still allowed"
changed_more() { [ "$(grep -c '"event":"projects.changed"' "$T/events.log")" -gt "$nchanged" ]; }
wait_for -t 10 changed_more || fail "no projects.changed after the failed file"
assert_file_contains "$T/backend.log" "project a: "
grep -q 'project a: .*keeping the last good configuration' "$T/backend.log" || fail "the bad file is not logged"
# systemctl reload's check (the unit's ExecReload): a bad project file is
# reported and does not fail it; --check-config (a start) fails on it; a
# bad main file fails both
rc=0
"$DAVIT_BUILD/backend/davit-backend" --reload-check "$T/davit.env" >"$T/rcheck.out" 2>"$T/rcheck.err" || rc=$?
assert_eq "$rc" 0 "--reload-check with a bad project file: $(cat "$T/rcheck.err")"
assert_file_contains "$T/rcheck.err" "DAVIT_LISTEN"
assert_file_contains "$T/rcheck.err" "keeps each such project's last good configuration"
assert_fails "$DAVIT_BUILD/backend/davit-backend" --check-config "$T/davit.env"
cp "$T/davit.env" "$T/davit-bad.env"
echo "DAVIT_NO_SUCH_KEY=1" >>"$T/davit-bad.env"
echo "DAVIT_SESSION_IDLE=1" >>"$T/davit-bad.env"
assert_fails "$DAVIT_BUILD/backend/davit-backend" --reload-check "$T/davit-bad.env"
# a project new in this reload whose file is bad is not added
project_env d "DAVIT_WORKDIR=$T/nowhere" "DAVIT_SERVICES=x" "DAVIT_PASSWORD=nope"
cp "$T/a.env.good" "$T/projects.d/a.env"
kill -HUP "$DAVIT_BACKEND_PID"
no_error() { [ "$(plist a | jq -c .error)" = null ]; }
wait_for -t 20 no_error || fail "a's error not cleared by a good file: $(plist a)"
assert_eq "$(req projects.list | jq -r '[.result.projects[].name] | join(",")')" \
	"$(if [ -f "$T/projects.d/c.env" ]; then echo a,c; else echo a,b; fi)" "d, whose file is bad, not added"
grep -q 'project d: not added' "$T/backend.log" || fail "d's refusal not logged"
rm "$T/projects.d/d.env"
assert_file_not_contains "$T/backend.log" "nope"
pass "an invalid NAME.env: last good configuration kept, its error shown"
fi

# a deploy of a that takes a while (its web image's build sleeps): job id
slow_deploy() { # slow_deploy VERSION: sets JA to the job, CA to the commit
	CA=$(push_commit "${ORIGIN[a]}" "$1 of a" VERSION "$1")
	local j
	j=$(psubmit deploy a)
	wait_for -t 60 sh -c "[ \"\$(git -C '${DIR[a]}' rev-parse HEAD)\" = $CA ]" ||
		fail "a's deploy does not reach its build: $(req job.get "{\"job\":$j}")"
	assert_eq "$(req job.get "{\"job\":$j}" | jq -r .result.state)" running "a's deploy is building"
	JA=$j
}

# --- a's file changes while a deploys: the new one after the deploy --------
if scenario change_busy reload; then
slow_deploy v4
ja=$JA ca=$CA
# and one more waiting behind it, made with the old configuration
jq2=$(psubmit deploy a)
assert_ne "$jq2" "$ja" "a second deploy queued"
assert_eq "$(req job.get "{\"job\":$jq2}" | jq -r .result.state)" queued "the second deploy waits"
env_a "DAVIT_DEPLOY_VERIFY=31"
sed -i 's/^DAVIT_SERVICES=.*/DAVIT_SERVICES=worker,web/' "$T/projects.d/a.env"
kill -HUP "$DAVIT_BACKEND_PID"
wait_for -t 10 grep -q 'project a: .* changed' "$T/backend.log" || fail "the change is not seen"
# the running deploy keeps the configuration it started with
assert_eq "$(preq project.get a | jq -c .result.services)" '["web","worker"]' "a's services while it deploys"
assert_eq "$(job_state "$ja" 240)" succeeded "a's deploy across the change"
kill -0 "$DAVIT_BACKEND_PID" || fail "the backend died at the deploy's end"
assert_eq "$(job_state "$jq2" 240)" succeeded "a's waiting deploy across the change"
kill -0 "$DAVIT_BACKEND_PID" || fail "the backend died at the waiting deploy"
new_cfg() { [ "$(preq project.get a | jq -c .result.services)" = '["worker","web"]' ]; }
wait_for -t 10 new_cfg || fail "a's new configuration not applied after its deploy: $(preq project.get a)"
# the deploy is recorded once, as it ended, in a's history
# (read again from the history with the new configuration: the records'
# job ids are a past one's, null)
id1=$(grep "\"job\":$ja," "$T/state/a/deploys.jsonl" | jq -r .id)
assert_eq "$(preq deploys.list a | jq -c --argjson i "$id1" '[.result[] | select(.id == $i) | [.to, .state]]')" \
	"[[\"$ca\",\"succeeded\"]]" "a's deploy in deploys.list"
assert_eq "$(grep -c "\"job\":$ja," "$T/state/a/deploys.jsonl")" 1 "one record of the first in the history"
assert_eq "$(grep -c "\"job\":$jq2," "$T/state/a/deploys.jsonl")" 1 "one record of the second in the history"
assert_eq "$(grep -c '"state":"interrupted"' "$T/state/a/deploys.jsonl" || true)" 0 "no deploy interrupted"
assert_eq "$(plist a | jq -c '[.last_deploy.state, .local, .error]')" "[\"succeeded\",\"$ca\",null]" \
	"a in projects.list after its change"
pass "a project's file changed while it deploys: applied after the deploy, which ends well"
fi

# --- a's file removed while a deploys: it finishes, then a is gone ---------
if scenario remove_busy change_busy; then
slow_deploy v5
ja=$JA ca=$CA
mv "$T/projects.d/a.env" "$T/a.env.removed"
kill -HUP "$DAVIT_BACKEND_PID"
no_a() { [ "$(plist a)" = null ]; }
wait_for -t 10 no_a || fail "a still listed after its removal"
assert_eq "$(preq services.list a | jq -r .error.code)" not_allowed "a's ops after its removal"
assert_eq "$(job_state "$ja" 240)" succeeded "a's deploy after its project's removal"
kill -0 "$DAVIT_BACKEND_PID" || fail "the backend died at the deploy's end"
wait_for -t 10 grep -q 'project a: removed, its last job over' "$T/backend.log" ||
	fail "a not freed after its last job"
assert_eq "$(req job.get "{\"job\":$ja}" | jq -r .result.project)" a "the finished job keeps its project's name"
assert_eq "$(grep -c "\"to\":\"$ca\"" "$T/state/a/deploys.jsonl")" 1 "one record of it in a's history"
assert_eq "$(grep "\"to\":\"$ca\"" "$T/state/a/deploys.jsonl" | jq -r .state)" succeeded "recorded as it ended"
# back again: its history with it
mv "$T/a.env.removed" "$T/projects.d/a.env"
kill -HUP "$DAVIT_BACKEND_PID"
back_a() { [ "$(plist a | jq -r .last_deploy.state)" = succeeded ]; }
wait_for -t 10 back_a || fail "a not back with its history: $(plist a)"
assert_eq "$(preq deploys.list a | jq -r '.result[0].to')" "$ca" "a's last deploy after it came back"
pass "a project removed while it deploys: the deploy ends well, then the project goes"
fi

# --- a's file gone and back while a deploys: the same project -------------
if scenario readd_busy remove_busy; then
slow_deploy v6
ja=$JA
mv "$T/projects.d/a.env" "$T/a.env.removed"
kill -HUP "$DAVIT_BACKEND_PID"
wait_for -t 10 no_a || fail "a still listed after its removal"
mv "$T/a.env.removed" "$T/projects.d/a.env"
kill -HUP "$DAVIT_BACKEND_PID"
has_a() { [ "$(plist a)" != null ]; }
wait_for -t 10 has_a || fail "a not back"
assert_eq "$(req job.get "{\"job\":$ja}" | jq -r .result.state)" running "a's deploy still running when a came back"
grep -q 'project a: back from' "$T/backend.log" || fail "a came back as another project"
assert_eq "$(job_state "$ja" 240)" succeeded "a's deploy across its file's going and coming back"
# the next deploy is numbered after it: every id once in a's history
cb=$(push_commit "${ORIGIN[a]}" "v7 of a" VERSION v7)
j=$(psubmit deploy a)
assert_eq "$(job_state "$j" 240)" succeeded "a's next deploy"
assert_eq "$(jq -s 'map(.id) | length == (unique | length)' "$T/state/a/deploys.jsonl")" true \
	"deploy ids unique in a's history: $(jq -c -s 'map(.id)' "$T/state/a/deploys.jsonl")"
assert_eq "$(preq deploys.list a | jq -r '.result[0].to')" "$cb" "a's last deploy"
kill -0 "$DAVIT_BACKEND_PID" || fail "the backend died"
pass "a project's file gone and back while it deploys: one project, its deploys numbered once"
fi

davit_stop_backend

# --- today's single-project main file ---------------------------------------
if scenario single reload; then
# the old layout: a real deploy's record directly in DAVIT_STATE_DIR
mkdir -p "$T/state1"
cp "$T/state/a/deploys.jsonl" "$T/state1/deploys.jsonl"
rec=$(tail -1 "$T/state1/deploys.jsonl")
rid=$(jq -r .id <<<"$rec")
rto=$(jq -r .to <<<"$rec")
[ -n "$rto" ] && [ "$rto" != null ] || fail "no record to migrate: $rec"
for f in "$T/state/a/deployed-commit"; do
	[ ! -f "$f" ] || cp "$f" "$T/state1/"
done
write_davit_env "$T/single.env" "DAVIT_SOCKET=$T/run/backend.sock" \
	"DAVIT_STATE_DIR=$T/state1" "DAVIT_WORKDIR=${DIR[a]}" "DAVIT_SERVICES=web,worker" \
	"DAVIT_COMPOSE_PROJECT=${CP[a]}" "DAVIT_REPO_URL=file://${ORIGIN[a]}" \
	"DAVIT_PROJECTS_DIR=$T/no-such.d"
: >"$T/backend.log"
davit_start_backend "$T/single.env" --no-frontend -v
r=$(req projects.list)
assert_eq "$(jq -r '[.result.projects[].name] | join(",")' <<<"$r")" alpha-app "one project named after its workdir"
# ops without "project" are the one project's
assert_eq "$(req project.get | jq -r .result.name)" alpha-app "project.get without project"
wait_for -t 60 sh -c "[ \"\$(printf '%s\n' '{\"id\":1,\"op\":\"services.list\"}' | socat -t 5 - UNIX-CONNECT:$SOCK |
	jq '[.result.services[] | select(.state == \"running\")] | length')\" = 2 ]" ||
	fail "services.list without project: $(req services.list)"
assert_eq "$(preq services.list alpha-app | jq '.result.services | length')" 2 "services.list naming it"
assert_eq "$(preq services.list a | jq -r .error.code)" not_allowed "another name"
# the history moved into the project's directory and is listed
assert_eq "$(req deploys.list | jq -c --argjson id "$rid" '[.result[] | select(.id == $id) | .to]')" \
	"[\"$rto\"]" "the earlier deploy in deploys.list"
[ -f "$T/state1/alpha-app/deploys.jsonl" ] || fail "the history is not in DAVIT_STATE_DIR/alpha-app"
[ ! -e "$T/state1/deploys.jsonl" ] || fail "the old history file is still there"
assert_eq "$(stat -c %a "$T/state1/alpha-app")" 700 "the project's state directory's mode"
grep -q "moved to $T/state1/alpha-app/deploys.jsonl" "$T/backend.log" || fail "the migration is not logged"
assert_eq "$(plist alpha-app | jq -c '[.last_deploy.id, .last_deploy.state]')" \
	"[$rid,\"$(jq -r .state <<<"$rec")\"]" "the earlier deploy as the last one"
# an op without project queues the one project's job, audited with its name
j=$(submit git.fetch)
assert_eq "$(job_state "$j" 60)" succeeded "git.fetch without project"
assert_eq "$(req job.get "{\"job\":$j}" | jq -r .result.project)" alpha-app "the job names the project"
grep '"op":"git.fetch"' "$T/audit.jsonl" | tail -1 | jq -e '.project == "alpha-app"' >/dev/null ||
	fail "the audit line of git.fetch: $(grep '"op":"git.fetch"' "$T/audit.jsonl" | tail -1)"
davit_stop_backend
# a restart keeps it: nothing moved twice, the record still there
davit_start_backend "$T/single.env" --no-frontend -v
assert_eq "$(req deploys.list | jq -c --argjson id "$rid" '[.result[] | select(.id == $id) | .to]')" \
	"[\"$rto\"]" "the history after a second start"
davit_stop_backend
pass "the single-project main file: one project, ops without project, history kept"
fi

check_sanitizer_logs
pass "projects from DAVIT_PROJECTS_DIR"
