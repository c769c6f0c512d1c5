#!/usr/bin/env bash
# Stack operations and deploys act on DAVIT_SERVICES only: the demo app plus
# a service `db` that is not listed (FROM scratch busybox, network_mode:
# none; web depends on it).  stack.stop, stack.start, stack.restart,
# stack.rebuild and a deploy leave db's container running with the same id;
# the rebuild goes by name (build, stop, rm -f, up -d --no-deps of web and
# worker), never "down".  With db listed too, stack.rebuild uses down and up
# again (and so recreates db).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || fail "jq is needed"
ensure_docker

P=$(unique_project dvt22)
PORT=$(unused_port) demo_app "$T/app" "$P"
ORIGIN=$T/app.origin.git
# db: the worker's image under a service of its own, which web depends on
cat >>"$T/app/docker-compose.yml" <<EOF
  db:
    image: $P-worker
    network_mode: none
    restart: unless-stopped
    stop_grace_period: 5s
EOF
sed -i 's/^    network_mode: host$/    network_mode: host\n    depends_on: [db]/' "$T/app/docker-compose.yml"
grep -q 'depends_on: \[db\]' "$T/app/docker-compose.yml" || fail "web does not depend on db"
git -C "$T/app" commit -q -am "a database beside the app"
git -C "$T/app" push -q origin main
(cd "$T/app" && compose -p "$P" build && compose -p "$P" up -d) >"$T/compose-up.log" 2>&1 ||
	fail "compose up failed: $(tail -n 20 "$T/compose-up.log")"

# the checkout belongs to an ordinary user, as git never runs as root
app_owned "$T/app"

# db_id: the id of db's running container (empty if none runs)
db_id() {
	docker ps -q --no-trunc --filter "label=com.docker.compose.project=$P" \
		--filter label=com.docker.compose.service=db --filter status=running
}
DB=$(db_id)
[[ $DB =~ ^[0-9a-f]{64}$ ]] || fail "db does not run: '$DB'"

ENV=$T/davit.env
write_davit_env "$ENV" "DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web,worker" \
	"DAVIT_COMPOSE_PROJECT=$P" "DAVIT_REPO_URL=file://$ORIGIN" \
	"DAVIT_STOP_TIMEOUT=5" "DAVIT_JOB_TIMEOUT=300" "DAVIT_DEPLOY_VERIFY=60"
davit_start_backend "$ENV" --no-frontend

sv() { # sv SERVICE FIELD
	req services.list | jq -r --arg s "$1" ".result.services[] | select(.service == \$s) | .$2"
}
is() {
	[ "$(sv "$1" "$2")" = "$3" ]
}
reachable() {
	[ "$(req services.list | jq -r .result.engine.reachable)" = true ]
}
db_untouched() { # db_untouched WHAT
	assert_eq "$(db_id)" "$DB" "db runs in the same container after $1"
}
wait_for -t 20 reachable || fail "the engine never became reachable"
wait_for is web state running || fail "web does not run"

# ------------------------------------------------ stop, start, restart --
if scenario stop_start_restart; then
j=$(run_job stack.stop)
assert_eq "$(jq -r .state <<<"$j")" succeeded "stack.stop: $j"
wait_for is web state exited || fail "web not stopped"
wait_for is worker state exited || fail "worker not stopped"
db_untouched stack.stop
j=$(run_job stack.start)
assert_eq "$(jq -r .state <<<"$j")" succeeded "stack.start: $j"
wait_for is web state running || fail "web not started"
db_untouched stack.start
j=$(run_job stack.restart)
assert_eq "$(jq -r .state <<<"$j")" succeeded "stack.restart: $j"
db_untouched stack.restart
pass "stack.stop, stack.start, stack.restart leave db alone"
fi

# ------------------------------------------------------------- rebuild --
if scenario rebuild; then
web_before=$(sv web id)
j=$(run_job stack.rebuild)
assert_eq "$(jq -r .state <<<"$j")" succeeded "stack.rebuild: $j"
log=$(jq -r '.log[]' <<<"$j")
assert_contains "$log" "-p $P config --services"
assert_contains "$log" "service not in DAVIT_SERVICES (db)" "the log says why"
assert_contains "$log" "-p $P build --force-rm web worker"
assert_contains "$log" "-p $P stop web worker"
assert_contains "$log" "-p $P rm -f web worker"
assert_contains "$log" "-p $P up -d --no-deps web worker"
assert_not_contains "$log" "-p $P down" "never down"
wait_for is web state running || fail "web not running after the rebuild"
wait_for is worker state running || fail "worker not running after the rebuild"
assert_ne "$(sv web id)" "$web_before" "web was recreated"
db_untouched stack.rebuild
pass "stack.rebuild recreates web and worker by name, db keeps its container"
fi

# -------------------------------------------------------------- deploy --
if scenario deploy; then
web_before=$(sv web id)
push_commit "$ORIGIN" "Release v2" VERSION v2 >/dev/null
j=$(run_job deploy)
assert_eq "$(jq -r .state <<<"$j")" succeeded "deploy: $j"
log=$(jq -r '.log[]' <<<"$j")
assert_contains "$log" "-p $P up -d --no-deps web worker"
assert_not_contains "$log" "-p $P down" "never down"
assert_ne "$(sv web id)" "$web_before" "the deploy recreated web"
db_untouched deploy
pass "a deploy recreates web and worker, db keeps its container"
fi
davit_stop_backend
assert_eq "$DAVIT_BACKEND_STATUS" 0 "clean stop"

# ------------------------------------ every service listed: down and up --
if scenario all_listed; then
write_davit_env "$T/all.env" "DAVIT_WORKDIR=$T/app" "DAVIT_SERVICES=web,worker,db" \
	"DAVIT_COMPOSE_PROJECT=$P" "DAVIT_STOP_TIMEOUT=5" "DAVIT_JOB_TIMEOUT=300"
davit_start_backend "$T/all.env" --no-frontend
wait_for -t 20 reachable || fail "the engine never became reachable"
j=$(run_job stack.rebuild)
assert_eq "$(jq -r .state <<<"$j")" succeeded "stack.rebuild of all: $j"
log=$(jq -r '.log[]' <<<"$j")
assert_contains "$log" "covers every service of the project"
assert_contains "$log" "-p $P down"
assert_contains "$log" "-p $P up -d"
assert_not_contains "$log" "--no-deps" "not by name"
wait_for -t 30 sh -c "[ -n \"\$(docker ps -q --filter label=com.docker.compose.project=$P --filter label=com.docker.compose.service=db --filter status=running)\" ]" ||
	fail "db does not run after down and up"
assert_ne "$(db_id)" "$DB" "down and up recreated db, as listed"
davit_stop_backend
assert_eq "$DAVIT_BACKEND_STATUS" 0 "clean stop"
pass "DAVIT_SERVICES covering every service: down and up"
fi
