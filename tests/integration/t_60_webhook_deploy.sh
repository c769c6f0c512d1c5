#!/usr/bin/env bash
# GitHub push webhooks end to end: the signed endpoint of the frontend, the
# filters, the deploy pipeline (fetch, pull, build, down/up, verify) against a
# real Docker engine and a real git origin, the failure path (a broken
# Dockerfile leaves the old version serving, fails the deploy and notifies a
# receiver on 127.0.0.1), and the deploy history across a backend restart.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ensure_docker
chmod 0711 "$T"
SECRET="It's a Secret to Everybody, $RANDOM"
TOKEN=ghp_webhooktest_token_must_not_leak
APPPORT=$(unused_port)
PROJECT=$(unique_project dvw)
PORT=$APPPORT demo_app "$T/app" "$PROJECT"
ORIGIN=$T/app.origin.git
( cd "$T/app" && compose -p "$PROJECT" up -d --build ) >"$T/compose-up.log" 2>&1
wait_for curl -fsS "http://127.0.0.1:$APPPORT/" || fail "demo app does not serve"
assert_eq "$(curl -fsS "http://127.0.0.1:$APPPORT/")" "v1" "demo app serves v1"

# a notification receiver: records every POST body, one per line
NOTIFYPORT=$(unused_port)
start_bg receiver python3 "$DAVIT_SRC/tests/integration/notify/receiver.py" "$NOTIFYPORT" "$T/notifications.jsonl"
wait_for port_open "$NOTIFYPORT" || fail "notification receiver did not start"

LISTEN=127.0.0.1:$(unused_port)
ENV=$T/davit.env
write_davit_env "$ENV" \
	"DAVIT_SOCKET=$T/run/backend.sock" \
	"DAVIT_LISTEN=$LISTEN" \
	"DAVIT_WORKDIR=$T/app" \
	"DAVIT_SERVICES=web,worker" \
	"DAVIT_COMPOSE_PROJECT=$PROJECT" \
	"DAVIT_REPO_URL=file://$ORIGIN" \
	"DAVIT_GITHUB_REPO=Acme/Demo" \
	"DAVIT_GITHUB_TOKEN=$TOKEN" \
	"DAVIT_WEBHOOK_SECRET=\"$SECRET\"" \
	"DAVIT_NOTIFY_URL=http://127.0.0.1:$NOTIFYPORT/hook" \
	"DAVIT_DEPLOY_VERIFY=30"
# -v: the debug log names each davit-git run ("git fetch: child N as uid U")
davit_start_backend "$ENV" -v
URL=http://$LISTEN
wait_for -t 30 curl -fsS "$URL/healthz" || fail "frontend does not answer"
wait_for -t 30 sh -c "curl -fsS '$URL/healthz' | grep -q '\"up\"'" || fail "frontend not linked to the backend"

sign() { # sign FILE: prints the X-Hub-Signature-256 value of FILE's bytes
	python3 -c 'import hmac,hashlib,sys; print("sha256="+hmac.new(sys.argv[1].encode(),open(sys.argv[2],"rb").read(),hashlib.sha256).hexdigest())' "$SECRET" "$1"
}
# deliver EVENT DELIVERY FILE [CONTENT_TYPE [SIGNATURE]]: prints "CODE BODY";
# from the source address $FROM if set (5 bad signatures lock an address out)
deliver() {
	local event=$1 delivery=$2 file=$3 ct=${4:-application/json} sig=${5:-}
	[ -n "$sig" ] || sig=$(sign "$file")
	curl -sS -o "$T/reply" -w '%{http_code}' --max-time 20 ${FROM:+--interface "$FROM"} -X POST \
		-H "Content-Type: $ct" -H "X-GitHub-Event: $event" \
		-H "X-GitHub-Delivery: $delivery" -H "X-Hub-Signature-256: $sig" \
		-H "User-Agent: GitHub-Hookshot/test" \
		--data-binary "@$file" "$URL/hooks/github"
	printf ' %s\n' "$(cat "$T/reply")"
}
push_body() { # push_body FILE REF AFTER [REPO]
	local before
	before=$(git -C "$ORIGIN" rev-parse "$3~1" 2>/dev/null || echo 0000000000000000000000000000000000000000)
	jq -n --arg ref "$2" --arg after "$3" --arg before "$before" --arg repo "${4:-acme/demo}" \
		'{ref:$ref, before:$before, after:$after, created:false, deleted:false,
		  repository:{full_name:$repo, name:"demo"},
		  commits:[{id:$after, added:[], removed:[], modified:["VERSION"]}],
		  head_commit:{id:$after}}' >"$1"
}

