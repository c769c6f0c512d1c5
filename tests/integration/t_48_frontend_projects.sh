#!/usr/bin/env bash
# davit-frontend with several projects (issue 13), against fake_backend.py,
# which records every request it gets: POST /hooks/github/NAME is checked
# with NAME's secret alone and forwards "project":"NAME"; a wrong name, a
# project without a secret, /hooks/github with several projects and a bad
# signature get one and the same 401; ?project=NAME is forwarded on the
# project-scoped routes, and a name of the wrong syntax is a 400 that never
# reaches the backend; GET /api/projects is projects.list; projects.changed
# makes the frontend ask frontend.config again and take the new secrets.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

frontend_needs

S_SHOP="shop secret $RANDOM$RANDOM"
S_BLOG="blog secret $RANDOM$RANDOM"
S_SHOP2="shop secret, rotated $RANDOM$RANDOM"
PROJECTS_FILE=$T/projects.json
export PROJECTS_FILE
write_projects() { # write_projects SHOP_SECRET
	jq -n --arg shop "$1" --arg blog "$S_BLOG" '{single: false, projects: [
		{name: "shop", webhook_secret: $shop},
		{name: "blog", webhook_secret: $blog},
		{name: "wiki", webhook_secret: null}]}' >"$PROJECTS_FILE.new"
	mv "$PROJECTS_FILE.new" "$PROJECTS_FILE"
}
write_projects "$S_SHOP"

PORT=$(unused_port)
URL=http://127.0.0.1:$PORT
mkdir -p "$T/run"
chmod 0755 "$T/run"
FAKE=$T/run/fake.sock
REQS=$FAKE.requests
start_bg fake python3 "$(dirname "$0")/fake_backend.py" "$FAKE" "127.0.0.1:$PORT"
wait_for -t 10 test -S "$FAKE" || fail "the fake backend did not start: $(cat "$T/fake.log")"
_SAN_LOGS+=("$T/frontend.log")
start_bg frontend "$FE_BIN" --socket "$FAKE" --user davit -v
wait_for -t 20 backend_up || fail "frontend not up: $(tail -n 20 "$T/frontend.log")"

curl -s -c "$T/jar" -X POST -H 'Content-Type: application/json' \
	--data-binary '{"password":"pw"}' "$URL/api/login" >"$T/login.json"
CSRF=$(jq -r .csrf "$T/login.json")
[ -n "$CSRF" ] && [ "$CSRF" != null ] || fail "login failed: $(cat "$T/login.json")"

# the requests of op OP the fake got, one JSON line each
sent() { jq -c --arg op "$1" 'select(.op == $op)' "$REQS"; }
nsent() { sent "$1" | wc -l; }

# hook PATH SECRET DELIVERY: a signed push; CODE and $T/hook.out
jq -cn '{ref: "refs/heads/main", before: ("1" * 40), after: ("2" * 40),
	repository: {full_name: "acme/shop"}, commits: [], head_commit: null}' |
	tr -d '\n' >"$T/push.json"
hook() {
	local sig
	sig=sha256=$(openssl dgst -sha256 -hmac "$2" -r <"$T/push.json" | cut -d' ' -f1)
	CODE=$(curl -s -o "$T/hook.out" -w '%{http_code}' --max-time 15 -X POST \
		-H 'Content-Type: application/json' -H 'X-GitHub-Event: push' \
		-H "X-GitHub-Delivery: $3" -H "X-Hub-Signature-256: $sig" \
		--data-binary @"$T/push.json" "$URL$1" || true)
}

# ------------------------------------------------------------- webhooks --
if scenario hooks; then
	hook /hooks/github/shop "$S_SHOP" d-shop-1
	assert_eq "$CODE" 202 "shop's secret on /hooks/github/shop: $(cat "$T/hook.out")"
	assert_eq "$(sent webhook.push | jq -r 'select(.args.delivery == "d-shop-1") | .args.project')" \
		shop "the push is forwarded with project shop"
	hook /hooks/github/blog "$S_BLOG" d-blog-1
	assert_eq "$CODE" 202 "blog's secret on /hooks/github/blog"
	assert_eq "$(sent webhook.push | jq -r 'select(.args.delivery == "d-blog-1") | .args.project')" \
		blog "the push is forwarded with project blog"
	pass "each project's secret opens its own URL and names its project"

	before=$(nsent webhook.push)
	hook /hooks/github/shop "$S_BLOG" d-x-1
	assert_eq "$CODE" 401 "blog's secret on shop's URL"
	cp "$T/hook.out" "$T/401.bad-signature"
	hook /hooks/github/nope "$S_SHOP" d-x-2
	assert_eq "$CODE" 401 "a name that is no project"
	cmp -s "$T/hook.out" "$T/401.bad-signature" ||
		fail "an unknown name's 401 differs from a bad signature's: $(cat "$T/hook.out")"
	hook /hooks/github/wiki "$S_SHOP" d-x-3
	assert_eq "$CODE" 401 "a project without a secret"
	cmp -s "$T/hook.out" "$T/401.bad-signature" || fail "wiki's 401 differs: $(cat "$T/hook.out")"
	# a success between: the throttle counts bad signatures of one address
	hook /hooks/github/blog "$S_BLOG" d-blog-2
	assert_eq "$CODE" 202 "blog again"
	hook /hooks/github "$S_SHOP" d-x-4
	assert_eq "$CODE" 401 "/hooks/github with several projects"
	cmp -s "$T/hook.out" "$T/401.bad-signature" || fail "/hooks/github's 401 differs: $(cat "$T/hook.out")"
	hook /hooks/github/Shop "$S_SHOP" d-x-5
	assert_eq "$CODE" 401 "a name of the wrong syntax"
	cmp -s "$T/hook.out" "$T/401.bad-signature" || fail "Shop's 401 differs: $(cat "$T/hook.out")"
	assert_eq "$(nsent webhook.push)" "$((before + 1))" "only blog's good push reached the backend"
	wait_for -t 10 grep -q '"op":"webhook.rejected"' "$REQS" ||
		fail "the rejection was not reported to the backend"
	assert_file_not_contains "$REQS" "$S_SHOP"
	assert_file_not_contains "$T/frontend.log" "$S_SHOP"
	hook /hooks/github/blog "$S_BLOG" d-blog-3
	assert_eq "$CODE" 202 "blog again"
	pass "wrong secret, unknown name, no secret, no name: the same 401, nothing forwarded"
