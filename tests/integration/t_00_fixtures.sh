#!/usr/bin/env bash
# Tests the integration harness itself (no davit binary needed): the demo
# compose app builds, runs, updates and goes away cleanly under compose v1 or
# v2; the smart-HTTP git server takes the right token and refuses a wrong one;
# the cut server cuts; push_commit moves origin; the socket helpers work.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

# ------------------------------------------------------------ git fixtures --
PORT=$(unused_port)
export PORT
PROJ=$(unique_project dvt00)
APP=$T/app
info "compose: $(compose_cmd), project $PROJ, web port $PORT"

ensure_docker
demo_app "$APP" "$PROJ"

assert_eq "$(git -C "$APP" rev-parse --abbrev-ref HEAD)" main "checkout branch"
assert_eq "$(git -C "$APP" rev-parse --abbrev-ref '@{upstream}')" origin/main "upstream"
assert_eq "$(git -C "$APP" remote get-url origin)" "$APP.origin.git" "origin url"
assert_eq "$(git --git-dir="$APP.origin.git" rev-parse --is-bare-repository)" true "origin is bare"
assert_eq "$(git -C "$APP" rev-parse HEAD)" "$(git --git-dir="$APP.origin.git" rev-parse main)" "checkout = origin"
assert_eq "$(cat "$APP/VERSION")" v1 "initial VERSION"
assert_eq "$(git -C "$APP" status --porcelain)" "" "clean checkout"
pass "make_demo_app: checkout of a bare origin, upstream set, clean"

old=$(git -C "$APP" rev-parse HEAD)
new=$(push_commit "$APP.origin.git" "Bump to v2" VERSION v2)
assert_ne "$new" "$old" "push_commit made a commit"
assert_eq "$(git --git-dir="$APP.origin.git" rev-parse main)" "$new" "origin moved"
assert_eq "$(git -C "$APP" rev-parse HEAD)" "$old" "checkout did not move"
git -C "$APP" fetch -q origin
assert_eq "$(git -C "$APP" rev-list --count HEAD..origin/main)" 1 "checkout is one behind"
empty=$(push_commit "$APP.origin.git" "Empty commit")
assert_eq "$(git --git-dir="$APP.origin.git" rev-parse main^)" "$new" "empty commit on top"
assert_eq "$(git --git-dir="$APP.origin.git" show main:VERSION)" v2 "VERSION in origin"
pass "push_commit: origin moves ahead ($old -> $new -> $empty)"

# --------------------------------------------------------- compose fixture --
info "compose up (build)"
(cd "$APP" && compose -p "$PROJ" up -d --build) >"$T/compose-up.log" 2>&1 ||
	fail "compose up failed: $(tail -n 30 "$T/compose-up.log")"
wait_for -t 30 curl -fsS "http://127.0.0.1:$PORT/" || fail "web does not answer on $PORT"
assert_eq "$(curl -fsS "http://127.0.0.1:$PORT/")" v1 "web serves VERSION"
web=$(cd "$APP" && compose -p "$PROJ" ps -q web)
worker=$(cd "$APP" && compose -p "$PROJ" ps -q worker)
[ -n "$web" ] || fail "compose ps: no web container"
[ -n "$worker" ] || fail "compose ps: no worker container"
healthy() { [ "$(docker inspect -f '{{.State.Health.Status}}' "$1")" = healthy ]; }
wait_for -t 40 healthy "$web" || fail "web not healthy: $(docker inspect -f '{{json .State.Health}}' "$web")"
assert_eq "$(docker inspect -f '{{.HostConfig.NetworkMode}}' "$web")" host "web network mode"
assert_eq "$(docker inspect -f '{{.HostConfig.NetworkMode}}' "$worker")" none "worker network mode"
assert_eq "$(docker inspect -f '{{.State.Running}}' "$worker")" true "worker running"
assert_eq "$(docker inspect -f '{{.Config.Image}}' "$web")" "$PROJ-web" "web image name"
pass "demo app: up --build, web answers v1 and is healthy, worker runs"

