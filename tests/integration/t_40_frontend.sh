#!/usr/bin/env bash
# davit-frontend over HTTP, with curl, against a real backend: the process
# (not root, no_new_privs, no token in its environment, unable to read .env
# or open the Docker socket), sessions and cookie flags, CSRF, Origin, media
# types, security headers on every reply, the JSON API and its 202 jobs, the
# event stream, static files and traversal attempts, oversized headers and
# bodies, a slow client cut off, login throttling, logout, the backend killed
# and restarted (503, then recovery without restarting the frontend), and
# supervision (the frontend killed, then restarted by the backend).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

FE_BIN=$DAVIT_BUILD/frontend/davit-frontend
[ -x "$FE_BIN" ] || fail "$FE_BIN not built (DAVIT_BUILD=$DAVIT_BUILD)"
getent passwd davit >/dev/null || fail "no user davit (scripts/setup.sh)"
DAVIT_UID=$(id -u davit)

TOKEN=ghp_frontendtest_$RANDOM$RANDOM
WEBHOOK_SECRET=whsec_frontendtest_$RANDOM$RANDOM
PASSWORD="front end 'pw' $RANDOM"
mkdir -p "$T/run" "$T/r" "$T/www/sub"

# the demo app's checkout and origin: git ops have something real to work on
APP=$T/app
make_demo_app "$APP" "$(unique_project dvf)" >"$T/demo.log" 2>&1 ||
	fail "make_demo_app: $(tail -n 5 "$T/demo.log")"

# a www directory with a file, a subdirectory, and ways out that must stay shut
printf '<!doctype html><title>davit test</title>\n' >"$T/www/index.html"
printf 'console.log("davit");\n' >"$T/www/app.js"
printf 'body{}\n' >"$T/www/sub/site.css"
printf 'OUTSIDE-WWW-%s\n' "$RANDOM" >"$T/secret.txt"
printf 'HIDDEN-%s\n' "$RANDOM" >"$T/www/.hidden"
ln -s ../secret.txt "$T/www/evil"
ln -s .. "$T/www/up"
ln -s /etc "$T/www/etc"
chmod -R a+rX "$T/www"
OUTSIDE=$(cat "$T/secret.txt")

LISTEN=127.0.0.1:$(unused_port)
URL=http://$LISTEN
HOSTPORT=$LISTEN
ENV=$T/davit.env
write_env_file() { # write_env_file [KEY=VALUE...]: the .env, extra keys last
	write_davit_env "$ENV" \
		"DAVIT_SOCKET=$T/run/backend.sock" \
		"DAVIT_LISTEN=$LISTEN" \
		"DAVIT_WORKDIR=$APP" \
		"DAVIT_SERVICES=web,worker" \
		"DAVIT_REPO_URL=file://$APP.origin.git" \
		"DAVIT_GITHUB_TOKEN=$TOKEN" \
		"DAVIT_WEBHOOK_SECRET=$WEBHOOK_SECRET" \
		"DAVIT_WWW_DIR=$T/www" \
		"DAVIT_PASSWORD=\"$PASSWORD\"" \
		"$@"
}
write_env_file

# ---------------------------------------------------------------- helpers --
N=0
# req CURL_ARGS...: CODE is the status; body in $T/r/$N.b, headers in $T/r/$N.h
req() {
	N=$((N + 1))
	CODE=$(curl -s -o "$T/r/$N.b" -D "$T/r/$N.h" -w '%{http_code}' --max-time 15 \
		--path-as-is "$@" || true)
}
body() { cat "$T/r/$N.b"; }
hdr() { # hdr NAME: the value of a response header of the last req
	tr -d '\r' <"$T/r/$N.h" | sed -n "s/^$1: //Ip" | head -n 1
}
# sec_headers [api]: the last reply carries the security headers
sec_headers() {
	local h
	h=$(tr -d '\r' <"$T/r/$N.h")
	assert_contains "$h" "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'" "CSP (reply $N)"
	assert_contains "$h" "X-Content-Type-Options: nosniff" "nosniff (reply $N)"
	assert_contains "$h" "Referrer-Policy: no-referrer" "Referrer-Policy (reply $N)"
	assert_contains "$h" "X-Frame-Options: DENY" "X-Frame-Options (reply $N)"
	if [ "${1:-}" = api ]; then
		assert_contains "$h" "Cache-Control: no-store" "Cache-Control (reply $N)"
	fi
}
err_code() { body | jq -r '.error.code'; }

