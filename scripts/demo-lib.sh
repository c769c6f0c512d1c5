# shellcheck shell=bash
#
# The demo compose app that davit keeps up to date, shared by scripts/run.sh
# (the "start davit" demo) and tests/integration/lib.sh (test fixtures), so
# there is one copy. Source it; it defines functions only and sets nothing.
#
#   compose_cmd                     prints "docker compose" (v2) or "docker-compose" (v1);
#                                   env COMPOSE_CMD overrides the choice
#   compose ARGS...                 runs compose (whichever is installed) with ARGS
#   make_demo_app DIR PROJECT       builds the app, its bare origin DIR.origin.git,
#                                   leaves DIR a checkout of origin (env: PORT),
#                                   owned by DEMO_APP_USER when run as root
#   demo_app_user                   makes sure DEMO_APP_USER exists
#   demo_give_app DIR...            chown -R DEMO_APP_USER: DIR... (root only)
#   push_commit ORIGIN MSG [FILE CONTENT]
#                                   commits in a scratch clone of ORIGIN and pushes
#   compose_cleanup PROJECT [DIR]   removes the project's containers and images
#                                   (also older builds, by the label davit.demo.project)
#   send_push_webhook URL ENVFILE   sends davit a signed GitHub push of origin's newest commit
#
# Every function returns non-zero with a message on stderr on error, so it
# works under `set -eu` and in `if`/`||` alike.

DEMO_BUSYBOX=${DEMO_BUSYBOX:-/bin/busybox}
DEMO_GIT_NAME=${DEMO_GIT_NAME:-davit demo}
DEMO_GIT_EMAIL=${DEMO_GIT_EMAIL:-demo@davit.invalid}
# davit runs git as the checkout's owner and never as root: the demo's and
# the tests' checkouts belong to this ordinary user (scripts/setup.sh makes
# it; not DAVIT_USER, not in the docker group).
DEMO_APP_USER=${DEMO_APP_USER:-davit-app}

_demo_err() {
	printf '%s\n' "$*" >&2
	return 1
}

# git with a fixed identity and no dependence on the caller's git config for
# the things that matter here (default branch, identity).
_demo_git() {
	git -c user.name="$DEMO_GIT_NAME" -c user.email="$DEMO_GIT_EMAIL" \
	    -c init.defaultBranch=main -c commit.gpgSign=false "$@"
}

compose_cmd() {
	if [ -n "${COMPOSE_CMD:-}" ]; then
		echo "$COMPOSE_CMD"
	elif docker compose version >/dev/null 2>&1; then
		echo "docker compose"
	elif command -v docker-compose >/dev/null 2>&1; then
		echo "docker-compose"
	else
		_demo_err "compose_cmd: neither 'docker compose' (v2) nor 'docker-compose' (v1) is installed"
	fi
}

compose() {
	local c
	c=$(compose_cmd) || return 1
	# shellcheck disable=SC2086 # "docker compose" is two words on purpose
	$c "$@"
}

# demo_app_user: creates DEMO_APP_USER (a system user with its own group, no
# home, no login) unless it exists.
demo_app_user() {
	local nologin=/usr/sbin/nologin
	getent passwd "$DEMO_APP_USER" >/dev/null && return 0
	[ "$(id -u)" -eq 0 ] ||
		_demo_err "demo_app_user: user $DEMO_APP_USER is missing (run scripts/setup.sh as root)" || return 1
	[ -x "$nologin" ] || nologin=/bin/false
	useradd --system --no-create-home --home-dir /nonexistent \
		--shell "$nologin" --user-group "$DEMO_APP_USER" ||
		_demo_err "demo_app_user: could not create the user $DEMO_APP_USER" || return 1
}

# demo_give_app DIR...: gives checkouts to DEMO_APP_USER (as root; a no-op
# for other callers, whose checkouts are theirs already).
demo_give_app() {
	[ "$(id -u)" -eq 0 ] || return 0
	demo_app_user || return 1
	chown -R "$DEMO_APP_USER:" "$@" ||
		_demo_err "demo_give_app: chown -R $DEMO_APP_USER: $* failed" || return 1
}

