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
# statuses, its expiry header logged; no token or JWT in any log.
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
start_davit() { # start_davit [KEY=VALUE...]
	write_davit_env "$T/davit.env" "DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web,worker" \
		"DAVIT_COMPOSE_PROJECT=$PROJECT" "DAVIT_REPO_URL=$REPO_URL" \
		"DAVIT_GITHUB_REPO=acme/app" "DAVIT_GITHUB_APP_ID=$APP_ID" \
		"DAVIT_GITHUB_API_URL=$API" "DAVIT_DEPLOY_VERIFY=30" "$@"
	davit_start_backend "$T/davit.env" --no-frontend
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
assert_eq "$(curl -fsS "http://127.0.0.1:$APPPORT/")" v2 "the app serves v2"
wait_for -t 30 sh -c "curl -fsS '$API/_test/statuses' | jq -e 'length >= 2' >/dev/null" ||
	fail "no statuses: $(fake GET /_test/statuses)"
s=$(fake GET /_test/statuses)
assert_eq "$(jget "$s" '[.[] | .state] | join(",")')" "pending,success" "pending, then success"
assert_eq "$(jget "$s" '[.[] | .sha] | unique | join(",")')" "$c2" "for the deployed commit"
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
fake POST /_test/config '{"expiration_header": "2031-01-02 03:04:05 UTC"}' >/dev/null
sed -i -e '/^DAVIT_GITHUB_APP_/d' "$T/davit.env"
printf 'DAVIT_GITHUB_TOKEN=%s\n' "$PAT" >>"$T/davit.env"
davit_start_backend "$T/davit.env" --no-frontend
j=$(deploy)
wait_for -t 30 sh -c "curl -fsS '$API/_test/statuses' | jq -e 'length >= 6' >/dev/null" ||
	fail "no statuses with the personal token: $(fake GET /_test/statuses)"
s=$(fake GET /_test/statuses)
assert_eq "$(jget "$s" '[.[4:][] | .auth] | unique | join(",")')" "personal" "posted with the personal token"
assert_eq "$(jget "$s" '[.[4:][] | .state] | join(",")')" "pending,failure" "the broken commit again"
assert_file_contains "$T/backend.log" "the personal token expires 2031-01-02 03:04:05 UTC"
pass "a personal token posts statuses; GitHub's expiry header is logged"

# ----------------------------------------------------------- no secrets --
davit_stop_backend
for f in "$T"/*.log "$T"/audit.jsonl; do
	[ -f "$f" ] || continue
	if grep -Eq "ghs_[0-9a-f]{10}|eyJhbGciOi|$PAT" "$f"; then
		fail "a token or JWT in $f"
	fi
done
pass "no installation token or JWT in any log"
