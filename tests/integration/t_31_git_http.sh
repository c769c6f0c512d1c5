#!/usr/bin/env bash
# Git over smart HTTP with a token (git-http-backend behind lighttpd, basic
# auth as GitHub: user x-access-token): the right token fetches and pulls; a
# wrong token and no token fail clearly with one try; a missing repository is
# not_found; an unreachable remote is tried 4 times with backoff; a server that
# cuts the connection mid-transfer is retried then fails; and neither token
# ever shows in a log, a reply, an event, the audit log, or the git child's
# argv or environment.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/git_helpers.sh"

GOOD=ghp_good$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
BAD=ghp_wrong$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
REPLIES=$T/replies.txt
: >"$REPLIES"

# ---------------------------------------------------------------- fixtures --
mkdir "$T/srv"
git init -q --bare "$T/srv/app.git"
git clone -q "$T/srv/app.git" "$T/seed" 2>/dev/null
push_commit "$T/seed" README "hello" "first" >/dev/null
git clone -q "$T/srv/app.git" "$T/app"
app_owned "$T/app"
PORT=$(unused_port)
start_git_http "$T/srv" "$PORT" "$GOOD"
URL=http://127.0.0.1:$PORT/app.git
# the server really wants the token
assert_fails git ls-remote "$URL"
git -c credential.helper= ls-remote "http://x-access-token:$GOOD@127.0.0.1:$PORT/app.git" >/dev/null ||
	fail "the git server does not accept the right token"

nev=0
start_davit() { # start_davit URL [KEY=VALUE...]
	local url=$1
	shift
	write_davit_env "$T/davit.env" "DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web" \
		"DAVIT_REPO_URL=$url" "$@"
	davit_start_backend "$T/davit.env" --no-frontend
	nev=$((nev + 1))
	start_bg "events-$nev" bash -c "(printf '%s\n' '{\"id\":1,\"op\":\"subscribe\"}'; sleep 300) | socat -t 1 - UNIX-CONNECT:$SOCK"
	wait_for -t 10 grep -q '"subscribed":true' "$T/events-$nev.log" || fail "no subscription"
}
restart_davit() {
	davit_stop_backend
	start_davit "$@"
}

# ------------------------------------------------------------ right token --
start_davit "$URL" "DAVIT_GITHUB_TOKEN=$GOOD"
if scenario right_token; then
c2=$(push_commit "$T/seed" src/a.txt "over http" "second")
j=$(keep "$(run_job git.fetch)")
assert_eq "$(jget "$j" .state)" succeeded "fetch with the right token: $j"
assert_eq "$(jget "$j" .result.tries)" 1 "one try"
s=$(keep "$(git_status)")
assert_eq "$(jget "$s" .update_available)" true "update available"
assert_eq "$(jget "$s" '.incoming[0].id')" "$c2" "incoming over http"
j=$(keep "$(run_job git.pull)")
assert_eq "$(jget "$j" .state)" succeeded "pull after the http fetch"
assert_eq "$(git -C "$T/app" rev-parse HEAD)" "$c2" "HEAD at origin"
assert_eq "$(git -C "$T/app" status --porcelain)" "" "clean"
assert_not_contains "$(cat "$T/app/.git/config")" "$GOOD" "no token in .git/config"
assert_not_contains "$(cat "$T/app/.git/FETCH_HEAD")" "$GOOD" "no token in FETCH_HEAD"
pass "the right token fetches and pulls over smart HTTP"
fi

# ------------------------------------------------------------ wrong token --
if scenario wrong_token; then
restart_davit "$URL" "DAVIT_GITHUB_TOKEN=$BAD"
j=$(keep "$(run_job git.fetch)")
assert_eq "$(jget "$j" .state)" failed "a wrong token fails"
assert_eq "$(jget "$j" .result.code)" unauthorized "code unauthorized"
assert_eq "$(jget "$j" .result.tries)" 1 "a wrong token is tried once"
assert_eq "$(log_count "$j" 'try [0-9] of 4 failed')" 1 "one failed try in the log"
assert_eq "$(log_count "$j" 'retrying')" 0 "no retry"
assert_contains "$(jget "$j" .error)" "DAVIT_GITHUB_TOKEN" "the message says what to check"
s=$(keep "$(git_status)")
assert_contains "$(jget "$s" .error)" "DAVIT_GITHUB_TOKEN" "status error says what to check"
pass "a wrong token fails clearly, once, not retried"

