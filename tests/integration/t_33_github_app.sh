#!/usr/bin/env bash
# A GitHub App instead of a personal token, against a fake GitHub API of our
# own (fake_github.py, checking each JWT with the App's public key) and the
# smart-HTTP git server, which accepts only the installation tokens currently
# valid: the installation found by repository; fetch with an App token
# limited to the repository and contents: read; the token cached, then
# refreshed when it has less than 5 minutes left (no failed job although the
# old one no longer works); a rate limit waited out; the wrong key (a clear
# 401 message, one request, no retry storm); the App not installed (404
# message); deploys posting commit statuses (pending, then success or
# failure, with the right SHA and context, audited); a personal token posting
# statuses, its expiry header logged, shown in git.status's auth and notified
# 7 days before (once); git.status's auth for an App (App ID, installation,
# token expiry, the last error); a token revoked between two fetches (git's
# 401: a new token, tried again, no failed job); git refusing every App token
# (the message names the App, not DAVIT_GITHUB_TOKEN; one new token, no
# storm); a clone into an empty DAVIT_WORKDIR with an App; a webhook deploy
# through the frontend with an App; no token or JWT in any log.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/git_helpers.sh"

FIX=$DAVIT_SRC/tests/fixtures/github
APP_ID=424242
INSTALL=8675309
PAT=ghp_personal$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')

ensure_docker
APPPORT=$(unused_port)
PROJECT=$(unique_project dvgh)
PORT=$APPPORT demo_app "$T/app" "$PROJECT"
ORIGIN=$T/app.origin.git
git clone -q "$ORIGIN" "$T/seed"	# git_helpers.sh's push_commit pushes from a clone

# the key as davit wants it: root's, 0600 (the fixtures are world-readable)
install -m 0600 "$FIX/test-app-key.TEST-ONLY.pem" "$T/app-key.pem"
install -m 0600 "$FIX/other-app-key.TEST-ONLY.pem" "$T/wrong-key.pem"

# the git server serves $T/*.git; its userfile is the fake API's to keep
GITPORT=$(unused_port)
start_git_http "$T" "$GITPORT" "placeholder-not-a-token"
APIPORT=$(unused_port)
start_bg fake-github python3 "$DAVIT_SRC/tests/integration/fake_github.py" \
	--port "$APIPORT" --public-key "$FIX/test-app-key.TEST-ONLY.pub.pem" \
	--app-id "$APP_ID" --repo acme/app --installation-id "$INSTALL" \
	--userfile "$T/git-http-$GITPORT.users" --personal-token "$PAT"
wait_for port_open "$APIPORT" || fail "the fake GitHub API did not start"
API=http://127.0.0.1:$APIPORT
REPO_URL=http://127.0.0.1:$GITPORT/app.origin.git
assert_eq "$(http_code "$REPO_URL/info/refs?service=git-upload-pack" -u x-access-token:placeholder-not-a-token)" 401 \
	"the git server no longer takes the placeholder"

