#!/usr/bin/env bash
# Releases (issue 14) against a real Docker engine and compose: deploys
# that leave unchanged services alone (up -d without down), the pre-deploy
# command DAVIT_DEPLOY_RUN, release tags IMAGE:davit-<12 hex> and their
# pruning (DAVIT_KEEP_RELEASES), the crash-safe journal, automatic and
# manual rollback.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ensure_docker
chmod 0711 "$T"
APPPORT=$(unused_port)
PROJECT=$(unique_project dvr)
OTHER=$(unique_project dvo)
PORT=$APPPORT demo_app "$T/app" "$PROJECT"
ORIGIN=$T/app.origin.git
( cd "$T/app" && compose -p "$PROJECT" up -d --build ) >"$T/compose-up.log" 2>&1
wait_for curl -fsS "http://127.0.0.1:$APPPORT/" || fail "demo app does not serve"
on_exit docker rmi -f "$OTHER-web:kept"
on_exit docker rm -f "$PROJECT-inuse"

NOTIFYPORT=$(unused_port)
start_bg receiver python3 "$DAVIT_SRC/tests/integration/notify/receiver.py" "$NOTIFYPORT" "$T/notifications.jsonl"
wait_for port_open "$NOTIFYPORT" || fail "notification receiver did not start"

ENV=$T/davit.env
write_davit_env "$ENV" \
	"DAVIT_SOCKET=$T/run/backend.sock" \
	"DAVIT_WORKDIR=$T/app" \
	"DAVIT_SERVICES=web,worker" \
	"DAVIT_COMPOSE_PROJECT=$PROJECT" \
	"DAVIT_REPO_URL=file://$ORIGIN" \
	"DAVIT_GITHUB_REPO=acme/demo" \
	"DAVIT_NOTIFY_URL=http://127.0.0.1:$NOTIFYPORT/hook" \
	"DAVIT_DEPLOY_VERIFY=20" \
	"DAVIT_KEEP_RELEASES=2" \
	"DAVIT_DEPLOY_RUN=worker /bin/busybox test ! -e /FAILRUN"
davit_start_backend "$ENV"

serving() { curl -fsS "http://127.0.0.1:$APPPORT/"; }
cid() { docker ps -aq --no-trunc --filter "label=com.docker.compose.project=$PROJECT" --filter "label=com.docker.compose.service=$1" | head -n 1; }
started() { docker inspect -f '{{.State.StartedAt}}' "$1"; }
deploy() { submit deploy; }
job_log() { req job.get "{\"job\":$1}" | jq -r '.result.log[]'; }
history() { req deploys.list; }
tags() { docker images "$1" --format '{{.Tag}}' | grep '^davit-' | sort | tr '\n' ' '; }
h12() { printf 'davit-%.12s' "$1"; }
# ended JOB: its final state; its log goes to the test's log
ended() { local st; st=$(job_state "$1" 300); job_log "$1" >"$T/job-$1.log"; info "job $1: $st" >&2; [ "$st" = "${2:-succeeded}" ] || cat "$T/job-$1.log" >&2; echo "$st"; }