restart_davit "$URL"
j=$(keep "$(run_job git.fetch)")
assert_eq "$(jget "$j" .result.code)" unauthorized "no token: unauthorized"
assert_contains "$(jget "$j" .error)" "set DAVIT_GITHUB_TOKEN" "no token: says to set it"
assert_eq "$(jget "$j" .result.tries)" 1 "no token: one try"
pass "no token: unauthorized, says to set DAVIT_GITHUB_TOKEN"
fi

# --------------------------------------------------------- missing repo --
if scenario missing_repo; then
restart_davit "http://127.0.0.1:$PORT/nope.git" "DAVIT_GITHUB_TOKEN=$GOOD"
j=$(keep "$(run_job git.fetch)")
assert_eq "$(jget "$j" .state)" failed "missing repository over http fails"
assert_eq "$(jget "$j" .result.code)" not_found "missing repository: not_found"
assert_eq "$(jget "$j" .result.tries)" 1 "missing repository: one try"
assert_contains "$(jget "$j" .error)" "DAVIT_REPO_URL" "missing repository: says what to check"
pass "a missing repository over http: not_found, not retried"
fi

# -------------------------------------------------------- unreachable --
if scenario unreachable; then
CLOSED=$(unused_port)
restart_davit "http://127.0.0.1:$CLOSED/app.git" "DAVIT_GITHUB_TOKEN=$GOOD"
start=$SECONDS
j=$(keep "$(run_job git.fetch "" 90)")
took=$((SECONDS - start))
assert_eq "$(jget "$j" .state)" failed "an unreachable remote fails"
assert_eq "$(jget "$j" .result.code)" unavailable "unreachable: unavailable"
assert_eq "$(jget "$j" .result.tries)" 4 "unreachable: 4 tries"
assert_eq "$(log_count "$j" 'try [0-9] of 4 failed')" 4 "4 failed tries in the job log"
assert_eq "$(log_count "$j" 'retrying in')" 3 "3 retries with backoff"
assert_contains "$(jget "$j" .error)" "onnection refused" "the message says why"
[ "$took" -ge 4 ] || fail "4 tries with backoff (about 1+2+4 s) took only ${took}s"
[ "$(grep -c 'try [0-9] of 4 failed' "$T/backend.log")" -ge 4 ] || fail "each try logged by the backend"
pass "an unreachable remote: tried 4 times with backoff (${took}s), then failed"
fi

# --------------------------------------------------------- cut transfer --
if scenario cut_transfer; then
CUT=$(unused_port)
start_cut_server "$CUT"
restart_davit "http://127.0.0.1:$CUT/app.git" "DAVIT_GITHUB_TOKEN=$GOOD"
j=$(keep "$(run_job git.fetch "" 90)")
assert_eq "$(jget "$j" .state)" failed "a cut transfer fails"
assert_eq "$(jget "$j" .result.code)" unavailable "cut: unavailable"
assert_eq "$(jget "$j" .result.tries)" 4 "cut: retried"
assert_eq "$(wc -l <"$T/cut-$CUT.hits")" 4 "the cut server saw 4 requests"
info "cut transfer error: $(jget "$j" .error)"
pass "a server cutting the connection mid-transfer: retried, then a clear failure"
fi