fake() { # fake METHOD PATH [JSON]
	if [ $# -ge 3 ]; then
		curl -fsS -X "$1" -H 'Content-Type: application/json' --data "$3" "$API$2"
	else
		curl -fsS -X "$1" "$API$2"
	fi
}
ntokens() { fake GET /_test/tokens | jq length; }
nreq() { # nreq METHOD PATH-REGEX [STATUS]: how many such API requests
	fake GET /_test/requests | jq --arg m "$1" --arg p "$2" --arg s "${3:-}" \
		'[.[] | select(.method == $m and (.path | test($p)) and ($s == "" or (.status | tostring) == $s))] | length'
}
start_davit() { # start_davit [KEY=VALUE...]; DAVIT_WORKDIR is $WORKDIR (default $T/app)
	write_davit_env "$T/davit.env" "DAVIT_WORKDIR=${WORKDIR:-$T/app}" "DAVIT_SERVICES=web,worker" \
		"DAVIT_COMPOSE_PROJECT=$PROJECT" "DAVIT_REPO_URL=$REPO_URL" \
		"DAVIT_GITHUB_REPO=acme/app" "DAVIT_GITHUB_APP_ID=$APP_ID" \
		"DAVIT_GITHUB_API_URL=$API" "DAVIT_DEPLOY_VERIFY=30" "$@"
	local args=(--no-frontend)	# WITH_FRONTEND=1: the backend starts one
	[ -z "${WITH_FRONTEND:-}" ] || args=()
	davit_start_backend "$T/davit.env" "${args[@]}"
}

# ------------------------------------------- installation found, fetch --
start_davit "DAVIT_GITHUB_APP_KEY=$T/app-key.pem"
c2=$(push_commit "$T/seed" VERSION v2 "second")
j=$(run_job git.fetch)
assert_eq "$(jget "$j" .state)" succeeded "fetch with the App's token: $j"
assert_eq "$(nreq GET '^/repos/acme/app/installation$' 200)" 1 "installation found by repository"
assert_eq "$(ntokens)" 1 "one installation token"
t=$(fake GET /_test/tokens)
assert_eq "$(jget "$t" '.[0].repositories')" '["app"]' "the token is limited to the repository"
assert_eq "$(jget "$t" '.[0].permissions')" '{"contents":"read"}' "and to contents: read"
assert_eq "$(jget "$(git_status)" '.incoming[0].id')" "$c2" "the fetch brought the new commit"
j=$(run_job git.fetch)
assert_eq "$(jget "$j" .state)" succeeded "second fetch"
assert_eq "$(ntokens)" 1 "the token is cached while it has more than 5 minutes left"
pass "an App: installation found by repository, fetch with a token for one repository, cached"

# git.status's auth: the App, its installation, the token's expiry; no token
st=$(git_status)
assert_eq "$(jget "$st" .auth.mode)" app "auth: an App: $st"
assert_eq "$(jget "$st" .auth.app_id)" "$APP_ID" "auth: the App ID"
assert_eq "$(jget "$st" .auth.installation)" "$INSTALL" "auth: the installation found"
assert_eq "$(jget "$st" '.auth.token_expires_at | sub("\\.[0-9]+Z$"; "Z")')" \
	"$(fake GET /_test/tokens | jq -r '.[-1].expires_at')" "auth: the token's expiry, as GitHub said"
assert_eq "$(jget "$st" .auth.error)" null "auth: no error"
assert_not_contains "$st" "ghs_" "no token in git.status"
pass "git.status's auth: App ID, installation, the token's expiry; no token"

# ----------------------------------- a token expiring between two fetches --
davit_stop_backend
fake POST /_test/config '{"reported_ttl": 200}' >/dev/null	# expires_at: < 5 min left
start_davit "DAVIT_GITHUB_APP_KEY=$T/app-key.pem" "DAVIT_GITHUB_INSTALLATION_ID=$INSTALL"
j=$(run_job git.fetch)
assert_eq "$(jget "$j" .state)" succeeded "fetch with a short-lived token: $j"
assert_eq "$(ntokens)" 2 "a new process asks for a token"
assert_eq "$(nreq GET '/installation$')" 1 "DAVIT_GITHUB_INSTALLATION_ID: no lookup"
oldtok=$(cut -d: -f2 "$T/git-http-$GITPORT.users")
assert_eq "$(http_code "$REPO_URL/info/refs?service=git-upload-pack" -u "x-access-token:$oldtok")" 200 "the token works"
fake POST /_test/expire >/dev/null	# every token issued so far now fails at the git server
assert_eq "$(http_code "$REPO_URL/info/refs?service=git-upload-pack" -u "x-access-token:$oldtok")" 401 \
	"the expired token no longer works at the git server"
j=$(run_job git.fetch)
assert_eq "$(jget "$j" .state)" succeeded "the next fetch refreshed the token first: $j"
assert_eq "$(jget "$j" .result.tries)" 1 "no failed try"
assert_eq "$(ntokens)" 3 "a new token for the second fetch"
fake POST /_test/config '{"reported_ttl": null}' >/dev/null
pass "a token with less than 5 minutes left is refreshed before the next fetch, no failed job"

# ----------------------------------- a token revoked between two fetches --
j=$(run_job git.fetch)	# the last token said < 5 min: a new one, said 1 h
assert_eq "$(jget "$j" .state)" succeeded "fetch: $j"
n=$(ntokens)
fake POST /_test/expire >/dev/null	# revoked: the git server refuses it, davit still holds it
c3=$(push_commit "$T/seed" VERSION v2b "after the revocation")
j=$(run_job git.fetch)
assert_eq "$(jget "$j" .state)" succeeded "git refused the revoked token, a new one was used: $j"
assert_eq "$(jget "$j" .result.tries)" 2 "the second try, with the new token"
assert_eq "$(log_count "$j" "GitHub refused the App's token: asking for a new one")" 1 "the job log says why"
assert_eq "$(ntokens)" $((n + 1)) "one new token"
assert_eq "$(jget "$(git_status)" .remote.id)" "$c3" "the fetch brought the new commit"
pass "a token revoked between two fetches: git's 401, a new token, no failed job"

# ----------------------------------- git refuses every token of the App --
n=$(ntokens)
fake POST /_test/config '{"git_accept": false}' >/dev/null
j=$(run_job git.fetch)
assert_eq "$(jget "$j" .state)" failed "git refuses the App's tokens: $j"
assert_eq "$(jget "$j" .result.code)" unauthorized "code unauthorized"
assert_contains "$(jget "$j" .error)" "refused the GitHub App's installation token: check the App's permissions (Contents: read) and its installation on acme/app" "the message names the App"
assert_not_contains "$(jget "$j" .error)" "DAVIT_GITHUB_TOKEN" "not the personal token"
assert_eq "$(jget "$j" .result.tries)" 2 "tried once more with a new token, then given up"
assert_eq "$(ntokens)" $((n + 1)) "one new token, not a storm"
fake POST /_test/config '{"git_accept": true}' >/dev/null
pass "git refusing the App's token: the message names the App and its installation, one retry"

# ---------------------------------------------------- a clone with an App --
davit_stop_backend
mkdir "$T/clone"
app_owned "$T/clone"
n=$(ntokens)
WORKDIR=$T/clone start_davit "DAVIT_GITHUB_APP_KEY=$T/app-key.pem" "DAVIT_GITHUB_INSTALLATION_ID=$INSTALL"
cloned() { [ "$(git_status | jq -r .local.id)" = "$c3" ]; }
wait_for -t 60 cloned || fail "no clone at start with the App: $(git_status); $(tail -n 20 "$T/backend.log")"
assert_eq "$(git -C "$T/clone" rev-parse HEAD)" "$c3" "the clone is at origin's commit"
assert_eq "$(stat -c %U "$T/clone/.git")" "$(stat -c %U "$T/app")" "the clone belongs to the checkout's owner"
assert_eq "$(ntokens)" $((n + 1)) "the clone asked for a token"
if grep -rqs "ghs_" "$T/clone/.git/config" "$T/clone/.git/FETCH_HEAD"; then
	fail "the token was written into the clone"
fi
pass "a clone into an empty DAVIT_WORKDIR with an App's token"

# --------------------------------------------------------- rate limited --
fake POST /_test/config '{"fail": [{"method": "POST", "path": "access_tokens", "status": 429, "times": 1, "headers": {"retry-after": "1"}}]}' >/dev/null
fake POST /_test/expire >/dev/null
davit_stop_backend
start_davit "DAVIT_GITHUB_APP_KEY=$T/app-key.pem" "DAVIT_GITHUB_INSTALLATION_ID=$INSTALL"
j=$(run_job git.fetch)
assert_eq "$(jget "$j" .state)" succeeded "a rate-limited token request is waited out: $j"
assert_eq "$(nreq POST access_tokens 429)" 1 "the 429 came"
assert_file_contains "$T/backend.log" "rate-limited (HTTP 429), waiting 1 s"
pass "a rate limit (429, retry-after) is waited out"

# ------------------------------------------------------------ wrong key --
davit_stop_backend
before=$(nreq GET '/installation$')
start_davit "DAVIT_GITHUB_APP_KEY=$T/wrong-key.pem"
j=$(run_job git.fetch)
assert_eq "$(jget "$j" .state)" failed "the wrong key fails"
assert_eq "$(jget "$j" .result.code)" unauthorized "code unauthorized"
assert_contains "$(jget "$j" .error)" "GitHub refused the App's JWT (HTTP 401" "the message: $j"
assert_contains "$(jget "$j" .error)" "check the App ID" "says what to check"
assert_contains "$(jget "$j" .error)" "clock" "and the clock"
assert_eq "$(($(nreq GET '/installation$') - before))" 1 "one request, not a retry storm"
pass "the wrong key: a clear 401 message, one request"

# -------------------------------------------------- a key davit refuses --
chmod 0644 "$T/app-key.pem"
write_davit_env "$T/bad.env" "DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web" \
	"DAVIT_REPO_URL=$REPO_URL" "DAVIT_GITHUB_REPO=acme/app" \
	"DAVIT_GITHUB_APP_ID=$APP_ID" "DAVIT_GITHUB_APP_KEY=$T/app-key.pem" \
	"DAVIT_SOCKET=$T/bad.sock"
davit_stop_backend
assert_fails "$DAVIT_BUILD/backend/davit-backend" --config "$T/bad.env" --no-frontend
"$DAVIT_BUILD/backend/davit-backend" --config "$T/bad.env" --no-frontend >"$T/badkey.log" 2>&1 || true
assert_file_contains "$T/badkey.log" "DAVIT_GITHUB_APP_KEY $T/app-key.pem: the key file has mode 0644: chmod 600 it"
chmod 0600 "$T/app-key.pem"
pass "a key readable by others is refused at start, saying chmod 600"

# ------------------------------------------------------ not installed --
fake POST /_test/config '{"installed": false}' >/dev/null
start_davit "DAVIT_GITHUB_APP_KEY=$T/app-key.pem"
j=$(run_job git.fetch)
assert_eq "$(jget "$j" .state)" failed "not installed: fails"
assert_contains "$(jget "$j" .error)" "the App is not installed on acme/app" "the 404 message: $j"
assert_contains "$(jget "$(git_status)" .auth.error)" "the App is not installed on acme/app" "git.status's auth has the last error"
assert_eq "$(jget "$(git_status)" .auth.installation)" null "no installation known"
fake POST /_test/config '{"installed": true}' >/dev/null
pass "the App not installed: the 404 says so"

# --------------------------------------------------- deploys and statuses --
davit_stop_backend
start_davit "DAVIT_GITHUB_APP_KEY=$T/app-key.pem" "DAVIT_GITHUB_STATUS=1" \
	"DAVIT_PUBLIC_URL=https://deploy.example.com"
deploy() { # deploy: runs a deploy job, prints its result
	local r id
	r=$(proto '{"id":1,"op":"deploy"}')
	id=$(jq -er '.result.job' <<<"$r") || fail "deploy: $r"
	job_wait "$id" 300
}
j=$(deploy)
assert_eq "$(jget "$j" .state)" succeeded "a deploy with the App: $j"
assert_eq "$(curl -fsS "http://127.0.0.1:$APPPORT/")" v2b "the app serves v2b"
wait_for -t 30 sh -c "curl -fsS '$API/_test/statuses' | jq -e 'length >= 2' >/dev/null" ||
	fail "no statuses: $(fake GET /_test/statuses)"
s=$(fake GET /_test/statuses)
assert_eq "$(jget "$s" '[.[] | .state] | join(",")')" "pending,success" "pending, then success"
assert_eq "$(jget "$s" '[.[] | .sha] | unique | join(",")')" "$c3" "for the deployed commit"
assert_eq "$(jget "$s" '[.[] | .context] | unique | join(",")')" "davit/deploy" "context davit/deploy"
assert_eq "$(jget "$s" '[.[] | .auth] | unique | join(",")')" "installation" "with the App's token"
assert_contains "$(jget "$s" '.[1].description')" "deployed in" "the description"
assert_contains "$(jget "$s" '.[1].target_url')" "https://deploy.example.com/#deploy-" "the link"
t=$(fake GET /_test/tokens)
assert_eq "$(jget "$t" '.[-1].permissions')" '{"contents":"read","statuses":"write"}' "statuses: write asked for"
wait_for -t 10 sh -c "[ \$(grep -c '\"kind\":\"github.status\".*\"result\":\"posted\"' '$T/audit.jsonl') -ge 2 ]" ||
	fail "the posts are not in the audit log"
pass "a successful deploy posts pending and success for its commit, context davit/deploy"

broken=$(push_commit "$T/seed" web/Dockerfile 'FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "false"]' "Broken build")
j=$(deploy)
assert_eq "$(jget "$j" .state)" failed "a broken build fails"
wait_for -t 30 sh -c "curl -fsS '$API/_test/statuses' | jq -e 'length >= 4' >/dev/null" ||
	fail "no statuses for the failed deploy: $(fake GET /_test/statuses)"
s=$(fake GET /_test/statuses)
assert_eq "$(jget "$s" '[.[2:][] | .state] | join(",")')" "pending,failure" "pending, then failure"
assert_eq "$(jget "$s" '[.[2:][] | .sha] | unique | join(",")')" "$broken" "for the broken commit"
assert_contains "$(jget "$s" '.[3].description')" "rebuild failed" "the description says why"
pass "a failed deploy posts pending and failure for its commit"

# ------------------------------------- a personal token, with its expiry --
davit_stop_backend
fake POST /_test/expire >/dev/null	# the git server now takes the personal token
# GitHub announces an expiry within 7 days: a notification, once
NEAR=$(date -u -d '+3 days' '+%Y-%m-%d %H:%M:%S UTC')
fake POST /_test/config "{\"expiration_header\": \"$NEAR\"}" >/dev/null
NOTIFYPORT=$(unused_port)
start_bg receiver python3 "$DAVIT_SRC/tests/integration/notify/receiver.py" "$NOTIFYPORT" "$T/notifications.jsonl"
wait_for port_open "$NOTIFYPORT" || fail "notification receiver did not start"
sed -i -e '/^DAVIT_GITHUB_APP_/d' "$T/davit.env"
printf 'DAVIT_GITHUB_TOKEN=%s\nDAVIT_NOTIFY_URL=http://127.0.0.1:%s/hook\n' "$PAT" "$NOTIFYPORT" >>"$T/davit.env"
davit_start_backend "$T/davit.env" --no-frontend
st=$(git_status)
assert_eq "$(jget "$st" .auth.mode)" token "auth: a personal token: $st"
assert_eq "$(jget "$st" .auth.expires_at)" null "no expiry known before GitHub said one"
j=$(deploy)
wait_for -t 30 sh -c "curl -fsS '$API/_test/statuses' | jq -e 'length >= 6' >/dev/null" ||
	fail "no statuses with the personal token: $(fake GET /_test/statuses)"
s=$(fake GET /_test/statuses)
assert_eq "$(jget "$s" '[.[4:][] | .auth] | unique | join(",")')" "personal" "posted with the personal token"
assert_eq "$(jget "$s" '[.[4:][] | .state] | join(",")')" "pending,failure" "the broken commit again"
assert_file_contains "$T/backend.log" "the personal token expires $NEAR"
expiring() { grep -c '"kind":"github.token_expiring"' "$T/notifications.jsonl" 2>/dev/null; }
wait_for -t 30 expiring || fail "no notification of the token's expiry: $(cat "$T/notifications.jsonl" 2>/dev/null)"
st=$(git_status)
assert_eq "$(jget "$st" '.auth.expires_at | sub("\\.[0-9]+Z$"; "Z")')" "$(date -u -d "$NEAR" '+%Y-%m-%dT%H:%M:%SZ')" \
	"git.status's auth has the announced expiry"
assert_eq "$(jget "$st" .auth.mode)" token "still the personal token"
n=$(jq -c 'select(.kind == "github.token_expiring")' "$T/notifications.jsonl")
assert_contains "$n" "the personal token (DAVIT_GITHUB_TOKEN) for acme/app expires $NEAR (in " "the notification: $n"
assert_not_contains "$n" "$PAT" "no token in the notification"
# both statuses carried the header; still one notification (once per expiry date)
wait_for -t 10 sh -c "[ \$(grep -c '\"kind\":\"github.status\".*\"result\":\"posted\"' '$T/audit.jsonl') -ge 6 ]" ||
	fail "the personal token's posts are not in the audit log"
assert_eq "$(expiring)" 1 "notified once"
pass "a personal token posts statuses; GitHub's expiry header is logged, shown in git.status, notified 7 days before (once)"

# ------------------------------- a webhook deploy with an App, via a frontend --
davit_stop_backend
sed -i -e '/^DAVIT_GITHUB_TOKEN=/d' "$T/davit.env"
chmod 0711 "$T"	# the frontend (DAVIT_USER) reaches the socket in $T/run
SECRET=webhook-secret-$RANDOM$RANDOM
LISTEN=127.0.0.1:$(unused_port)
fixed=$(git -C "$T/seed" show "$c2:web/Dockerfile")
push_commit "$T/seed" web/Dockerfile "$fixed" "Fixed build" >/dev/null
v3=$(push_commit "$T/seed" VERSION v3 "Release v3")
WITH_FRONTEND=1 start_davit "DAVIT_GITHUB_APP_KEY=$T/app-key.pem" "DAVIT_GITHUB_STATUS=1" \
	"DAVIT_LISTEN=$LISTEN" "DAVIT_WEBHOOK_SECRET=$SECRET" "DAVIT_SOCKET=$T/run/backend.sock"
URL=http://$LISTEN
wait_for -t 30 sh -c "curl -fsS '$URL/healthz' | grep -q '\"up\"'" || fail "the frontend is not linked to the backend"
jq -n --arg after "$v3" '{ref: "refs/heads/main", before: "0000000000000000000000000000000000000000",
	after: $after, created: false, deleted: false, repository: {full_name: "acme/app", name: "app"},
	commits: [{id: $after, added: [], removed: [], modified: ["VERSION"]}], head_commit: {id: $after}}' >"$T/push.json"