fi

# ------------------------------------------------------------ ?project= --
if scenario query; then
	get() { # get PATH: CODE, body in $T/get.out
		CODE=$(curl -s -o "$T/get.out" -w '%{http_code}' --max-time 15 -b "$T/jar" "$URL$1")
	}
	post() {
		CODE=$(curl -s -o "$T/post.out" -w '%{http_code}' --max-time 15 -b "$T/jar" \
			-X POST -H "X-Davit-CSRF: $CSRF" "$URL$1")
	}
	get '/api/state?project=blog'
	assert_eq "$CODE" 200 "/api/state?project=blog: $(cat "$T/get.out")"
	assert_eq "$(sent state.get | jq -r .args.project | tail -n 1)" blog \
		"state.get carries project blog"
	get '/api/state?project=shop'
	assert_eq "$(sent state.get | jq -r .args.project | tail -n 1)" shop \
		"another project's state is a document of its own"
	post '/api/services/web/restart?project=shop'
	assert_eq "$(sent service.restart | jq -c '.args | {service, project}' | tail -n 1)" \
		'{"service":"web","project":"shop"}' "service.restart carries the project"
	post '/api/stack/rebuild?project=wiki'
	assert_eq "$(sent stack.rebuild | jq -r .args.project | tail -n 1)" wiki "stack.rebuild"
	post '/api/git/fetch?project=blog'
	assert_eq "$CODE" 202 "git.fetch"
	assert_eq "$(sent git.fetch | jq -r .args.project | tail -n 1)" blog "git.fetch"
	post '/api/deploy?project=blog'
	assert_eq "$(sent deploy | jq -r .args.project | tail -n 1)" blog "deploy"
	post '/api/deploy'
	assert_eq "$(sent deploy | jq -r '.args.project // "none"' | tail -n 1)" none \
		"without ?project= no project is sent: the backend decides"
	get '/api/projects'
	assert_eq "$CODE" 200 "/api/projects: $(cat "$T/get.out")"
	assert_eq "$(jq -r '[.projects[].name] | join(",")' "$T/get.out")" blog,shop,wiki \
		"/api/projects is projects.list"
	pass "?project= is forwarded on every project-scoped route"

	lines=$(wc -l <"$REQS")
	for q in 'project=Shop' 'project=-x' 'project=a_b' 'project=' 'project=%00a' \
		'project=abcdefghijklmnopqrstuvwxyz0123456' 'project=shop&project=blog'; do
		get "/api/state?$q"
		assert_eq "$CODE" 400 "/api/state?$q"
		assert_contains "$(cat "$T/get.out")" '"code":"bad_request"' "/api/state?$q"
		post "/api/services/web/stop?$q"
		assert_eq "$CODE" 400 "POST /api/services/web/stop?$q"
	done
	assert_eq "$(wc -l <"$REQS")" "$lines" "no bad name reached the backend"
	pass "a project name of the wrong syntax is a 400 of the frontend's"
fi

# ------------------------------------------------------- projects.changed --
if scenario changed hooks; then
	configs=$(nsent frontend.config)
	start_bg events curl -sN --max-time 60 -b "$T/jar" "$URL/api/events"
	wait_for -t 10 grep -q '"up":true' "$T/events.log" || fail "no event stream"
	write_projects "$S_SHOP2"
	hook /hooks/github/shop "$S_SHOP2" d-shop-2
	assert_eq "$CODE" 401 "the new secret before projects.changed"
	curl -s -o /dev/null --max-time 15 -b "$T/jar" "$URL/api/jobs/4404"
	wait_for -t 10 test "$(nsent frontend.config)" -gt "$configs" ||
		fail "projects.changed did not make the frontend ask frontend.config"
	wait_for -t 10 grep -q 'the projects changed: 3 now' "$T/frontend.log" ||
		fail "the new settings were not taken: $(tail -n 5 "$T/frontend.log")"
	wait_for -t 10 grep -q '^event: projects.changed' "$T/events.log" ||
		fail "projects.changed did not reach the browsers: $(cat "$T/events.log")"
	hook /hooks/github/shop "$S_SHOP2" d-shop-3
	assert_eq "$CODE" 202 "the new secret after projects.changed"
	assert_eq "$(sent webhook.push | jq -r 'select(.args.delivery == "d-shop-3") | .args.project')" \
		shop "forwarded with project shop"
	hook /hooks/github/shop "$S_SHOP" d-shop-4
	assert_eq "$CODE" 401 "the old secret is refused"
	hook /hooks/github/blog "$S_BLOG" d-blog-4
	assert_eq "$CODE" 202 "blog's secret still works"
	pass "projects.changed: the frontend takes the new secrets"
fi

check_sanitizer_logs