JAR=$T/jar
login() { # login: CODE; the cookie in $JAR, the CSRF token in $CSRF
	req -c "$JAR" -X POST -H 'Content-Type: application/json' \
		--data-binary "$(jq -cn --arg p "$PASSWORD" '{password:$p}')" "$URL/api/login"
	CSRF=$(body | jq -r '.csrf // empty')
}
post() { # post PATH [CURL_ARGS...]: CODE, with the session and its token
	local path=$1
	shift
	req -b "$JAR" -X POST -H "X-Davit-CSRF: $CSRF" "$@" "$URL$path"
}

# ------------------------------------------------- backend + frontend apart --
davit_start_backend "$ENV" --no-frontend
_SAN_LOGS+=("$T/frontend.log")
start_bg frontend "$FE_BIN" --socket "$SOCK" --user davit --www "$T/www"
FE_PID=$BG_PID
wait_for -t 30 backend_up || fail "frontend not up: $(tail -n 20 "$T/frontend.log")"
assert_eq "$(cat "/proc/$FE_PID/comm")" davit-frontend "frontend pid"
pass "backend (--no-frontend) and a separately started frontend, linked"

# ------------------------------------------------- the backend's auth ops --
if scenario auth_ops; then
# auth.login is answered off the loop: a hello sent after it is answered first
login_line=$(jq -cn --arg p "$PASSWORD" '{id:1,op:"auth.login",args:{password:$p,client:"t40"}}')
out=$( (printf '%s\n' "$login_line" '{"id":2,"op":"hello"}'; sleep 2) |
	socat -t 5 - "UNIX-CONNECT:$SOCK")
assert_eq "$(sed -n 1p <<<"$out" | jq -r .id)" 2 "hello answered before the password check"
assert_eq "$(sed -n 2p <<<"$out" | jq -c .)" '{"id":1,"ok":true,"result":{"ok":true}}' "auth.login, right password"
out=$( (echo '{"id":3,"op":"auth.login","args":{"password":"nope"}}'; sleep 2) |
	socat -t 5 - "UNIX-CONNECT:$SOCK")
assert_eq "$(jq -r .error.code <<<"$out")" unauthorized "auth.login, wrong password"
assert_eq "$(proto '{"id":4,"op":"frontend.config"}' | jq -r .error.code)" not_allowed "frontend.config for root"
out=$(proto_as davit '{"id":5,"op":"frontend.config"}')
assert_eq "$(jq -r .result.listen <<<"$out")" "$LISTEN" "frontend.config for davit: listen"
assert_eq "$(jq -r .result.session_idle <<<"$out")" 3600 "frontend.config: session_idle"
assert_not_contains "$out" "$TOKEN" "the token in frontend.config"
assert_file_not_contains "$T/audit.jsonl" "$PASSWORD"
assert_file_not_contains "$T/audit.jsonl" "$WEBHOOK_SECRET"
pass "auth.login off the loop (hello first), audited without the password; frontend.config for the frontend's user only, without the token"
fi

if scenario frontend_root; then
# started as root, it drops to its user or refuses to run
rc=0
"$FE_BIN" --socket "$SOCK" --user no_such_davit_user >"$T/refuse.log" 2>&1 || rc=$?
assert_eq "$rc" 1 "frontend with an unknown user"
assert_file_contains "$T/refuse.log" "refusing to run as root"
rc=0
"$FE_BIN" --socket "$SOCK" --user root >"$T/refuse.log" 2>&1 || rc=$?
assert_eq "$rc" 1 "frontend asked to stay root"
assert_file_contains "$T/refuse.log" "refusing to run as root"
pass "the frontend refuses to run as root when it cannot drop"
fi

