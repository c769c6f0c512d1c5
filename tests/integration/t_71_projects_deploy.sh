#!/usr/bin/env bash
# Several projects from one davit (issue 13), the concerns' side: three
# projects from DAVIT_PROJECTS_DIR (a file:// origin, a smart-HTTP origin with
# a token, a second smart-HTTP origin with another token), each a real compose
# app on the one Docker engine.  Checked: each project's webhook.push deploys
# that project only; deploys of two projects run at the same time; a project
# whose workdir vanished, or whose services are all down, leaves the others
# working; each token goes to its own origin only.
#
# It needs the configuration of several projects (DAVIT_PROJECTS_DIR): on a
# backend whose --check-config does not know that key it prints
# "SKIP: needs DAVIT_PROJECTS_DIR" and exits 0.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# --- the backend knows DAVIT_PROJECTS_DIR, or this test cannot run ---------
mkdir -p "$T/probe.d"
write_davit_env "$T/probe.env" "DAVIT_PROJECTS_DIR=$T/probe.d"
"$DAVIT_BUILD/backend/davit-backend" --check-config "$T/probe.env" >"$T/probe.log" 2>&1 || true
if grep -q 'unknown key DAVIT_PROJECTS_DIR' "$T/probe.log"; then
	echo "SKIP: needs DAVIT_PROJECTS_DIR (the backend does not know it yet)"
	exit 0
fi

ensure_docker
chmod 0711 "$T"
TOKB=ghp_projb$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
TOKC=ghp_projc$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')

# three demo apps, each its own compose project, port and origin
declare -A CP DIR ORIGIN APPPORT URLOF
for n in a b c; do
	CP[$n]=$(unique_project "dv71$n")
	APPPORT[$n]=$(unused_port)
	DIR[$n]=$T/app-$n
	PORT=${APPPORT[$n]} demo_app "${DIR[$n]}" "${CP[$n]}"
	unset PORT
	ORIGIN[$n]=${DIR[$n]}.origin.git
done
# b and c are served over smart HTTP, each by its own server and token
for n in b c; do
	mkdir "$T/srv-$n"
	mv "${ORIGIN[$n]}" "$T/srv-$n/app.git"
	ORIGIN[$n]=$T/srv-$n/app.git
	git -C "${DIR[$n]}" remote set-url origin "${ORIGIN[$n]}"
done
HTTPB=$(unused_port)
start_git_http "$T/srv-b" "$HTTPB" "$TOKB"
HTTPC=$(unused_port)
start_git_http "$T/srv-c" "$HTTPC" "$TOKC"
URLOF[a]=file://${ORIGIN[a]}
URLOF[b]=http://127.0.0.1:$HTTPB/app.git
URLOF[c]=http://127.0.0.1:$HTTPC/app.git
app_owned "${DIR[a]}" "${DIR[b]}" "${DIR[c]}"
for n in a b c; do
	( cd "${DIR[$n]}" && compose -p "${CP[$n]}" up -d --build ) >"$T/compose-up-$n.log" 2>&1
	wait_for curl -fsS "http://127.0.0.1:${APPPORT[$n]}/" || fail "demo app $n does not serve"
done

# --- the configuration: the main file and one NAME.env per project --------
mkdir -m 0700 "$T/projects.d"
project_env() { # project_env NAME KEY=VALUE...
	local f=$T/projects.d/$1.env
	shift
	write_env "$f" DAVIT_POLL_INTERVAL=0 "$@"
	chmod 0600 "$f"
}
project_env a "DAVIT_WORKDIR=${DIR[a]}" "DAVIT_SERVICES=web,worker" \
	"DAVIT_COMPOSE_PROJECT=${CP[a]}" "DAVIT_REPO_URL=${URLOF[a]}" \
	"DAVIT_GITHUB_REPO=acme/alpha" "DAVIT_DEPLOY_VERIFY=30"
project_env b "DAVIT_WORKDIR=${DIR[b]}" "DAVIT_SERVICES=web,worker" \
	"DAVIT_COMPOSE_PROJECT=${CP[b]}" "DAVIT_REPO_URL=${URLOF[b]}" \
	"DAVIT_GITHUB_REPO=acme/bravo" "DAVIT_GITHUB_TOKEN=$TOKB" "DAVIT_DEPLOY_VERIFY=30"