# --- a deploy recreates only what changed -------------------------------
if scenario unchanged; then
worker=$(cid worker) web=$(cid web)
wstart=$(started "$worker")
c1=$(push_commit "$ORIGIN" "v2: web only" VERSION v2)
job=$(deploy)
assert_eq "$(ended "$job")" succeeded "deploy of a web-only change"
assert_eq "$(serving)" v2 "the app serves v2"
assert_eq "$(cid worker)" "$worker" "the worker's container was left alone"
assert_eq "$(started "$worker")" "$wstart" "the worker kept running (same StartedAt)"
assert_ne "$(cid web)" "$web" "web was recreated"
log=$(job_log "$job")
assert_contains "$log" "recreated: web; unchanged: worker" "the job log says what was recreated"
assert_not_contains "$log" " down" "no compose down in a deploy"
assert_contains "$log" "run --rm --no-deps worker /bin/busybox test ! -e /FAILRUN" "the pre-deploy command ran"
h=$(history)
assert_eq "$(jq -c '[.result[0].images[] | [.service, .recreated]]' <<<"$h")" '[["web",true],["worker",false]]' "the record says which were recreated"
assert_eq "$(jq -r '.result[0].images[0].image' <<<"$h")" "$PROJECT-web" "the record names web's image"
assert_eq "$(jq -r '.result[0].images[0].id' <<<"$h")" "$(docker image inspect -f '{{.Id}}' "$PROJECT-web")" "and its id"
assert_eq "$(jq -r '.result[0].kept' <<<"$h")" true "a kept release"
assert_eq "$(tags "$PROJECT-web")" "$(h12 "$c1") " "web's image tagged with the release"
assert_eq "$(tags "$PROJECT-worker")" "$(h12 "$c1") " "worker's image tagged with the release"
pass "a web-only change recreated web alone; the worker kept its container"
fi