# --- ping, and the signature checks --------------------------------------
if scenario signatures; then
cp "$DAVIT_SRC/tests/fixtures/github/ping-payload.json" "$T/ping.json"
r=$(deliver ping d-ping-1 "$T/ping.json")
assert_eq "${r%% *}" 200 "signed ping"

push_body "$T/other-branch.json" refs/heads/feature "$(git -C "$ORIGIN" rev-parse main)"
r=$(deliver push d-bad-1 "$T/other-branch.json" application/json "sha256=$(printf '0%.0s' {1..64})")
assert_eq "${r%% *}" 401 "wrong signature"
good=$(sign "$T/other-branch.json")
assert_not_contains "$r" "${good#sha256=}" "the expected signature is never in a reply"
r=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	-H 'X-GitHub-Event: push' -H 'X-GitHub-Delivery: d-bad-2' --data-binary "@$T/other-branch.json" "$URL/hooks/github")
assert_eq "$r" 401 "missing signature"
r=$(deliver push d-bad-3 "$T/other-branch.json" application/json "sha1=${good#sha256=}")
assert_eq "${r%% *}" 401 "sha1 signature"
# the next bad ones from another address: 127.0.0.1 stays under the 5 that lock it
FROM=127.0.0.2
r=$(deliver push d-bad-4 "$T/other-branch.json" application/json "sha256=xyz")
assert_eq "${r%% *}" 401 "malformed signature"
# the same body signed under another secret
r=$(deliver push d-bad-5 "$T/other-branch.json" application/json \
	"$(python3 -c 'import hmac,hashlib,sys; print("sha256="+hmac.new(b"other",open(sys.argv[1],"rb").read(),hashlib.sha256).hexdigest())' "$T/other-branch.json")")
assert_eq "${r%% *}" 401 "signature under another secret"
# signature of a prefix of the body (a truncated body)
head -c 100 "$T/other-branch.json" >"$T/trunc.json"
r=$(deliver push d-bad-6 "$T/other-branch.json" application/json "$(sign "$T/trunc.json")")
assert_eq "${r%% *}" 401 "signature of a truncated body"
FROM=
assert_file_contains "$T/backend.log" "refused: bad X-Hub-Signature-256"
fi

# --- filters: all answered 202 with a reason, nothing deployed ------------
if scenario filters signatures; then
r=$(deliver push d-branch "$T/other-branch.json")
assert_eq "${r%% *}" 202 "another branch"
assert_contains "$r" '"ignored":true' "another branch ignored"
push_body "$T/utf8-branch.json" "refs/heads/déploiement-été" "$(git -C "$ORIGIN" rev-parse main)"
r=$(deliver push d-utf8 "$T/utf8-branch.json")
assert_eq "${r%% *}" 202 "a branch with a UTF-8 name"
assert_contains "$r" '"ignored":true' "a branch with a UTF-8 name ignored"
push_body "$T/other-repo.json" refs/heads/main "$(git -C "$ORIGIN" rev-parse main)" someone/else
r=$(deliver push d-repo "$T/other-repo.json")
assert_contains "$r" '"ignored":true' "another repository ignored"
assert_contains "$r" 'repository' "reason names the repository"
jq '.after="0000000000000000000000000000000000000000" | .deleted=true' "$T/other-repo.json" |
	jq '.repository.full_name="acme/demo"' >"$T/deleted.json"