# What davit does on an update: fast-forward, rebuild, recreate.
git -C "$APP" merge -q --ff-only origin/main
(cd "$APP" && compose -p "$PROJ" up -d --build) >>"$T/compose-up.log" 2>&1 ||
	fail "compose up (update) failed: $(tail -n 30 "$T/compose-up.log")"
serves() { [ "$(curl -fsS "http://127.0.0.1:$PORT/")" = "$1" ]; }
wait_for -t 30 serves v2 ||
	fail "web does not serve v2 after the update"
web2=$(cd "$APP" && compose -p "$PROJ" ps -q web)
assert_ne "$web2" "$web" "web container recreated"
assert_eq "$(cd "$APP" && compose -p "$PROJ" ps -q worker)" "$worker" "worker container kept (image unchanged)"
pass "demo app: pull + up --build serves v2, only web recreated"

t0=$SECONDS
(cd "$APP" && compose -p "$PROJ" down --rmi all -v --remove-orphans) >"$T/compose-down.log" 2>&1 ||
	fail "compose down failed: $(tail -n 30 "$T/compose-down.log")"
assert_eq "$(docker ps -aq --filter "label=com.docker.compose.project=$PROJ")" "" "no containers left"
assert_fails docker image inspect "$PROJ-web"
assert_fails docker image inspect "$PROJ-worker"
old_images=$(docker images -q --filter "label=davit.demo.project=$PROJ")
[ -n "$old_images" ] || fail "the v1 web image (untagged by the rebuild) should still be there"
compose_cleanup "$PROJ" "$APP"
assert_eq "$(docker images -q --filter "label=davit.demo.project=$PROJ")" "" "compose_cleanup removes older builds"
assert_fails curl -fsS --max-time 2 "http://127.0.0.1:$PORT/"
[ $((SECONDS - t0)) -lt 30 ] || fail "compose down took $((SECONDS - t0))s: containers ignore SIGTERM?"
pass "demo app: down removes containers and images in $((SECONDS - t0))s"

# ---------------------------------------------------------- git over HTTP --
SRV=$T/srv
mkdir -p "$SRV"
git clone -q --bare "$APP.origin.git" "$SRV/repo.git"
TOKEN=tok-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
HPORT=$(unused_port)
start_git_http "$SRV" "$HPORT" "$TOKEN"
URL=http://127.0.0.1:$HPORT/repo.git

refs=$(git ls-remote "http://x-access-token:$TOKEN@127.0.0.1:$HPORT/repo.git")
assert_contains "$refs" "$empty	refs/heads/main" "ls-remote with the right token"
if out=$(git ls-remote "http://x-access-token:wrong-$TOKEN@127.0.0.1:$HPORT/repo.git" 2>&1); then
	fail "ls-remote with a wrong token succeeded: $out"
fi
assert_contains "$out" "Authentication failed" "wrong token: git fails to authenticate"
assert_eq "$(http_code "$URL/info/refs?service=git-upload-pack" -u "x-access-token:wrong")" 401 "wrong token: HTTP 401"
assert_eq "$(http_code "$URL/info/refs?service=git-upload-pack")" 401 "no token: HTTP 401"
assert_eq "$(http_code "$URL/info/refs?service=git-upload-pack" -u "x-access-token:$TOKEN")" 200 "right token: HTTP 200"
assert_eq "$(http_code "http://127.0.0.1:$HPORT/nope.git/info/refs?service=git-upload-pack" -u "x-access-token:$TOKEN")" 404 "unknown repo: 404"
pass "git http: right token lists refs, wrong or no token gets 401"

git clone -q "http://x-access-token:$TOKEN@127.0.0.1:$HPORT/repo.git" "$T/httpclone"
assert_eq "$(cat "$T/httpclone/VERSION")" v2 "clone over http"
v3=$(push_commit "$SRV/repo.git" "Bump to v3" VERSION v3)
git -C "$T/httpclone" pull -q --ff-only
assert_eq "$(git -C "$T/httpclone" rev-parse HEAD)" "$v3" "pull over http sees the pushed commit"
echo v4 >"$T/httpclone/VERSION"
git -C "$T/httpclone" commit -q -am "Bump to v4 over http"
git -C "$T/httpclone" push -q origin main
assert_eq "$(git --git-dir="$SRV/repo.git" rev-parse main)" "$(git -C "$T/httpclone" rev-parse HEAD)" "push over http"
pass "git http: clone, fetch and push work with the token"

# ------------------------------------------------------------- cut server --
CPORT=$(unused_port)
start_cut_server "$CPORT"
if out=$(timeout 20 git ls-remote "http://127.0.0.1:$CPORT/repo.git" 2>&1); then
	fail "ls-remote against the cut server succeeded: $out"
fi
[ -s "$T/cut-$CPORT.hits" ] || fail "cut server was not reached"
assert_contains "$(cat "$T/cut-$CPORT.hits")" "GET /repo.git/info/refs?service=git-upload-pack" "cut server request"
rc=0
curl -sS --max-time 10 -o /dev/null "http://127.0.0.1:$CPORT/x" 2>/dev/null || rc=$?
assert_eq "$rc" 18 "curl sees a partial transfer (exit 18)"
pass "cut server: git fails ($(printf '%s' "$out" | head -n 1)), curl gets a partial file"

# ---------------------------------------------------------- small helpers --
write_env "$T/a.env" "DAVIT_WORKDIR=$APP" "DAVIT_SERVICES=web,worker" 'DAVIT_PASSWORD="two words"'
assert_eq "$(stat -c %a "$T/a.env")" 600 "env file mode"
assert_eq "$(env_get "$T/a.env" DAVIT_SERVICES)" web,worker "env_get"
assert_eq "$(env_get "$T/a.env" DAVIT_PASSWORD)" "two words" "env_get unquotes"
write_davit_env "$T/b.env" "DAVIT_WORKDIR=$APP" "DAVIT_POLL_INTERVAL=30"
assert_eq "$(env_get "$T/b.env" DAVIT_SOCKET)" "$T/backend.sock" "default socket in T"
assert_eq "$(grep -c '^DAVIT_POLL_INTERVAL=' "$T/b.env")" 1 "override replaces the default"
assert_eq "$(env_get "$T/b.env" DAVIT_POLL_INTERVAL)" 30 "override value"
assert_not_contains "$(cat "$T/b.env")" "DAVIT_GITHUB_TOKEN" "no token unless given"
pass "write_env / write_davit_env / env_get"

# A stand-in backend (shell + socat echo server) to test the process and
# socket helpers without the real binary.
FAKE=$T/fakebuild
mkdir -p "$FAKE/backend"
cat >"$FAKE/backend/davit-backend" <<'EOF'
#!/usr/bin/env bash
[ "$1" = --config ] || exit 2
sock=$(sed -n 's/^DAVIT_SOCKET=//p' "$2")
echo "fake backend: config $2, socket $sock" >&2
socat "UNIX-LISTEN:$sock,fork,mode=0666" EXEC:cat &
child=$!
trap 'kill "$child"; wait "$child"; echo "fake backend: stopped" >&2; exit 0' TERM
wait "$child"
EOF
chmod 0755 "$FAKE/backend/davit-backend"
export DAVIT_BUILD=$FAKE
davit_start_backend "$T/b.env"
assert_eq "$SOCK" "$T/backend.sock" "SOCK from the env file"
assert_eq "$(proto '{"cmd":"ping"}')" '{"cmd":"ping"}' "proto round trip"
assert_eq "$(proto_as davit '{"cmd":"as-davit"}')" '{"cmd":"as-davit"}' "proto_as davit"
davit_stop_backend 10
assert_eq "$DAVIT_BACKEND_STATUS" 0 "backend exit status"
assert_file_contains "$T/backend.log" "fake backend: stopped"
assert_file_not_contains "$T/backend.log" "$TOKEN"
pass "davit_start_backend / proto / proto_as / davit_stop_backend"

wait_for -t 2 true
if wait_for -t 1 false 2>/dev/null; then fail "wait_for false succeeded"; fi
pass "wait_for"