project_env c "DAVIT_WORKDIR=${DIR[c]}" "DAVIT_SERVICES=web,worker" \
	"DAVIT_COMPOSE_PROJECT=${CP[c]}" "DAVIT_REPO_URL=${URLOF[c]}" \
	"DAVIT_GITHUB_REPO=acme/charlie" "DAVIT_GITHUB_TOKEN=$TOKC" "DAVIT_DEPLOY_VERIFY=30"
write_davit_env "$T/davit.env" "DAVIT_SOCKET=$T/run/backend.sock" \
	"DAVIT_PROJECTS_DIR=$T/projects.d" "DAVIT_MAX_PARALLEL=3"
"$DAVIT_BUILD/backend/davit-backend" --check-config "$T/davit.env" >"$T/check.log" 2>&1 ||
	fail "the three projects' configuration is refused: $(cat "$T/check.log")"
davit_start_backend "$T/davit.env" --no-frontend -v
start_bg events bash -c "(printf '%s\n' '{\"id\":1,\"op\":\"subscribe\"}'; sleep 600) | socat -t 1 - UNIX-CONNECT:$SOCK"
wait_for -t 10 grep -q '"subscribed":true' "$T/events.log" || fail "no subscription"
running() { # running PROJECT: 1 if its services run (from memory)
	preq services.list "$1" | jq -e '[.result.services[] | select(.state=="running")] | length == 2' >/dev/null
}
for n in a b c; do
	wait_for -t 60 running "$n" || fail "project $n: services not seen running"
done
r=$(req projects.list)
assert_eq "$(jq -r '[.result.projects[].name] | join(",")' <<<"$r")" "a,b,c" "three projects listed"

webhook() { # webhook PROJECT REPO AFTER: webhook.push as the frontend sends it
	local args
	args=$(jq -nc --arg p "$1" --arg repo "$2" --arg after "$3" \
		'{project:$p, ref:"refs/heads/main", after:$after, repository:$repo,
		  delivery:("d-"+$p+"-"+$after[0:12]),
		  digest:("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"+$after[0:12]),
		  paths:["VERSION"]}')
	proto_as davit "{\"id\":1,\"op\":\"webhook.push\",\"args\":$args}"
}

# --- each project's webhook deploys that project only ---------------------
if scenario webhook_one_project; then
ca=$(push_commit "${ORIGIN[a]}" "v2 of a" VERSION v2)
hb=$(git -C "${DIR[b]}" rev-parse HEAD)
hc=$(git -C "${DIR[c]}" rev-parse HEAD)
r=$(webhook a acme/alpha "$ca")
j=$(jq -er '.result.job' <<<"$r") || fail "webhook for a: $r"
assert_eq "$(job_state "$j" 240)" succeeded "a's webhook deploy"
assert_eq "$(git -C "${DIR[a]}" rev-parse HEAD)" "$ca" "a is at the pushed commit"
wait_for -t 30 sh -c "curl -fsS http://127.0.0.1:${APPPORT[a]}/ | grep -qx v2" || fail "a serves v2"
assert_eq "$(git -C "${DIR[b]}" rev-parse HEAD)" "$hb" "b untouched"
assert_eq "$(git -C "${DIR[c]}" rev-parse HEAD)" "$hc" "c untouched"
assert_eq "$(curl -fsS "http://127.0.0.1:${APPPORT[b]}/")" v1 "b still serves v1"
# another project's repository in a's hook: ignored
r=$(webhook b acme/alpha "$ca")
assert_contains "$r" '"ignored":true' "b ignores a's repository"
# the deploy's records are a's: deploys.list of b has none
assert_eq "$(preq deploys.list b | jq '.result | length')" 0 "b has no deploy"
assert_eq "$(preq deploys.list a | jq -r '.result[0].to')" "$ca" "a's deploy listed under a"
grep -q '"event":"deploy.state".*"project":"a"' "$T/events.log" || fail "deploy.state names project a"
# its history is under DAVIT_STATE_DIR/a
assert_file_contains "$T/state/a/deploys.jsonl" "$ca"
pass "a webhook deploys its own project only"
fi

# --- deploys of two projects run at the same time -------------------------
if scenario parallel; then
# a build step that takes a while (the web image sleeps as it is built):
# both deploys must be seen running at one moment
for n in b c; do
	sed 's|^COPY VERSION|RUN ["/bin/busybox", "sleep", "6"]\nCOPY VERSION|' \
		"${DIR[$n]}/web/Dockerfile" >"$T/slow-$n.Dockerfile"
	grep -q 'sleep' "$T/slow-$n.Dockerfile" || fail "no slow Dockerfile for $n"
	push_commit "${ORIGIN[$n]}" "slow build of $n" web/Dockerfile "$(cat "$T/slow-$n.Dockerfile")" >/dev/null
	push_commit "${ORIGIN[$n]}" "v3 of $n" VERSION v3 >/dev/null