# make_demo_app DIR PROJECT
#   DIR      directory to create (must not exist or be empty)
#   PROJECT  compose project name ([a-z0-9][a-z0-9_-]*); images are named
#            PROJECT-web and PROJECT-worker, and DIR/.env sets
#            COMPOSE_PROJECT_NAME=PROJECT so plain `compose up` in DIR agrees
#   env PORT TCP port on 127.0.0.1 that `web` serves on (default 8081)
#   env VERSION initial content of the VERSION file (default v1)
make_demo_app() {
	local dir=${1:-} project=${2:-} port=${PORT:-8081} version=${VERSION:-v1}
	local origin
	[ -n "$dir" ] && [ -n "$project" ] || _demo_err "usage: make_demo_app DIR PROJECT" || return 1
	[[ $project =~ ^[a-z0-9][a-z0-9_-]*$ ]] ||
		_demo_err "make_demo_app: project name '$project' must match [a-z0-9][a-z0-9_-]*" || return 1
	[[ $port =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] ||
		_demo_err "make_demo_app: PORT '$port' is not a TCP port" || return 1
	[ -x "$DEMO_BUSYBOX" ] ||
		_demo_err "make_demo_app: $DEMO_BUSYBOX missing (apt-get install busybox-static)" || return 1
	case $(LC_ALL=C ldd "$DEMO_BUSYBOX" 2>&1) in
	*"not a dynamic executable"*|*"statically linked"*) ;;
	*) _demo_err "make_demo_app: $DEMO_BUSYBOX is dynamically linked; a FROM scratch image needs busybox-static" || return 1 ;;
	esac
	dir=${dir%/}
	origin=$dir.origin.git
	if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
		_demo_err "make_demo_app: $dir exists and is not empty" || return 1
	fi
	[ ! -e "$origin" ] || _demo_err "make_demo_app: $origin already exists" || return 1

	mkdir -p "$dir/web" "$dir/worker" || return 1
	cp "$DEMO_BUSYBOX" "$dir/busybox" || return 1
	printf '%s\n' "$version" >"$dir/VERSION"
	printf 'COMPOSE_PROJECT_NAME=%s\n' "$project" >"$dir/.env"
	printf '.git\n' >"$dir/.dockerignore"

	cat >"$dir/web/Dockerfile" <<'EOF'
FROM scratch
LABEL davit.demo="1"
COPY busybox /bin/busybox
# The page that `web` serves is the VERSION file of the repo, baked in at build time.
COPY VERSION /www/index.html
# A shell as PID 1 that exits on SIGTERM, so `compose stop` is quick.
CMD ["/bin/busybox", "sh", "-c", "trap 'exit 0' TERM INT; /bin/busybox httpd -f -p 127.0.0.1:${PORT} -h /www & wait $!"]
EOF
	cat >"$dir/worker/Dockerfile" <<'EOF'
FROM scratch
LABEL davit.demo="1"
COPY busybox /bin/busybox
CMD ["/bin/busybox", "sh", "-c", "trap 'exit 0' TERM INT; while :; do /bin/busybox sleep 1 & wait $!; done"]
EOF
	cat >"$dir/docker-compose.yml" <<EOF
version: "2.4"
# Demo app for davit. No registry is needed: both images are built FROM scratch
# with a static busybox. web serves the repo's VERSION file on 127.0.0.1:$port.
services:
  web:
    build:
      context: .
      dockerfile: web/Dockerfile
      labels:
        davit.demo.project: "$project"
    image: $project-web
    network_mode: host
    environment:
      PORT: "$port"
    restart: unless-stopped
    stop_grace_period: 5s
    healthcheck:
      test: ["CMD", "/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:$port/"]
      interval: 2s
      timeout: 2s
      retries: 5
      start_period: 2s
  worker:
    build:
      context: .
      dockerfile: worker/Dockerfile
      labels:
        davit.demo.project: "$project"
    image: $project-worker
    network_mode: none
    restart: unless-stopped
    stop_grace_period: 5s
EOF

	_demo_git init -q -b main "$dir" || return 1
	_demo_git -C "$dir" add -A || return 1
	_demo_git -C "$dir" commit -q -m "Initial demo app ($version)" || return 1
	_demo_git init -q --bare -b main "$origin" || return 1
	_demo_git -C "$dir" remote add origin "$origin" || return 1
	_demo_git -C "$dir" push -q -u origin main 2>/dev/null ||
		_demo_err "make_demo_app: push to $origin failed" || return 1
	# the checkout is its owner's (davit runs git as that user); origin
	# stays the caller's, who pushes to it
	demo_give_app "$dir"
}