r=$(deliver push d-deleted "$T/deleted.json")
assert_contains "$r" '"ignored":true' "deleted branch ignored"
# real deliveries from GitHub: a deleted tag, a new branch of another repository
for f in push-payload.json push-with-new-branch.payload.json; do
	cp "$DAVIT_SRC/tests/fixtures/github/$f" "$T/$f"
	r=$(deliver push "d-$f" "$T/$f")
	assert_eq "${r%% *}" 202 "real delivery $f"
	assert_contains "$r" '"ignored":true' "real delivery $f ignored"
done
# form-encoded, as GitHub sends with that content type
python3 -c 'import sys,urllib.parse; sys.stdout.write("payload="+urllib.parse.quote_plus(open(sys.argv[1]).read()))' \
	"$T/other-branch.json" >"$T/form.txt"
r=$(deliver push d-form "$T/form.txt" application/x-www-form-urlencoded)
assert_eq "${r%% *}" 202 "form-encoded push"
assert_contains "$r" 'refs/heads/feature' "form-encoded push parsed"
# other events are accepted and ignored
r=$(deliver issues d-issues "$T/ping.json")
assert_eq "${r%% *}" 202 "another event"
# a signed body that is not JSON; a push without the fields
printf 'not json at all' >"$T/notjson.txt"
r=$(deliver push d-notjson "$T/notjson.txt")
assert_eq "${r%% *}" 400 "signed body that is not JSON"
printf '{"zen":"hi"}' >"$T/nofields.json"
r=$(deliver push d-nofields "$T/nofields.json")
assert_eq "${r%% *}" 400 "push without ref"
# an unsupported content type, signed
r=$(deliver push d-text "$T/other-branch.json" text/plain)
assert_eq "${r%% *}" 415 "text/plain"
# oversized: refused from its Content-Length, before the body is read
r=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 20 -X POST -H 'Content-Type: application/json' \
	-H 'X-GitHub-Event: push' -H 'X-Hub-Signature-256: sha256=00' -H 'X-GitHub-Delivery: d-big' \
	-H 'Content-Length: 26214401' -H 'Expect:' --data-binary 'x' "$URL/hooks/github" || true)