# ------------------------------------------------------------ the process --
if scenario process; then
status=$(cat "/proc/$FE_PID/status")
uids=$(sed -n 's/^Uid:[[:space:]]*//p' <<<"$status" | tr -s '[:space:]' ' ')
gids=$(sed -n 's/^Gid:[[:space:]]*//p' <<<"$status" | tr -s '[:space:]' ' ')
assert_eq "$uids" "$DAVIT_UID $DAVIT_UID $DAVIT_UID $DAVIT_UID " "frontend Uid (real, effective, saved, fs)"
DAVIT_GID=$(id -g davit)
assert_eq "$gids" "$DAVIT_GID $DAVIT_GID $DAVIT_GID $DAVIT_GID " "frontend Gid"
assert_eq "$(sed -n 's/^Groups:[[:space:]]*//p' <<<"$status" | tr -d '[:space:]')" "$DAVIT_GID" "frontend supplementary groups"
assert_eq "$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' <<<"$status")" 1 "NoNewPrivs"
assert_eq "$(awk '/^Max core file size/ { print $5 " " $6 }' "/proc/$FE_PID/limits")" "0 0" "no core dumps"
environ=$(tr '\0' '\n' <"/proc/$FE_PID/environ")
assert_not_contains "$environ" "$TOKEN" "the token in the frontend's environment"
assert_not_contains "$environ" "$WEBHOOK_SECRET" "the webhook secret in the frontend's environment"
assert_not_contains "$(tr '\0' ' ' <"/proc/$FE_PID/cmdline")" "$TOKEN" "the token in argv"
fds=$(ls -l "/proc/$FE_PID/fd" 2>/dev/null)
assert_not_contains "$fds" "$ENV" "an open .env in the frontend"
# what DAVIT_USER can do is what the frontend can do
assert_fails runuser -u davit -- cat "$ENV"
if [ -S /var/run/docker.sock ]; then
	assert_fails runuser -u davit -- curl -sf --max-time 5 --unix-socket /var/run/docker.sock http://docker/version
	# and the frontend really is not in the docker group
	if getent group docker >/dev/null; then
		assert_not_contains " $(sed -n 's/^Groups:[[:space:]]*//p' <<<"$status") " " $(getent group docker | cut -d: -f3) " "docker group"
	fi
fi
pass "frontend: uid/gid $DAVIT_UID/$DAVIT_GID, no other groups, NoNewPrivs 1, no token, cannot read .env or use Docker"
fi

# -------------------------------------------------------- without session --
if scenario no_session; then
req "$URL/healthz"; code=$CODE
assert_eq "$code" 200 "healthz"
assert_eq "$(body)" '{"backend":"up"}' "healthz body"
sec_headers api
for path in /api/state /api/session /api/events /api/jobs/1; do
	req "$URL$path"; code=$CODE
	assert_eq "$code" 401 "GET $path without a session"
	assert_eq "$(err_code)" unauthorized "$path error code"
	sec_headers api
done
req -X POST -H 'X-Davit-CSRF: x' "$URL/api/git/fetch"; code=$CODE
assert_eq "$code" 401 "POST without a session"
req -b "davit_session=$(printf '%064d' 0)" "$URL/api/state"; code=$CODE
assert_eq "$code" 401 "a made-up session id"
req "$URL/api/nope"; code=$CODE
assert_eq "$code" 404 "unknown API route"
sec_headers api
pass "401 without a session, on every API route; 404 on an unknown one"
fi

# ------------------------------------------------------------------ login --
if scenario login; then
audit_logins() { grep -c '"kind":"auth.login"' "$T/audit.jsonl" || true; }
req -c "$JAR" -X POST -H 'Content-Type: application/json' \
	--data-binary '{"password":"not it"}' "$URL/api/login"; code=$CODE
assert_eq "$code" 401 "wrong password"
assert_eq "$(body)" '{"error":{"code":"unauthorized","message":"wrong password"}}' "a generic message"
assert_eq "$(hdr Set-Cookie)" "" "no cookie for a wrong password"
sec_headers api
assert_file_contains "$T/audit.jsonl" '"kind":"auth.login","client":"127.0.0.1"'
assert_file_contains "$T/audit.jsonl" '"ok":false,"reason":"wrong password"'

login; code=$CODE
assert_eq "$code" 200 "right password"
[[ $CSRF =~ ^[0-9a-f]{64}$ ]] || fail "CSRF token: '$CSRF'"
assert_eq "$(body | jq -r '.idle_timeout')" 3600 "idle_timeout"
[[ $(body | jq -r '.expires_at') =~ ^20[0-9]{2}-.*Z$ ]] || fail "expires_at: $(body)"
cookie=$(hdr Set-Cookie)
[[ $cookie =~ ^davit_session=[0-9a-f]{64}\;\ HttpOnly\;\ SameSite=Strict\;\ Path=/$ ]] ||
	fail "Set-Cookie: '$cookie'"