# ------------------------------------------------- a certificate it cannot trust --
if scenario certificate; then
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tls-key.pem" \
		-out "$T/tls-cert.pem" -days 1 -subj /CN=127.0.0.1 >/dev/null 2>&1
	TLS=$(unused_port)
	start_bg tls openssl s_server -accept "127.0.0.1:$TLS" -cert "$T/tls-cert.pem" \
		-key "$T/tls-key.pem" -www
	wait_for -t 10 port_open "$TLS" || fail "no TLS server"
	restart_davit "https://127.0.0.1:$TLS/app.git" "DAVIT_GITHUB_TOKEN=$GOOD"
	j=$(keep "$(run_job git.fetch)")
	assert_eq "$(jget "$j" .state)" failed "a self-signed certificate is refused"
	assert_contains "$(jget "$j" .error)" "certificate" "the message says why"
	assert_eq "$(jget "$j" .result.tries)" 1 "a bad certificate is not retried"
	pass "TLS certificate checks are on: a self-signed server is refused, once"
else
	info "openssl missing: TLS certificate check not tested"
fi
fi

# -------------------------------------------- the child's argv and environ --
if scenario child; then
TARPIT=$(unused_port)
start_bg tarpit socat "TCP-LISTEN:$TARPIT,bind=127.0.0.1,reuseaddr,fork" SYSTEM:'sleep 120'
TARPIT_PID=$BG_PID
wait_for -t 10 port_open "$TARPIT" || fail "no tarpit"
restart_davit "http://127.0.0.1:$TARPIT/app.git" "DAVIT_GITHUB_TOKEN=$GOOD"
id=$(submit git.fetch)
# the fetch's child, connected to the tarpit
wait_for -t 15 git_child_to "$TARPIT" || fail "no git child connected to the tarpit"
cp=$(git_child_to "$TARPIT")
[ -n "$cp" ] || fail "git child pid"
cmdline=$(tr '\0' ' ' <"/proc/$cp/cmdline")
environ=$(tr '\0' '\n' <"/proc/$cp/environ")
assert_contains "$cmdline" "--git-child" "the child's argv"
assert_not_contains "$cmdline" "$GOOD" "no token in the child's argv"
assert_not_contains "$environ" "$GOOD" "no token in the child's environment"
assert_not_contains "$environ" "ghp_" "no token-like value in the child's environment"
assert_eq "$(awk '/^TracerPid/ { print $2 }' "/proc/$cp/status")" 0 "not traced"
# exec'd as root, it dropped itself to the checkout's owner for good, made
# itself undumpable (its /proc entries stay root's) and set no_new_privs
own=$(id -u "$DEMO_APP_USER")
owng=$(id -g "$DEMO_APP_USER")
assert_contains "$cmdline" "--git-child $own $owng" "the owner's ids in the child's argv"
assert_eq "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$cp/status")" "$own $own $own $own" "runs as the owner"
assert_eq "$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "/proc/$cp/status")" "$owng $owng $owng $owng" "with the owner's group"
assert_eq "$(awk '/^Groups:/ { print $2 }' "/proc/$cp/status")" "$owng" "and no other group"
assert_eq "$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$cp/status")" 1 "no_new_privs"
assert_eq "$(stat -c %u "/proc/$cp/environ")" 0 "undumpable: its /proc files are root's"
assert_fails runuser -u "$DEMO_APP_USER" -- cat "/proc/$cp/environ"
# closing the tarpit ends the hanging try; the others meet a closed port
kill -TERM -- "-$TARPIT_PID" 2>/dev/null || true
j=$(keep "$(job_wait "$id" 90)")
assert_eq "$(jget "$j" .state)" failed "the tarpit fetch ends"
pass "the git child: dropped by itself, undumpable; token in neither argv nor environment"
fi

# ----------------------------------------------------------- leak check --
davit_stop_backend
for tok in "$GOOD" "$BAD"; do
	assert_file_not_contains "$T/backend.log" "$tok" "token in the backend log"
	assert_file_not_contains "$T/audit.jsonl" "$tok" "token in the audit log"
	assert_file_not_contains "$REPLIES" "$tok" "token in a reply"
	for ev in "$T"/events-*.log; do
		assert_file_not_contains "$ev" "$tok" "token in an event"
	done
done
assert_file_contains "$T/audit.jsonl" '"op":"git.fetch"' "fetches audited"
pass "neither token in the backend's log, replies, events or audit log"