assert_eq "$r" 413 "over 25 MB"
# a truncated body: the client announces more than it sends, then goes away
python3 - "${LISTEN%:*}" "${LISTEN##*:}" <<'PY' || true
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(b"POST /hooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"X-GitHub-Event: push\r\nX-Hub-Signature-256: sha256=00\r\nContent-Length: 5000\r\n\r\n{\"ref\":")
s.close()
PY
assert_eq "$(curl -fsS "$URL/healthz" | jq -r .backend)" up "frontend alive after a truncated body"
fi

# --- a real deploy ----------------------------------------------------------
if scenario deploy; then
new=$(push_commit "$ORIGIN" "Release v2" VERSION v2)
push_body "$T/push-v2.json" refs/heads/main "$new"
nfetch=$(grep -c 'git fetch: child' "$T/backend.log" || true)
npull=$(grep -c 'git pull: child' "$T/backend.log" || true)
r=$(deliver push d-v2 "$T/push-v2.json")
assert_eq "${r%% *}" 202 "signed push"
job=$(jq -r '.job' <<<"${r#* }")
[[ $job =~ ^[0-9]+$ ]] || fail "no job in the webhook reply: $r"
assert_eq "$(job_state "$job" 300)" succeeded "deploy job"
assert_eq "$(curl -fsS "http://127.0.0.1:$APPPORT/")" "v2" "the app serves the new version"
assert_eq "$(git -C "$T/app" rev-parse HEAD)" "$new" "checkout at the pushed commit"
log=$(proto "{\"id\":1,\"op\":\"job.get\",\"args\":{\"job\":$job}}")
for step in "deploy: fetch" "deploy: pull" "deploy: rebuild" "deploy: verify" "is live"; do
	assert_contains "$log" "$step" "deploy log has '$step'"
done
hist=$(proto '{"id":1,"op":"deploys.list"}')
assert_eq "$(jq -r '.result[0].to' <<<"$hist")" "$new" "history: to"
assert_eq "$(jq -r '.result[0].state' <<<"$hist")" succeeded "history: state"
assert_eq "$(jq -r '.result[0].trigger' <<<"$hist")" webhook "history: trigger"
assert_eq "$(jq -r '.result[0].deliveries[0]' <<<"$hist")" d-v2 "history: delivery"
assert_contains "$(jq -c '.result[0].files' <<<"$hist")" VERSION "history: changed files"
assert_eq "$(jq -r '[.result[0].steps[].name]|join(",")' <<<"$hist")" "fetch,pull,rebuild,verify" "history: steps"
# fetch and pull in one davit-git run (op fetch_pull), each still its own step
assert_eq "$(grep -c 'git fetch: child' "$T/backend.log")" "$((nfetch + 1))" "one davit-git for the deploy's fetch"
assert_eq "$(grep -c 'git pull: child' "$T/backend.log" || true)" "$npull" "no second davit-git for its pull"
assert_eq "$(jq -r '[.result[0].steps[] | select(.ok)] | length' <<<"$hist")" 4 "history: every step ok"

# a replay of a deployed delivery is ignored
r=$(deliver push d-v2 "$T/push-v2.json")
assert_contains "$r" '"ignored":true' "replayed delivery ignored"
assert_contains "$r" 'replay' "replay reason"
# the signature covers the body, not X-GitHub-Delivery: the same body under
# another delivery id is a replay too
r=$(deliver push d-v2-forged "$T/push-v2.json")
assert_contains "$r" '"ignored":true' "a deployed body under a new delivery id is ignored"
assert_contains "$r" 'replay' "its reason"
fi

# --- local changes in the checkout: the pull is refused, as its own step ----
if scenario pull_refused deploy; then
notes=$(push_commit "$ORIGIN" "Notes" NOTES 'notes')
push_body "$T/push-notes.json" refs/heads/main "$notes"
cp -p "$T/app/VERSION" "$T/VERSION.saved"
echo local >>"$T/app/VERSION"
nfetch=$(grep -c 'git fetch: child' "$T/backend.log" || true)
r=$(deliver push d-notes "$T/push-notes.json")
job=$(jq -r '.job' <<<"${r#* }")
[[ $job =~ ^[0-9]+$ ]] || fail "no job in the webhook reply: $r"
assert_eq "$(job_state "$job" 300)" failed "a deploy over local changes fails"
log=$(proto "{\"id\":1,\"op\":\"job.get\",\"args\":{\"job\":$job}}")
assert_contains "$log" "deploy: fetch done" "the fetch is its own step"
assert_contains "$log" "pull refused or failed (conflict)" "the pull's refusal is named"
hist=$(proto '{"id":1,"op":"deploys.list"}')
assert_eq "$(jq -c --argjson j "$job" '[.result[] | select(.job == $j) | .steps[] | [.name, .ok]] | .[0:2]' <<<"$hist")" '[["fetch",true],["pull",false]]' "history: fetch ok, pull refused"
assert_eq "$(grep -c 'git fetch: child' "$T/backend.log")" "$((nfetch + 1))" "one davit-git for fetch and refused pull"
assert_eq "$(git -C "$T/app" rev-parse HEAD)" "$new" "the checkout did not move"
assert_eq "$(curl -fsS "http://127.0.0.1:$APPPORT/")" "v2" "the app keeps serving"
cat "$T/VERSION.saved" >"$T/app/VERSION"
pass "a pull refused for local changes: reported as its own step, in the same davit-git run"
fi

# --- a broken build: the old version keeps serving -------------------------
if scenario broken_build deploy; then
broken=$(push_commit "$ORIGIN" "Broken build" web/Dockerfile 'FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "false"]')
push_body "$T/push-broken.json" refs/heads/main "$broken"
r=$(deliver push d-broken "$T/push-broken.json")
job=$(jq -r '.job' <<<"${r#* }")
assert_eq "$(job_state "$job" 300)" failed "deploy of a broken build fails"
assert_eq "$(curl -fsS "http://127.0.0.1:$APPPORT/")" "v2" "old version keeps serving"
log=$(proto "{\"id\":1,\"op\":\"job.get\",\"args\":{\"job\":$job}}")
assert_contains "$log" "rebuild failed" "the failure is named"
wait_for -t 30 grep -q 'deploy' "$T/notifications.jsonl" || fail "no notification received"
n=$(tail -n 1 "$T/notifications.jsonl")
jq -e '.text and .content' <<<"$n" >/dev/null || fail "notification lacks text/content: $n"
assert_contains "$n" "davit [app]" "notification names the project (the workdir's basename)"
assert_eq "$(jq -r .project <<<"$n")" app "notification's project member"
for secret in "$TOKEN" "$SECRET" test-password; do
	assert_file_not_contains "$T/notifications.jsonl" "$secret"
	assert_file_not_contains "$T/backend.log" "$secret"
	assert_file_not_contains "$T/audit.jsonl" "$secret"
done
# a redelivery of the failed one runs again (and fails again)
r=$(deliver push d-broken "$T/push-broken.json")
assert_not_contains "$r" 'replay' "a failed delivery may be redelivered"
fi

# --- pushes during a deploy: merged into one follow-up of the newest commit ---
if scenario merged broken_build; then
# the fixed Dockerfile sleeps in its build, so that the deploy is still running
# while the next pushes arrive
push_commit "$ORIGIN" "Slow build" web/Dockerfile 'FROM scratch
COPY busybox /bin/busybox
COPY VERSION /www/index.html
RUN ["/bin/busybox", "sleep", "3"]
CMD ["/bin/busybox", "sh", "-c", "trap '"'exit 0'"' TERM INT; /bin/busybox httpd -f -p 127.0.0.1:${PORT} -h /www & wait $!"]' >/dev/null
v3=$(push_commit "$ORIGIN" "Release v3" VERSION v3)
push_body "$T/push-v3.json" refs/heads/main "$v3"
r=$(deliver push d-v3 "$T/push-v3.json")
job3=$(jq -r '.job' <<<"${r#* }")
in_rebuild() { proto "{\"id\":1,\"op\":\"job.get\",\"args\":{\"job\":$job3}}" | grep -q 'deploy: rebuild"'; }
wait_for -t 60 in_rebuild || fail "the v3 deploy did not reach its rebuild"
v4=$(push_commit "$ORIGIN" "Release v4" VERSION v4)
push_body "$T/push-v4.json" refs/heads/main "$v4"
r4=$(deliver push d-v4 "$T/push-v4.json")
v5=$(push_commit "$ORIGIN" "Release v5" VERSION v5)
push_body "$T/push-v5.json" refs/heads/main "$v5"
r5=$(deliver push d-v5 "$T/push-v5.json")
assert_eq "$(proto "{\"id\":1,\"op\":\"job.get\",\"args\":{\"job\":$job3}}" | jq -r .result.state)" running \
	"the v3 deploy still runs while v4 and v5 arrive"
job4=$(jq -r '.job' <<<"${r4#* }")
assert_ne "$job4" "$job3" "a push during a deploy queues a follow-up"
assert_eq "$(jq -r '.merged' <<<"${r4#* }")" false "the first follow-up is a new job"
assert_eq "$(jq -r '.job' <<<"${r5#* }")" "$job4" "the next push joins the follow-up"
assert_eq "$(jq -r '.merged' <<<"${r5#* }")" true "merged"
assert_eq "$(job_state "$job3" 300)" succeeded "the v3 deploy"
assert_eq "$(job_state "$job4" 300)" succeeded "the follow-up deploy"
assert_eq "$(curl -fsS "http://127.0.0.1:$APPPORT/")" "v5" "the app serves the newest version"
hist=$(proto '{"id":1,"op":"deploys.list"}')
assert_eq "$(jq -r --argjson j "$job4" '.result[] | select(.job == $j) | .to' <<<"$hist")" "$v5" "the follow-up deployed the newest commit"
assert_eq "$(jq -c --argjson j "$job4" '.result[] | select(.job == $j) | .deliveries' <<<"$hist")" '["d-v4","d-v5"]' "both deliveries in one deploy"
assert_eq "$(jq -r '[.result[] | select(.state == "succeeded")] | length' <<<"$hist")" 3 "three deploys succeeded so far"
pass "pushes during a deploy merged into one follow-up"
fi

# --- the history survives a restart, and a damaged tail --------------------
if scenario history merged; then
davit_stop_backend
# what a crash in the middle of a write leaves: NUL bytes and half a line
printf '\0\0\0\0{"id":99,"job":99,"deliveries":["d-torn"' >>"$T/state/app/deploys.jsonl"
davit_start_backend "$ENV"
wait_for grep -q 'damaged lines skipped' "$T/backend.log" || fail "the damaged line was not reported"
hist=$(proto '{"id":1,"op":"deploys.list"}')
assert_contains "$hist" "$new" "history after restart has the good deploy"
assert_contains "$hist" "$broken" "history after restart has the failed deploy"
r=$(proto '{"id":1,"op":"git.status"}')
wait_for -t 30 sh -c "curl -fsS '$URL/healthz' | grep -q '\"up\"'" || fail "frontend not back"
r=$(deliver push d-v2 "$T/push-v2.json")
assert_contains "$r" 'replay' "replay protection survives a restart"
# the demo's helper (README, run.sh) sends a push of origin's newest commit:
# deployed already and running, so the deploy skips the rebuild
r=$(. "$DAVIT_SRC/scripts/demo-lib.sh" && send_push_webhook "$URL" "$ENV")
assert_contains "$r" "HTTP 202" "send_push_webhook accepted"
job=$(head -n 1 <<<"$r" | jq -r .job)
assert_eq "$(job_state "$job" 300)" succeeded "deploy of what already runs"
log=$(proto "{\"id\":1,\"op\":\"job.get\",\"args\":{\"job\":$job}}")
assert_contains "$log" "is already deployed and running" "no rebuild for what already runs"
assert_eq "$(curl -fsS "http://127.0.0.1:$APPPORT/")" "v5" "still serving v5"
# deploys are numbered across restarts; jobs of the earlier run are not linked
hist=$(proto '{"id":1,"op":"deploys.list"}')
assert_eq "$(jq -c '[.result[].id] | (length == (unique | length))' <<<"$hist")" true "deploy ids unique across a restart"
assert_eq "$(jq -r '.result[0].id > ([.result[1:][].id] | max)' <<<"$hist")" true "the new deploy has the next id"
assert_eq "$(jq -r '.result[0].job' <<<"$hist")" "$job" "the new deploy's job"
tail -n 1 "$T/state/app/deploys.jsonl" | jq -e --argjson j "$job" '.job == $j' >/dev/null ||
	fail "the record after a damaged tail is not a line of its own: $(tail -c 300 "$T/state/app/deploys.jsonl")"
assert_eq "$(jq -c '[.result[1:][].job] | unique' <<<"$hist")" '[null]' "earlier runs' jobs are not linked"
davit_stop_backend
fi

# --- no secret: the endpoint is off ------------------------------------------
if scenario nosecret history; then
grep -v '^DAVIT_WEBHOOK_SECRET=' "$ENV" >"$T/nosecret.env"
chmod 600 "$T/nosecret.env"
davit_start_backend "$T/nosecret.env"
wait_for -t 30 curl -fsS "$URL/healthz" || fail "frontend does not answer"
r=$(deliver push d-off "$T/push-v2.json")
assert_eq "${r%% *}" 404 "no secret: endpoint off"
fi
pass "webhook and deploy"