SID=${cookie#davit_session=}
SID=${SID%%;*}
sec_headers api
assert_file_contains "$T/audit.jsonl" '"ok":true'
assert_file_not_contains "$T/audit.jsonl" "$PASSWORD"
assert_file_not_contains "$T/backend.log" "$PASSWORD"
assert_file_not_contains "$T/frontend.log" "$PASSWORD"
pass "login: wrong password 401 (generic), right one 200 with a 256-bit HttpOnly SameSite=Strict cookie and a CSRF token; audited, password nowhere"

for ct in application/x-www-form-urlencoded "multipart/form-data; boundary=x" text/plain; do
	req -X POST -H "Content-Type: $ct" --data-binary 'password=x' "$URL/api/login"; code=$CODE
	assert_eq "$code" 415 "login as $ct"
	assert_eq "$(err_code)" unsupported_media_type "415 code"
done
req -X POST -H 'Content-Type: application/json' --data-binary '{"password":' "$URL/api/login"; code=$CODE
assert_eq "$code" 400 "login with broken JSON"
req -X POST -H 'Content-Type: application/json' --data-binary '{"password":""}' "$URL/api/login"; code=$CODE
assert_eq "$code" 400 "login with an empty password"
req -X POST -H 'Content-Type: application/json' -H 'Origin: http://evil.example' \
	--data-binary '{"password":"x"}' "$URL/api/login"; code=$CODE
assert_eq "$code" 403 "login from another origin"
req "$URL/api/login"; code=$CODE
assert_eq "$code" 405 "GET /api/login"
pass "login refuses form types (415), bad JSON (400), other origins (403)"
fi

# ---------------------------------------------------------- with a session --
if scenario session login; then
req -b "$JAR" "$URL/api/session"; code=$CODE
assert_eq "$code" 200 "session"
assert_eq "$(body | jq -r .csrf)" "$CSRF" "session's CSRF token"
req -b "$JAR" "$URL/api/state"; code=$CODE
assert_eq "$code" 200 "state"
sec_headers api
assert_eq "$(body | jq -r 'keys_unsorted | join(",")')" "project,git,services,jobs,deploys,backend" "state keys"
assert_eq "$(body | jq -c .project.services)" '["web","worker"]' "state.project.services"
assert_eq "$(body | jq -r .backend)" up "state.backend"
assert_eq "$(body | jq -r '.jobs | type')" array "state.jobs"
# /api/state is the backend's state.get (one request for all of it)
st=$(proto '{"id":9,"op":"state.get"}')
assert_eq "$(jq -r '.result | keys_unsorted | join(",")' <<<"$st")" "project,git,services,jobs,deploys" \
	"state.get's parts"
assert_eq "$(jq -c .result.project <<<"$st")" "$(body | jq -c .project)" "/api/state's project is state.get's"
# a second cookie of the same name that is not a session does not hide ours
req -H "Cookie: davit_session=$(printf '%064d' 1); davit_session=$SID" "$URL/api/state"; code=$CODE
assert_eq "$code" 200 "the valid one of two session cookies"
pass "session and state with a cookie"
fi

# ------------------------------------------------------ CSRF, Origin, types --
if scenario csrf login; then
req -b "$JAR" -X POST "$URL/api/git/fetch"; code=$CODE
assert_eq "$code" 403 "POST without CSRF header"
assert_eq "$(err_code)" forbidden "403 code"
sec_headers api
req -b "$JAR" -X POST -H "X-Davit-CSRF: $(printf '%064d' 0)" "$URL/api/git/fetch"; code=$CODE
assert_eq "$code" 403 "POST with a wrong CSRF token"
post /api/git/fetch -H 'Origin: http://evil.example'; code=$CODE
assert_eq "$code" 403 "POST from another origin"
post /api/git/fetch -H "Origin: http://127.0.0.1:1"; code=$CODE
assert_eq "$code" 403 "POST from another port"
post /api/git/fetch -H 'Origin: null'; code=$CODE
assert_eq "$code" 403 "POST from Origin null"
for ct in application/x-www-form-urlencoded "multipart/form-data; boundary=x" "text/plain;charset=UTF-8"; do
	post /api/git/fetch -H "Content-Type: $ct" --data-binary 'a=b'; code=$CODE
	assert_eq "$code" 415 "POST as $ct"
	sec_headers api
done
post /api/git/fetch -H 'Content-Type: application/xml' --data-binary '<a/>'; code=$CODE
assert_eq "$code" 415 "POST as application/xml"
post /api/git/fetch --data-binary '{}' -H 'Content-Type:'; code=$CODE
assert_eq "$code" 415 "POST with a body and no type"
post /api/git/fetch -H 'Content-Type: application/json' --data-binary '{"x":'; code=$CODE
assert_eq "$code" 400 "POST with broken JSON"
pass "POST: CSRF header missing or wrong 403, foreign Origin 403, form and other types 415"
fi

# --------------------------------------------------------- actions and SSE --
if scenario actions login; then
start_bg sse curl -sN --max-time 60 -b "$JAR" "$URL/api/events"
SSE_PID=$BG_PID
wait_for -t 10 grep -q '^event: backend' "$T/sse.log" || fail "no backend event on the stream: $(cat "$T/sse.log")"
assert_file_contains "$T/sse.log" 'data: {"up":true}'

post /api/git/fetch -H "Origin: http://$HOSTPORT" -H 'Content-Type: application/json' --data-binary '{}'; code=$CODE
if [ "$code" = 503 ] && [[ $(body) == *"not available in this build"* ]]; then
	info "SKIP: git.fetch is not built in: no 202 to check"
else
	assert_eq "$code" 202 "POST /api/git/fetch"
	sec_headers api
	JOB=$(body | jq -r .job)
	[[ $JOB =~ ^[0-9]+$ ]] || fail "202 body: $(body)"
	assert_eq "$(body)" "{\"job\":$JOB}" "202 body"
	req -b "$JAR" "$URL/api/jobs/$JOB"; code=$CODE
	assert_eq "$code" 200 "GET /api/jobs/$JOB"
	assert_eq "$(body | jq -r .id)" "$JOB" "job id"
	assert_eq "$(body | jq -r .op)" git.fetch "job op"
	assert_eq "$(body | jq -r .by)" dashboard "job by"
	wait_for -t 20 grep -q '^event: job.state' "$T/sse.log" || fail "no job.state on the event stream"
	assert_file_contains "$T/sse.log" "\"id\":$JOB"
	# the state follows without waiting for its cache to age
	wait_for -t 20 sh -c "curl -s -b '$JAR' '$URL/api/state' | jq -e '.jobs | map(.id) | index($JOB) != null'" ||
		fail "job $JOB not in /api/state"
	pass "POST /api/git/fetch: 202 {\"job\":$JOB}, GET /api/jobs/$JOB, job.state on the event stream, in /api/state"
fi
post /api/services/web/restart; code=$CODE
if [ "$code" = 503 ] && [[ $(body) == *"not available in this build"* ]]; then
	info "SKIP: service actions are not built in"
else
	assert_eq "$code" 202 "POST /api/services/web/restart"
	post /api/services/nope/restart; code=$CODE
	assert_eq "$code" 404 "a service not in DAVIT_SERVICES"
fi
post "/api/services/we%20b/restart"; code=$CODE
assert_eq "$code" 400 "a service name with a space"
post /api/services/web/explode; code=$CODE
assert_eq "$code" 404 "an unknown service action"
post /api/stack/explode; code=$CODE
assert_eq "$code" 404 "an unknown stack action"
req -b "$JAR" "$URL/api/jobs/abc"; code=$CODE
assert_eq "$code" 404 "a job id that is not a number"
req -b "$JAR" "$URL/api/jobs/99999999999999999999"; code=$CODE
assert_eq "$code" 404 "a job id out of range"
req -b "$JAR" "$URL/api/jobs/424242"; code=$CODE
assert_eq "$code" 404 "a job that does not exist"
req -b "$JAR" -X POST -H "X-Davit-CSRF: $CSRF" "$URL/api/state"; code=$CODE
assert_eq "$code" 405 "POST /api/state"
pass "actions: bad names 400, unknown actions and jobs 404, wrong method 405"

# the stream's own headers
req -b "$JAR" --max-time 2 "$URL/api/events"; code=$CODE
assert_eq "$code" 200 "event stream status"
assert_eq "$(hdr Content-Type)" text/event-stream "event stream type"
sec_headers api
fi

# ------------------------------------------------------------ static files --
if scenario static; then
req "$URL/"; code=$CODE
assert_eq "$code" 200 "GET /"
assert_eq "$(body)" "$(cat "$T/www/index.html")" "index.html"
assert_eq "$(hdr Content-Type)" "text/html; charset=utf-8" "index type"
sec_headers
req "$URL/app.js"; code=$CODE
assert_eq "$code" 200 "GET /app.js"
assert_eq "$(hdr Content-Type)" "text/javascript; charset=utf-8" "app.js type"
req "$URL/sub/site.css"; code=$CODE
assert_eq "$code" 200 "GET /sub/site.css"
assert_eq "$(hdr Content-Type)" "text/css; charset=utf-8" "css type"
req -I "$URL/app.js"; code=$CODE
assert_eq "$code" 200 "HEAD /app.js"
assert_eq "$(hdr Content-Length)" "$(stat -c %s "$T/www/app.js")" "HEAD Content-Length"
# and the connection stays usable after it (no stray body)
assert_eq "$(curl -s -I "$URL/app.js" --next "$URL/healthz" | tail -n 1)" '{"backend":"up"}' "GET after HEAD on one connection"
for path in /../secret.txt /..%2fsecret.txt /%2e%2e/secret.txt /%2E%2E%2Fsecret.txt \
	/sub/../../secret.txt /sub/%2e%2e/%2e%2e/secret.txt /%252e%252e/secret.txt \
	/evil /up/secret.txt /up/www/index.html /etc/passwd '/..\secret.txt' '/%5c..%5csecret.txt' \
	/.hidden /%2ehidden /index.html%00.js //etc/passwd /sub/ /sub /nope.html; do
	req "$URL$path"; code=$CODE
	case $code in
	400 | 404) ;;
	*) fail "GET $path: $code (expected 404 or 400): $(body | head -c 200)" ;;
	esac
	assert_not_contains "$(body)" "$OUTSIDE" "a file outside www via $path"
	assert_not_contains "$(body)" "root:x:0" "/etc/passwd via $path"
	assert_not_contains "$(body)" HIDDEN- "a hidden file via $path"
	sec_headers
