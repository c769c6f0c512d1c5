#!/usr/bin/env bash
# The token goes to origin only. Origin is a smart-HTTP server that wants the
# token; a listener on another port records every request it gets and asks
# for basic auth (as a thief would). A url.insteadOf in the checkout's
# .git/config pointing at the listener is ignored: the fetch goes to origin.
# An origin that redirects to the listener's port (same host) is not
# followed: the fetch fails with an error naming the host that was refused.
# The listener never sees an Authorization header (nor any request), and the
# token is in no log, reply or audit record.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/git_helpers.sh"

TOKEN=ghp_scope$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
REPLIES=$T/replies.txt
: >"$REPLIES"

# ---------------------------------------------------------------- fixtures --
mkdir "$T/srv"
git init -q --bare "$T/srv/app.git"
git clone -q "$T/srv/app.git" "$T/seed" 2>/dev/null
push_commit "$T/seed" README "hello" "first" >/dev/null
git clone -q "$T/srv/app.git" "$T/app"
app_owned "$T/app"
ORIGIN_PORT=$(unused_port)
start_git_http "$T/srv" "$ORIGIN_PORT" "$TOKEN"
URL=http://127.0.0.1:$ORIGIN_PORT/app.git

# listen PORT MODE: "record" logs each request (line and headers) to
# $T/listener-PORT.req and answers 401 asking for basic auth; "redirect"
# answers 302 to the same path on 127.0.0.1:$3.
cat >"$T/listen.py" <<'EOF'
import http.server, sys
port, mode, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
target = sys.argv[4] if len(sys.argv) > 4 else ""
class H(http.server.BaseHTTPRequestHandler):
    def handle_one(self):
        with open(log, "a") as f:
            f.write(self.requestline + "\n" + str(self.headers) + "\n")
        if mode == "redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:%s%s" % (target, self.path))
        else:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="thief"')
        self.send_header("Content-Length", "0")
        self.end_headers()
    do_GET = do_POST = handle_one
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
EOF
THIEF=$(unused_port)
: >"$T/thief.req"
start_bg thief python3 "$T/listen.py" "$THIEF" record "$T/thief.req"
wait_for -t 10 port_open "$THIEF" || fail "the recording listener does not listen"
# the listener really asks for credentials, and records them when given
[ "$(http_code "http://127.0.0.1:$THIEF/probe")" = 401 ] || fail "the listener does not answer 401"
curl -s -o /dev/null -u probe:probe "http://127.0.0.1:$THIEF/probe" || true
assert_file_contains "$T/thief.req" "Authorization: Basic" "the listener records Authorization headers"
: >"$T/thief.req"

start_davit() { # start_davit URL [KEY=VALUE...]
	local url=$1
	shift
	write_davit_env "$T/davit.env" "DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web" \
		"DAVIT_REPO_URL=$url" "DAVIT_GITHUB_TOKEN=$TOKEN" "$@"
	davit_start_backend "$T/davit.env" --no-frontend
}

# ------------------------------------------------------- url.insteadOf --
if scenario insteadof; then
# the checkout's owner (or whoever wrote its config) points origin elsewhere
git -C "$T/app" config "url.http://127.0.0.1:$THIEF/.insteadOf" "http://127.0.0.1:$ORIGIN_PORT/"
git -C "$T/app" config "url.http://127.0.0.1:$THIEF/.pushInsteadOf" "http://127.0.0.1:$ORIGIN_PORT/"
app_owned "$T/app"
start_davit "$URL"
c2=$(push_commit "$T/seed" src/a.txt "over http" "second")
j=$(keep "$(run_job git.fetch)")
assert_eq "$(jget "$j" .state)" succeeded "the fetch went to origin: $j"
assert_eq "$(git -C "$T/app" rev-parse origin/main)" "$c2" "origin/main fetched from origin"
s=$(keep "$(git_status)")
assert_eq "$(jget "$s" '.incoming[0].id')" "$c2" "incoming from origin"
assert_file_not_contains "$T/thief.req" "Authorization" "no Authorization at the insteadOf target"
assert_eq "$(wc -c <"$T/thief.req")" 0 "the insteadOf target got no request at all"
davit_stop_backend
git -C "$T/app" config --remove-section "url.http://127.0.0.1:$THIEF/"
pass "url.insteadOf and pushInsteadOf of the checkout are ignored: the fetch goes to origin"
fi

# ----------------------------------------------------- redirect elsewhere --
if scenario redirect; then
REDIR=$(unused_port)
: >"$T/redir.req"
start_bg redirector python3 "$T/listen.py" "$REDIR" redirect "$T/redir.req" "$THIEF"
wait_for -t 10 port_open "$REDIR" || fail "the redirector does not listen"
start_davit "http://127.0.0.1:$REDIR/app.git"
j=$(keep "$(run_job git.fetch)")
assert_eq "$(jget "$j" .state)" failed "a redirect to another port is not followed: $j"
assert_contains "$(jget "$j" .error)" "127.0.0.1:$THIEF" "the error names the host that was refused"
assert_contains "$(jget "$j" .error)" "only to origin" "the error says why"
assert_eq "$(log_count "$j" 'try [0-9] of 4 failed')" 1 "one try, not retried"
assert_file_contains "$T/redir.req" "GET /app.git/info/refs" "origin (the redirector) was asked"
assert_file_not_contains "$T/thief.req" "Authorization" "no Authorization at the redirect target"
assert_eq "$(wc -c <"$T/thief.req")" 0 "the redirect target got no request at all"
s=$(keep "$(git_status)")
assert_contains "$(jget "$s" .error)" "127.0.0.1:$THIEF" "git.status shows the refusal"
davit_stop_backend
pass "a redirect to another port of the same host: refused, with the host named"
fi

# ----------------------------------------------------------- leak check --
# (after every scenario selected)
assert_file_not_contains "$T/backend.log" "$TOKEN" "token in the backend log"
assert_file_not_contains "$T/audit.jsonl" "$TOKEN" "token in the audit log"
assert_file_not_contains "$REPLIES" "$TOKEN" "token in a reply"
assert_file_not_contains "$T/thief.req" "$(printf 'x-access-token:%s' "$TOKEN" | base64 -w0)" "token at the listener"
assert_file_not_contains "$T/app/.git/config" "$TOKEN" "token in .git/config"
pass "the token is in no log, reply or audit record, and never reached the listener"