# push_commit ORIGIN MSG [FILE CONTENT]
#   Clones ORIGIN (a bare repo path or URL) into a scratch dir, writes CONTENT
#   (plus a newline) into FILE (relative to the repo root) or, without FILE,
#   makes an empty commit, commits with MSG and pushes to the default branch
#   (main, or $BRANCH). Prints the new commit id.
push_commit() {
	local origin=${1:-} msg=${2:-} file=${3:-} content=${4:-} branch=${BRANCH:-main}
	local tmp rc=0 sha
	[ -n "$origin" ] && [ -n "$msg" ] || _demo_err "usage: push_commit ORIGIN MSG [FILE CONTENT]" || return 1
	if [ $# -eq 3 ]; then
		_demo_err "push_commit: FILE given without CONTENT" || return 1
	fi
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/davit-push.XXXXXX") || return 1
	{
		_demo_git clone -q --branch "$branch" "$origin" "$tmp/w" &&
		if [ -n "$file" ]; then
			mkdir -p "$(dirname "$tmp/w/$file")" &&
			printf '%s\n' "$content" >"$tmp/w/$file" &&
			_demo_git -C "$tmp/w" add -- "$file" &&
			_demo_git -C "$tmp/w" commit -q -m "$msg"
		else
			_demo_git -C "$tmp/w" commit -q --allow-empty -m "$msg"
		fi &&
		_demo_git -C "$tmp/w" push -q origin "HEAD:refs/heads/$branch" &&
		sha=$(_demo_git -C "$tmp/w" rev-parse HEAD)
	} || rc=1
	rm -rf "$tmp"
	[ "$rc" -eq 0 ] || _demo_err "push_commit: could not commit and push to $origin" || return 1
	printf '%s\n' "$sha"
}

# compose_cleanup PROJECT [DIR]
#   Stops and removes everything of compose project PROJECT: containers,
#   volumes and the images it built (PROJECT-web, PROJECT-worker, and the
#   names compose v1/v2 give when no image: is set). Never fails.
compose_cleanup() {
	local project=${1:-} dir=${2:-} ids img
	[ -n "$project" ] || { _demo_err "usage: compose_cleanup PROJECT [DIR]"; return 0; }
	if [ -n "$dir" ] && [ -f "$dir/docker-compose.yml" ]; then
		(cd "$dir" && compose -p "$project" down --rmi all -v --remove-orphans -t 2) >/dev/null 2>&1 || true
	fi
	ids=$(docker ps -aq --filter "label=com.docker.compose.project=$project" 2>/dev/null) || true
	if [ -n "$ids" ]; then
		# shellcheck disable=SC2086 # one id per word
		docker rm -f -v $ids >/dev/null 2>&1 || true
	fi
	for img in "$project-web" "$project-worker" "${project}_web" "${project}_worker"; do
		if docker image inspect "$img" >/dev/null 2>&1; then
			docker rmi -f "$img" >/dev/null 2>&1 || true
		fi
	done
	# Earlier builds of the project (untagged by a rebuild) carry its label.
	ids=$(docker images -q --filter "label=davit.demo.project=$project" 2>/dev/null | sort -u) || true
	if [ -n "$ids" ]; then
		# shellcheck disable=SC2086 # one id per word
		docker rmi -f $ids >/dev/null 2>&1 || true
	fi
	return 0
}

# send_push_webhook URL ENVFILE
#   Sends davit (at URL, e.g. http://127.0.0.1:8080) what GitHub sends after a
#   push: a push event for the branch's newest commit on the origin, signed
#   with DAVIT_WEBHOOK_SECRET. Reads DAVIT_WEBHOOK_SECRET, DAVIT_REPO_URL
#   (an origin git can read without credentials, e.g. file://), DAVIT_BRANCH
#   and DAVIT_GITHUB_REPO from ENVFILE (KEY=VALUE lines, quotes and `export `
#   allowed). Prints davit's reply, then "HTTP <status>"; returns non-zero
#   unless the status is 2xx. The same commit sent twice is the same body, so
#   davit ignores the second as a replay. The secret goes into no argv: the
#   HMAC is computed here, with `openssl dgst` hashing stdin only.
send_push_webhook() {
	local url=${1:-} envfile=${2:-} line k v secret='' origin='' branch='' repo=''
	local after body khex ipad='' opad='' x b i inner sig out code
	[ -n "$url" ] && [ -n "$envfile" ] || _demo_err "usage: send_push_webhook URL ENVFILE" || return 1
	[ -r "$envfile" ] || _demo_err "send_push_webhook: cannot read $envfile" || return 1
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%$'\r'}
		line=${line#"${line%%[![:space:]]*}"}
		case $line in export[[:space:]]*) line=${line#export}; line=${line#"${line%%[![:space:]]*}"} ;; esac
		k=${line%%=*} v=${line#*=}
		case $v in
		\"*\" | \'*\') v=${v:1:${#v}-2} ;;
		*) v=${v%%[[:space:]]#*}; v=${v%"${v##*[![:space:]]}"} ;;
		esac
		case $k in
		DAVIT_WEBHOOK_SECRET) secret=$v ;;
		DAVIT_REPO_URL) origin=$v ;;
		DAVIT_BRANCH) branch=$v ;;
		DAVIT_GITHUB_REPO) repo=$v ;;
		esac
	done <"$envfile"
	branch=${branch:-main}
	[ -n "$secret" ] || _demo_err "send_push_webhook: no DAVIT_WEBHOOK_SECRET in $envfile" || return 1
	[ -n "$repo" ] || _demo_err "send_push_webhook: no DAVIT_GITHUB_REPO in $envfile" || return 1
	[ -n "$origin" ] || _demo_err "send_push_webhook: no DAVIT_REPO_URL in $envfile" || return 1
	after=$(git ls-remote "$origin" "refs/heads/$branch" | cut -f1) && [ -n "$after" ] ||
		_demo_err "send_push_webhook: cannot read branch $branch from $origin" || return 1
	body=$(printf '{"ref":"refs/heads/%s","after":"%s","deleted":false,"repository":{"full_name":"%s"},"commits":[]}' \
		"$branch" "$after" "$repo")

	# HMAC-SHA256 (RFC 2104) with a 64-byte block: the key, hashed first
	# if longer, padded with zeros, XORed with 0x36 (inner) and 0x5c (outer).
	khex=$(printf '%s' "$secret" | od -An -tx1 -v | tr -d ' \n')
	if [ "${#khex}" -gt 128 ]; then
		khex=$(printf '%s' "$secret" | openssl dgst -sha256 -r | cut -c1-64)
	fi
	while [ "${#khex}" -lt 128 ]; do khex+=00; done
	for ((i = 0; i < 128; i += 2)); do
		b=$((16#${khex:i:2}))
		printf -v x '\\x%02x' $((b ^ 0x36)); ipad+=$x
		printf -v x '\\x%02x' $((b ^ 0x5c)); opad+=$x
	done
	inner=$({ printf '%b' "$ipad"; printf '%s' "$body"; } | openssl dgst -sha256 -binary |
		od -An -tx1 -v | tr -d ' \n' | sed 's/../\\x&/g') && [ "${#inner}" -eq 128 ] ||
		_demo_err "send_push_webhook: openssl dgst failed" || return 1
	sig=$({ printf '%b' "$opad"; printf '%b' "$inner"; } | openssl dgst -sha256 -r | cut -c1-64) &&
		[ "${#sig}" -eq 64 ] || _demo_err "send_push_webhook: openssl dgst failed" || return 1

	out=$(curl -sS -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
		-H 'X-GitHub-Event: push' -H "X-GitHub-Delivery: demo-$(date +%s%N)" \
		-H "X-Hub-Signature-256: sha256=$sig" --data-binary "$body" "${url%/}/hooks/github") ||
		_demo_err "send_push_webhook: no answer from ${url%/}/hooks/github (is davit running?)" || return 1
	code=${out##*$'\n'}
	printf '%s\nHTTP %s\n' "${out%$'\n'*}" "$code"
	case $code in 2??) ;; *) _demo_err "send_push_webhook: davit answered HTTP $code" || return 1 ;; esac
}