done
req -X POST "$URL/index.html"; code=$CODE
assert_eq "$code" 405 "POST to a static file"
pass "static files with their types; traversal, encoded traversal, symlinks out, hidden files, NUL, backslashes: 404/400"
fi

# ------------------------------------------------------------------ limits --
if scenario limits login; then
big=$(head -c 20000 /dev/zero | tr '\0' a)
req -H "X-Big: $big" "$URL/healthz"; code=$CODE
case $code in 400 | 413 | 431) ;; *) fail "20 kB of headers: $code" ;; esac
req -b "$JAR" -H "X-Big: $big" "$URL/api/state"; code=$CODE
case $code in 400 | 413 | 431) ;; *) fail "20 kB of headers on /api/state: $code" ;; esac
head -c 100000 /dev/zero | tr '\0' ' ' >"$T/bigbody"
req -X POST -H 'Content-Type: application/json' --data-binary @"$T/bigbody" "$URL/api/login"; code=$CODE
assert_eq "$code" 413 "100 kB login body"
post /api/git/fetch -H 'Content-Type: application/json' --data-binary @"$T/bigbody"; code=$CODE
assert_eq "$code" 413 "100 kB action body"
backend_up || fail "frontend unwell after oversized requests"

# a client that sends half a request and waits is cut off
exec {slow}<>"/dev/tcp/127.0.0.1/${LISTEN##*:}"
printf 'GET /healthz HTTP/1.1\r\nHost: %s\r\n' "$HOSTPORT" >&"$slow"
t0=$SECONDS
rc=0
timeout 40 cat <&"$slow" >"$T/slow.out" || rc=$?
elapsed=$((SECONDS - t0))
exec {slow}>&-
[ "$rc" -eq 0 ] || fail "a slow client was not cut off within 40 s (timeout's status $rc)"
[ "$elapsed" -ge 5 ] || fail "the slow client was cut off after ${elapsed}s, before the timeout"
assert_eq "$(cat "$T/slow.out")" "" "no reply to half a request"
backend_up || fail "frontend unwell after a slow client"
pass "oversized headers and bodies 4xx, a slow client cut off after ${elapsed}s"