# --- a failing pre-deploy command stops the deploy before up -----------
if scenario run_fails unchanged; then
web=$(cid web)
# (compose v1 cannot "run" a host-network service while it runs: worker)
good_worker=$(git -C "$ORIGIN" show "$c1:worker/Dockerfile")
bad=$(push_commit "$ORIGIN" "FAILRUN" worker/Dockerfile "$good_worker
COPY busybox /FAILRUN")
job=$(deploy)
assert_eq "$(ended "$job" failed)" failed "a deploy whose pre-deploy command fails"
log=$(job_log "$job")
assert_contains "$log" "compose run failed (exit 1)" "the command's failure is named"
assert_not_contains "$log" " up -d" "no up ran"
assert_contains "$log" "running containers were left alone" "the app untouched"
assert_eq "$(cid web)" "$web" "web's container is the same"
assert_eq "$(serving)" v2 "the app still serves v2"
assert_eq "$(tags "$PROJECT-web")" "$(h12 "$c1") " "no release tag for the failed deploy"
push_commit "$ORIGIN" "worker back" worker/Dockerfile "$good_worker" >/dev/null
pass "a failing DAVIT_DEPLOY_RUN stopped the deploy before up"
fi

# --- pruning keeps DAVIT_KEEP_RELEASES, never another's or an in-use image --
if scenario prune run_fails; then
# c1's web image also belongs to another compose project (a tag of its own)
docker tag "$PROJECT-web:$(h12 "$c1")" "$OTHER-web:kept"
other_id=$(docker image inspect -f '{{.Id}}' "$OTHER-web:kept")
c2=$(push_commit "$ORIGIN" "v3" VERSION v3)
assert_eq "$(ended "$(deploy)")" succeeded "deploy v3"
# c2's web image is used by a container (stopped) of nobody's
docker create --name "$PROJECT-inuse" "$PROJECT-web:$(h12 "$c2")" >/dev/null
c3=$(push_commit "$ORIGIN" "v4" VERSION v4)
assert_eq "$(ended "$(deploy)")" succeeded "deploy v4"
assert_eq "$(tags "$PROJECT-web")" "$(printf '%s\n' "$(h12 "$c2")" "$(h12 "$c3")" | sort | tr '\n' ' ')" "c1's tag removed after v4"
assert_eq "$(docker image inspect -f '{{.Id}}' "$OTHER-web:kept")" "$other_id" "another project's image untouched"
c4=$(push_commit "$ORIGIN" "v5" VERSION v5)
job=$(deploy)
assert_eq "$(ended "$job")" succeeded "deploy v5"
assert_contains "$(job_log "$job")" "images in use kept" "the in-use image is kept"
assert_eq "$(tags "$PROJECT-web")" "$(printf '%s\n' "$(h12 "$c2")" "$(h12 "$c3")" "$(h12 "$c4")" | sort | tr '\n' ' ')" "the in-use release tag stays"
assert_eq "$(tags "$PROJECT-worker")" "$(printf '%s\n' "$(h12 "$c3")" "$(h12 "$c4")" | sort | tr '\n' ' ')" "exactly the kept releases of worker"
v4_id=$(docker image inspect -f '{{.Id}}' "$PROJECT-web:$(h12 "$c3")")
c5=$(push_commit "$ORIGIN" "v6" VERSION v6)
job=$(deploy)
assert_eq "$(ended "$job")" succeeded "deploy v6"
assert_eq "$(tags "$PROJECT-worker")" "$(printf '%s\n' "$(h12 "$c4")" "$(h12 "$c5")" | sort | tr '\n' ' ')" "worker: the two kept"
assert_fails docker image inspect "$v4_id"
assert_contains "$(job_log "$job")" "1 image deleted" "the job log counts the deleted image"
assert_contains "$(job_log "$job")" "deleted, up to " "and the space freed, at most (shared layers count in each image)"
docker image inspect "$PROJECT-inuse" >/dev/null 2>&1 || true
assert_eq "$(docker inspect -f '{{.Image}}' "$PROJECT-inuse" | head -c 7)" "sha256:" "the in-use container's image is there"
docker image inspect "$(docker inspect -f '{{.Image}}' "$PROJECT-inuse")" >/dev/null || fail "the in-use image was deleted"
h=$(history)
assert_eq "$(jq -r '[.result[] | select(.kept) | .to] | join(",")' <<<"$h")" "$c5,$c4" "deploys.list: the kept releases"
pass "pruning kept the kept releases, another project's image and an in-use image"
fi

# --- a deploy cut short by kill -9 is recorded as interrupted ----------
if scenario journal prune; then
before=$(git -C "$T/app" rev-parse HEAD)
good_web=$(git -C "$ORIGIN" show "$c1:web/Dockerfile")
slow=$(push_commit "$ORIGIN" "slow build" web/Dockerfile "FROM scratch
COPY busybox /bin/busybox
RUN [\"/bin/busybox\", \"sleep\", \"6\"]")
job=$(deploy)
building() { req job.get "{\"job\":$job}" | grep -q 'compose.* build'; }
wait_for -t 120 building || fail "the deploy did not reach its build"
kill -KILL "$DAVIT_BACKEND_PID"
wait "$DAVIT_BACKEND_PID" 2>/dev/null || true
assert_eq "$(jq -r .state "$T/state/app/deploy-journal.json")" running "the journal holds the running deploy"
# the orphaned build ends by itself; the frontend follows its parent
no_build() { ! pgrep -f "docker-compose -p $PROJECT build" >/dev/null; }
wait_for -t 60 no_build || fail "the orphaned build did not end"
rm -f "$SOCK"
davit_start_backend "$ENV"
wait_for grep -q 'was interrupted' "$T/backend.log" || fail "no word of the interrupted deploy"
h=$(history)
r=$(jq -c --arg to "$slow" '[.result[] | select(.to == $to)][0]' <<<"$h")
assert_eq "$(jq -r .state <<<"$r")" interrupted "deploys.list: interrupted"
assert_eq "$(jq -r .from <<<"$r")" "$before" "with its from"
assert_eq "$(jq -r '[.steps[].name] | join(",")' <<<"$r")" "fetch,pull" "and the steps it had done"
assert_contains "$(jq -r .error <<<"$r")" "found at start" "and why"
[ ! -e "$T/state/app/deploy-journal.json" ] || fail "the journal was not removed"
assert_eq "$(serving)" v6 "the app still serves v6"
push_commit "$ORIGIN" "web back" web/Dockerfile "$good_web" >/dev/null
pass "a deploy cut short by kill -9 is in the history as interrupted, with from, to and steps"
fi

# push COMMIT DELIVERY: the webhook.push the frontend sends for a verified push
push() { req webhook.push "{\"delivery\":\"$2\",\"ref\":\"refs/heads/main\",\"after\":\"$1\",\"repository\":\"acme/demo\"}"; }
web_dockerfile() { # web_dockerfile CMD-JSON
	printf 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY VERSION /www/index.html\nCMD %s' "$1"
}

# --- a new version that exits at once is rolled back -------------------
if scenario rollback_exit journal; then
good=$(push_commit "$ORIGIN" "v7" VERSION v7)
assert_eq "$(ended "$(deploy)")" succeeded "deploy v7"
assert_eq "$(serving)" v7 "v7 serves"
worker=$(cid worker)
bad=$(push_commit "$ORIGIN" "web exits at once" web/Dockerfile "$(web_dockerfile '["/bin/busybox", "false"]')")
r=$(push "$bad" d-bad-1)
job=$(jq -er .result.job <<<"$r") || fail "the push did not deploy: $r"
assert_eq "$(ended "$job" failed)" failed "the deploy of a version that exits fails"
assert_eq "$(serving)" v7 "the app serves the previous version again"
assert_eq "$(git -C "$T/app" rev-parse HEAD)" "$good" "the checkout is back at the previous release"
assert_eq "$(cid worker)" "$worker" "the worker was never recreated"
log=$(job_log "$job")
assert_contains "$log" "rolling back to ${good:0:12}" "the log says it rolls back"
assert_contains "$log" "of steady services no longer fit in DAVIT_DEPLOY_VERIFY" "the verify ended once a steady window no longer fit"
assert_not_contains "$(sed -n '/rolling back/,$p' <<<"$log")" "-p $PROJECT build" "no build in the rollback"
assert_not_contains "$(sed -n '/rolling back/,$p' <<<"$log")" "fetching" "no fetch in the rollback"
r=$(jq -c --arg to "$bad" '[.result[] | select(.to == $to)][0]' <<<"$(history)")
assert_eq "$(jq -r .state <<<"$r")" rolled_back "deploys.list: rolled_back"
assert_eq "$(jq -r .rolled_back_to <<<"$r")" "$good" "rolled back to the previous release"
assert_contains "$(jq -r .error <<<"$r")" "rolled back from ${bad:0:12} to ${good:0:12}" "with the reason"
assert_contains "$(jq -r .error <<<"$r")" "not ready" "the verify's reason"
wait_for -t 30 grep -q 'rolled back' "$T/notifications.jsonl" || fail "no notification of the rollback"
r=$(push "$bad" d-bad-2)
assert_eq "$(jq -r .result.ignored <<<"$r")" true "the same bad commit pushed again is not deployed"
assert_contains "$r" "commit ${bad:0:12} was rolled back" "and the reason says so"
# the Deploy button (op deploy) deploys it anyway: built, failed, rolled back again
job=$(deploy)
assert_eq "$(ended "$job" failed)" failed "a forced deploy of the rolled-back commit"
assert_contains "$(job_log "$job")" "rolling back to ${good:0:12}" "it ran and was rolled back again"
assert_eq "$(jq -r '.result[0] | [.to, .state] | join(",")' <<<"$(history)")" "$bad,rolled_back" "recorded again"
assert_eq "$(serving)" v7 "v7 serves"
push_commit "$ORIGIN" "web back" web/Dockerfile "$good_web" >/dev/null
newer=$(push_commit "$ORIGIN" "v8" VERSION v8)
r=$(push "$newer" d-v8)
job=$(jq -er .result.job <<<"$r") || fail "a newer commit was not deployed: $r"
assert_eq "$(ended "$job")" succeeded "a newer good commit deploys"
assert_eq "$(serving)" v8 "v8 serves"
pass "a version that exits at once was rolled back; its commit is not redeployed by a push, a newer one is"
fi

# --- a failing healthcheck is rolled back ------------------------------
if scenario rollback_health rollback_exit; then
sick=$(push_commit "$ORIGIN" "web never healthy" web/Dockerfile "$(web_dockerfile '["/bin/busybox", "sh", "-c", "trap '"'exit 0'"' TERM INT; /bin/busybox sleep 1000 & wait $!"]')")
job=$(deploy)
assert_eq "$(ended "$job" failed)" failed "the deploy of a version never healthy fails"
assert_eq "$(serving)" v8 "the app serves v8 again"
r=$(jq -c --arg to "$sick" '[.result[] | select(.to == $to)][0]' <<<"$(history)")
assert_eq "$(jq -r .state <<<"$r")" rolled_back "deploys.list: rolled_back"
assert_eq "$(jq -r .rolled_back_to <<<"$r")" "$newer" "back to v8"
assert_contains "$(jq -r .error <<<"$r")" "health" "the reason names the health"
push_commit "$ORIGIN" "web back" web/Dockerfile "$good_web" >/dev/null
pass "a version whose healthcheck fails was rolled back"
fi

# --- deploy.rollback: a kept release back, two releases back ------------
if scenario manual rollback_health; then
davit_stop_backend
echo "DAVIT_KEEP_RELEASES=3" >>"$ENV"
davit_start_backend "$ENV"
v9=$(push_commit "$ORIGIN" "v9" VERSION v9)
assert_eq "$(ended "$(deploy)")" succeeded "deploy v9"
v10=$(push_commit "$ORIGIN" "v10" VERSION v10)
assert_eq "$(ended "$(deploy)")" succeeded "deploy v10"
h=$(history)
assert_eq "$(jq -r '[.result[] | select(.kept) | .to] | join(",")' <<<"$h")" "$v10,$v9,$newer" "three kept releases"
n8=$(jq -r --arg to "$newer" '[.result[] | select(.to == $to and .kept)][0].id' <<<"$h")
n7=$(jq -r --arg to "$good" '[.result[] | select(.to == $to)][0].id' <<<"$h")
r=$(req deploy.rollback "{\"deploy\":$n7}")
assert_eq "$(jq -r .error.code <<<"$r")" not_allowed "a pruned release cannot be rolled back to"
job=$(submit deploy.rollback "{\"deploy\":$n8}")
assert_eq "$(ended "$job")" succeeded "rollback two releases back"
assert_eq "$(serving)" v8 "v8 serves again"
assert_eq "$(git -C "$T/app" rev-parse HEAD)" "$newer" "the checkout is at v8's commit"
log=$(job_log "$job")
assert_not_contains "$log" "-p $PROJECT build" "no build"
assert_not_contains "$log" "fetching" "no fetch"
r=$(jq -c '.result[0]' <<<"$(history)")
assert_eq "$(jq -r '[.release_of, .to, .state, .kept] | join(",")' <<<"$r")" "$n8,$newer,succeeded,true" "the record of the rollback"
assert_eq "$(jq -r .from <<<"$r")" "$v10" "from v10"
pass "deploy.rollback put the release two back in place"
fi

# --- DAVIT_ROLLBACK=off: a failed verify stays failed -------------------
if scenario rollback_off manual; then
davit_stop_backend
echo "DAVIT_ROLLBACK=off" >>"$ENV"
davit_start_backend "$ENV"
off=$(push_commit "$ORIGIN" "web exits (rollback off)" web/Dockerfile "$(web_dockerfile '["/bin/busybox", "false"]')")
job=$(deploy)
assert_eq "$(ended "$job" failed)" failed "the deploy fails"
assert_contains "$(job_log "$job")" "no rollback (DAVIT_ROLLBACK is off)" "the log says why nothing was rolled back"
r=$(jq -c '.result[0]' <<<"$(history)")
assert_eq "$(jq -r '[.state, .rolled_back_to] | join(",")' <<<"$r")" "failed," "recorded failed, not rolled back"
assert_eq "$(git -C "$T/app" rev-parse HEAD)" "$off" "the checkout stays at the new commit"
pass "DAVIT_ROLLBACK=off leaves a failed deploy as it is"
fi