sig=sha256=$(python3 -c 'import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(),open(sys.argv[2],"rb").read(),hashlib.sha256).hexdigest())' "$SECRET" "$T/push.json")
r=$(curl -sS -o "$T/reply" -w '%{http_code}' --max-time 20 -X POST -H 'Content-Type: application/json' \
	-H 'X-GitHub-Event: push' -H 'X-GitHub-Delivery: d-app-1' -H "X-Hub-Signature-256: $sig" \
	--data-binary "@$T/push.json" "$URL/hooks/github")
assert_eq "$r" 202 "the signed push is taken: $(cat "$T/reply")"
job=$(jq -r .job "$T/reply")
[[ $job =~ ^[0-9]+$ ]] || fail "no job in the webhook reply: $(cat "$T/reply")"
assert_eq "$(job_state "$job" 300)" succeeded "the webhook's deploy with the App"
assert_eq "$(curl -fsS "http://127.0.0.1:$APPPORT/")" v3 "the app serves v3"
wait_for -t 30 sh -c "curl -fsS '$API/_test/statuses' | jq -e 'length >= 8' >/dev/null" ||
	fail "no statuses for the webhook's deploy: $(fake GET /_test/statuses)"
s=$(fake GET /_test/statuses)
assert_eq "$(jget "$s" '[.[6:][] | .state] | join(",")')" "pending,success" "pending, then success"
assert_eq "$(jget "$s" '[.[6:][] | .sha] | unique | join(",")')" "$v3" "for the pushed commit"
assert_eq "$(jget "$s" '[.[6:][] | .auth] | unique | join(",")')" "installation" "with the App's token"
pass "a webhook deploy through the frontend with an App, its statuses posted"

# ----------------------------------------------------------- no secrets --
davit_stop_backend
for f in "$T"/*.log "$T"/audit.jsonl "$T"/notifications.jsonl; do
	[ -f "$f" ] || continue
	if grep -Eq "ghs_[0-9a-f]{10}|eyJhbGciOi|$PAT" "$f"; then
		fail "a token or JWT in $f"
	fi
done
pass "no installation token or JWT in any log"