# many connections, one after another: none is lost from the count
for i in $(seq 1 300); do
	curl -s -o /dev/null --max-time 5 "$URL/healthz" || fail "connection $i refused"
done
backend_up || fail "frontend does not accept connections after 300"
pass "300 connections come and go; still accepting"
fi

# --------------------------------------------------------------- throttle --
if scenario throttle; then
# from another loopback address: 127.0.0.1 must stay able to log in
before=$(audit_logins)
for i in 1 2 3 4 5; do
	req --interface 127.0.0.2 -X POST -H 'Content-Type: application/json' \
		--data-binary '{"password":"guess"}' "$URL/api/login"; code=$CODE
	assert_eq "$code" 401 "bad login $i"
done
req --interface 127.0.0.2 -X POST -H 'Content-Type: application/json' \
	--data-binary "$(jq -cn --arg p "$PASSWORD" '{password:$p}')" "$URL/api/login"; code=$CODE
assert_eq "$code" 429 "sixth login in a minute, even with the right password"
assert_eq "$(err_code)" throttled "429 code"
retry=$(hdr Retry-After)
if ! [[ $retry =~ ^[0-9]+$ ]] || [ "$retry" -lt 1 ] || [ "$retry" -gt 60 ]; then
	fail "Retry-After: '$retry'"