done
jb=$(psubmit deploy b)
jc=$(psubmit deploy c)
jstate() { req job.get "{\"job\":$1}" | jq -r '.result.state'; }
both=0
for _ in $(seq 1 1200); do
	sb=$(jstate "$jb")
	sc=$(jstate "$jc")
	if [ "$sb" = running ] && [ "$sc" = running ]; then both=1; break; fi
	case "$sb.$sc" in
	succeeded.* | failed.* | *.succeeded | *.failed) break ;;
	esac
	sleep 0.1
done
assert_eq "$both" 1 "the deploys of b and c ran at the same time"
assert_eq "$(job_state "$jb" 240)" succeeded "b's deploy"
assert_eq "$(job_state "$jc" 240)" succeeded "c's deploy"
pass "deploys of two projects run at the same time"
fi

# --- a project whose services are all down, or whose workdir vanished -----
if scenario isolation; then
( cd "${DIR[c]}" && compose -p "${CP[c]}" stop ) >"$T/stop-c.log" 2>&1 || fail "compose stop c: $(tail -3 "$T/stop-c.log")"
not_running() { ! running "$1"; }
wait_for -t 60 not_running c || fail "c's services not seen down"
r=$(preq services.list c)
assert_eq "$(jq '[.result.services[] | select(.state=="running")] | length' <<<"$r")" 0 "c's services are down"
assert_eq "$(jq -r '.result.engine.reachable' <<<"$r")" true "the engine is reachable"
running a || fail "a still runs while c is down"
mv "${DIR[b]}" "${DIR[b]}.gone"
jb=$(psubmit git.pull b)
assert_eq "$(job_state "$jb" 60)" failed "b's pull fails without its workdir"
# projects.list tells each apart: b's error, c's services down, a fine
pl=$(req projects.list)
info "projects.list: $(jq -c '[.result.projects[] | [.name, .services, .error]]' <<<"$pl")"
assert_eq "$(jq -c '[.result.projects[] | select(.name == "c") | .services]' <<<"$pl")" \
	'[{"running":0,"total":2}]' "c's services down in projects.list"
assert_eq "$(jq -c '[.result.projects[] | select(.name == "a") | [.services, .error]]' <<<"$pl")" \
	'[[{"running":2,"total":2},null]]' "a in projects.list"
berr=$(jq -r '.result.projects[] | select(.name == "b") | .error // ""' <<<"$pl")
[ -n "$berr" ] || fail "b's missing workdir is not its error in projects.list"
assert_contains "$berr" "DAVIT_WORKDIR ${DIR[b]} does not exist" "b's error names its workdir"
ca=$(push_commit "${ORIGIN[a]}" "v4 of a" VERSION v4)
ja=$(psubmit deploy a)
assert_eq "$(job_state "$ja" 240)" succeeded "a deploys while b's workdir is gone and c is down"
wait_for -t 30 sh -c "curl -fsS http://127.0.0.1:${APPPORT[a]}/ | grep -qx v4" || fail "a serves v4"
mv "${DIR[b]}.gone" "${DIR[b]}"
( cd "${DIR[c]}" && compose -p "${CP[c]}" start ) >"$T/start-c.log" 2>&1 || true
pass "a project down or without its workdir leaves the others working"
fi

# --- each token goes to its own origin only ------------------------------
if scenario token_scope; then
for n in b c; do
	j=$(psubmit git.fetch "$n")
	assert_eq "$(job_state "$j" 60)" succeeded "$n fetches from its own origin with its own token"
done
# a wrong token would have been refused: lighttpd logs each refusal
for port in "$HTTPB" "$HTTPC"; do
	assert_file_not_contains "$T/git-http-$port.log" "password doesn't match"
done
for tok in "$TOKB" "$TOKC"; do
	assert_file_not_contains "$T/backend.log" "$tok"
	assert_file_not_contains "$T/audit.jsonl" "$tok"
	assert_file_not_contains "$T/events.log" "$tok"
done
pass "each token is offered to its own origin only"
fi

davit_stop_backend
check_sanitizer_logs
pass "three projects from one davit"