fi
sec_headers api
assert_eq "$(audit_logins)" $((before + 5)) "throttled attempts never reach the backend"
login; code=$CODE
assert_eq "$code" 200 "another address still logs in"
pass "5 failed logins from 127.0.0.2, then 429 with Retry-After: $retry (not sent to the backend)"
fi

# --------------------------------------------------------- no token leaks --
if scenario no_leaks; then
for f in "$T"/r/*; do
	assert_file_not_contains "$f" "$TOKEN"
	assert_file_not_contains "$f" "$WEBHOOK_SECRET"
done
assert_file_not_contains "$T/sse.log" "$TOKEN"
assert_file_not_contains "$T/frontend.log" "$TOKEN"
assert_file_not_contains "$T/frontend.log" "$WEBHOOK_SECRET"
pass "no token or webhook secret in $N replies, the event stream or the frontend's log"
fi

# ----------------------------------------------------- backend killed: 503 --
if scenario backend_killed actions; then
req -b "$JAR" "$URL/api/state"; code=$CODE
assert_eq "$code" 200 "state before the kill"
kill -KILL "$DAVIT_BACKEND_PID"
wait "$DAVIT_BACKEND_PID" 2>/dev/null || true
wait_for -t 15 backend_down || fail "healthz does not say the backend is down"
req -b "$JAR" "$URL/api/state"; code=$CODE
assert_eq "$code" 503 "state without a backend"
assert_eq "$(err_code)" unavailable "503 code"
assert_contains "$(body | jq -r .error.message)" "backend" "503 message names the backend"
sec_headers api
post /api/git/fetch; code=$CODE
assert_eq "$code" 503 "an action without a backend"
req -X POST -H 'Content-Type: application/json' --data-binary '{"password":"x"}' "$URL/api/login"; code=$CODE
assert_eq "$code" 503 "login without a backend"
wait_for -t 5 grep -q 'data: {"up":false}' "$T/sse.log" || fail "the event stream was not told"
kill -0 "$FE_PID" || fail "the frontend died with the backend"
pass "backend SIGKILLed: healthz down, API 503 with a clear message, the stream told, the frontend stays"

# the backend comes back (with Secure cookies now): the frontend reconnects by itself
write_env_file "DAVIT_COOKIE_SECURE=1"
mv "$T/backend.log" "$T/backend-1.log"
_SAN_LOGS+=("$T/backend-1.log")
davit_start_backend "$ENV" --no-frontend
wait_for -t 30 backend_up || fail "the frontend did not reconnect: $(tail -n 20 "$T/frontend.log")"
req -b "$JAR" "$URL/api/state"; code=$CODE
assert_eq "$code" 200 "state after the backend came back, same session"
assert_eq "$(body | jq -r .backend)" up "state.backend after recovery"
sse_says_up() { [ "$(grep -A1 '^event: backend' "$T/sse.log" | grep '^data:' | tail -n 1)" = 'data: {"up":true}' ]; }
wait_for -t 5 sse_says_up || fail "the event stream was not told the backend is back"
assert_eq "$(cat "/proc/$FE_PID/comm" 2>/dev/null)" davit-frontend "the same frontend process"
login; code=$CODE
assert_eq "$code" 200 "login after recovery"
cookie=$(hdr Set-Cookie)
[[ $cookie == *"; HttpOnly; SameSite=Strict; Path=/; Secure" ]] || fail "Secure cookie: '$cookie'"
pass "backend restarted: the frontend reconnected on its own, sessions kept, DAVIT_COOKIE_SECURE=1 applied"
fi

# ------------------------------------------------------------------ logout --
if scenario logout login; then
post /api/logout; code=$CODE
assert_eq "$code" 200 "logout"
assert_eq "$(body)" '{}' "logout body"
cookie=$(hdr Set-Cookie)
[[ $cookie == davit_session=\;* && $cookie == *"Max-Age=0"* ]] || fail "logout cookie: '$cookie'"
req -b "$JAR" "$URL/api/state"; code=$CODE
assert_eq "$code" 401 "state after logout"
post /api/logout; code=$CODE
assert_eq "$code" 401 "logout twice"
# the stream of the first session ended with it (at logout, or its next ping)
req -c "$T/jar2" -X POST -H 'Content-Type: application/json' \
	--data-binary "$(jq -cn --arg p "$PASSWORD" '{password:$p}')" "$URL/api/login"; code=$CODE
assert_eq "$code" 200 "login for a stream"
CSRF2=$(body | jq -r .csrf)
start_bg sse2 curl -sN --max-time 60 -b "$T/jar2" "$URL/api/events"
SSE2_PID=$BG_PID
wait_for -t 10 grep -q '^event: backend' "$T/sse2.log" || fail "second stream did not start"
req -b "$T/jar2" -X POST -H "X-Davit-CSRF: $CSRF2" "$URL/api/logout"; code=$CODE
assert_eq "$code" 200 "logout of the streaming session"
wait_for -t 10 sh -c "! kill -0 $SSE2_PID 2>/dev/null" || fail "the event stream outlived its session"
pass "logout: cookie cleared, session gone (401), its event stream ended"
fi

stop_pid "$FE_PID"
assert_eq "$STOP_STATUS" 0 "frontend exit status on SIGTERM"
kill "${SSE_PID:-}" 2>/dev/null || true
davit_stop_backend
assert_eq "$DAVIT_BACKEND_STATUS" 0 "backend exit status"

# ------------------------------------------------------------- supervised --
if scenario supervised; then
write_env_file
mv "$T/backend.log" "$T/backend-2.log"
_SAN_LOGS+=("$T/backend-2.log")
davit_start_backend "$ENV"
wait_for -t 30 backend_up || fail "supervised frontend not up: $(tail -n 20 "$T/backend.log")"
child_pid() { pgrep -P "$DAVIT_BACKEND_PID" -x davit-frontend | head -n 1; }
FE1=$(child_pid)
[ -n "$FE1" ] || fail "no davit-frontend child of the backend"
assert_eq "$(sed -n 's/^Uid:[[:space:]]*//p' "/proc/$FE1/status" | tr -s '[:space:]' ' ')" \
	"$DAVIT_UID $DAVIT_UID $DAVIT_UID $DAVIT_UID " "supervised frontend's Uid"
assert_not_contains "$(tr '\0' '\n' <"/proc/$FE1/environ")" "$TOKEN" "the token in the supervised frontend's environment"
kill -KILL "$FE1"
new_child() { local p; p=$(child_pid); [ -n "$p" ] && [ "$p" != "$FE1" ]; }
wait_for -t 30 new_child || fail "the backend did not restart the frontend: $(tail -n 20 "$T/backend.log")"
wait_for -t 30 backend_up || fail "the restarted frontend does not answer"
assert_file_contains "$T/backend.log" "restarting davit-frontend"
login; code=$CODE
assert_eq "$code" 200 "login through the restarted frontend"
FE2=$(child_pid)
davit_stop_backend
assert_eq "$DAVIT_BACKEND_STATUS" 0 "supervising backend exit status"
if kill -0 "$FE2" 2>/dev/null; then
	fail "the frontend outlived its supervising backend"
fi
pass "supervised: the frontend killed (pid $FE1) is restarted (pid $FE2) and stopped with the backend"
fi
