#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Starts davit, as root, in the foreground (Ctrl-C stops it).
#
#   scripts/run.sh               a demo: a compose app whose "GitHub" is a local
#                                bare repo, all under /var/lib/davit-demo (config
#                                davit.env, new password on every run; socket,
#                                state, audit log), so removing it leaves nothing
#   scripts/run.sh --env FILE    your own configuration instead of the demo
#   scripts/run.sh --dry-run     everything except building davit and starting it
#
# Env: DAVIT_LISTEN (127.0.0.1:8080), DAVIT_DEMO_DIR (/var/lib/davit-demo),
#      DAVIT_DEMO_PORT (8081, where the demo app's web service listens).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)

die() {
	printf 'run.sh: %s\n' "$*" >&2
	exit 1
}

usage() {
	sed -n '3,14s/^# \{0,1\}//p' "$0"
}

envfile=
dry=0
while [ $# -gt 0 ]; do
	case $1 in
	--env)
		[ $# -ge 2 ] || die "--env needs a FILE"
		envfile=$2
		shift
		;;
	--env=*) envfile=${1#--env=} ;;
	--dry-run) dry=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
	shift
done

[ "$(id -u)" -eq 0 ] || die "must run as root (davit-backend runs as root and drops privileges itself)"
if [ -n "$envfile" ]; then
	if [ ! -f "$envfile" ] || [ ! -r "$envfile" ]; then
		die "cannot read env file $envfile"
	fi
	envfile=$(cd "$(dirname "$envfile")" && pwd)/$(basename "$envfile")
fi

echo "run.sh: installing what davit needs (scripts/setup.sh)"
bash "$ROOT/scripts/setup.sh"

BIN=$ROOT/build/backend/davit-backend
if [ "$dry" -eq 0 ]; then
	echo "run.sh: building davit in $ROOT/build"
	if [ ! -f "$ROOT/build/meson-private/coredata.dat" ]; then
		rm -rf "$ROOT/build"
		meson setup "$ROOT/build" "$ROOT" || die "meson setup failed"
	fi
	meson compile -C "$ROOT/build" || die "build failed"
fi

bash "$ROOT/scripts/dockerd.sh"

if [ -z "$envfile" ]; then
	# shellcheck source=demo-lib.sh
	. "$ROOT/scripts/demo-lib.sh"
	DEMO=${DAVIT_DEMO_DIR:-/var/lib/davit-demo}
	APP=$DEMO/app
	PROJECT=davit-demo
	LISTEN=${DAVIT_LISTEN:-127.0.0.1:8080}
	case $DEMO in /*) ;; *) die "DAVIT_DEMO_DIR must be an absolute path" ;; esac
	case $DEMO in *[!A-Za-z0-9/._-]*) die "DAVIT_DEMO_DIR may hold only letters, digits and / . _ -" ;; esac

	if [ -d "$APP/.git" ] && [ -d "$APP.origin.git" ]; then
		PORT=$(cat "$DEMO/port" 2>/dev/null || echo 8081)
		echo "run.sh: reusing the demo app in $APP (web on 127.0.0.1:$PORT)"
		if [ -n "${DAVIT_DEMO_PORT:-}" ] && [ "$DAVIT_DEMO_PORT" != "$PORT" ]; then
			echo "run.sh: DAVIT_DEMO_PORT=$DAVIT_DEMO_PORT ignored: the demo app was made with $PORT (remove $DEMO to change it)"
		fi
	else
		PORT=${DAVIT_DEMO_PORT:-8081}
		echo "run.sh: creating the demo app in $APP (web on 127.0.0.1:$PORT)"
		rm -rf "$APP" "$APP.origin.git"
		mkdir -p "$DEMO"
		PORT=$PORT make_demo_app "$APP" "$PROJECT" || die "could not create the demo app"
		echo "$PORT" >"$DEMO/port"
	fi

	# davit runs git as the checkout's owner, never as root (also for a
	# demo app made by an older run.sh)
	demo_give_app "$APP" || die "could not give $APP to $DEMO_APP_USER"

	# davit-frontend (user davit) connects to the socket in $DEMO/run
	chmod go+x "$DEMO"
	runuser -u davit -- test -x "$DEMO" ||
		die "user davit cannot enter $DEMO (a parent directory is private): choose another DAVIT_DEMO_DIR"

	secret() {
		head -c 18 /dev/urandom | base64 | tr '+/' '-_'
	}
	password=$(secret)
	envfile=$DEMO/davit.env
	tmp=$(mktemp "$DEMO/.davit.env.XXXXXX")
	chmod 0600 "$tmp"
	cat >"$tmp" <<EOF
# davit demo configuration, written by scripts/run.sh (rewritten on every run).
DAVIT_WORKDIR=$APP
DAVIT_REPO_URL=file://$APP.origin.git
DAVIT_BRANCH=main
DAVIT_SERVICES=web,worker
DAVIT_COMPOSE_PROJECT=$PROJECT
DAVIT_PASSWORD=$password
DAVIT_WEBHOOK_SECRET=$(secret)
DAVIT_GITHUB_REPO=davit/demo
DAVIT_LISTEN=$LISTEN
DAVIT_POLL_INTERVAL=30
DAVIT_SOCKET=$DEMO/run/backend.sock
DAVIT_STATE_DIR=$DEMO/state
DAVIT_AUDIT_LOG=$DEMO/audit.jsonl
EOF
	mv -f "$tmp" "$envfile"

	echo "run.sh: starting the demo app (compose project $PROJECT)"
	(cd "$APP" && compose -p "$PROJECT" up -d --build) || die "could not start the demo app with $(compose_cmd)"

	# the printed commands, quoted for a shell whatever the paths hold
	q() { printf '%q' "$1"; }
	sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
	lib=". $(q "$ROOT/scripts/demo-lib.sh")"
	push="$lib && push_commit $(q "$APP.origin.git") \"Bump to v2\" VERSION v2"
	hook="$lib && send_push_webhook http://$LISTEN $(q "$envfile")"
	clean="$lib && compose_cleanup $PROJECT $(q "$APP") && rm -rf $(q "$DEMO")"
	cat <<EOF

  dashboard:  http://$LISTEN/  (password: $password)
  demo app:   http://127.0.0.1:$PORT/  (serves the VERSION file of $APP)
  config:     $envfile

  Try it from another terminal:
  1. Push a commit to the demo's "GitHub"; within 30 s the dashboard says "Update available":
       bash -c $(sq "$push")
  2. Deploy it: click Deploy, or send the signed webhook GitHub would send:
       bash -c $(sq "$hook")
     The demo app then serves v2. For another round, push v3 (the same commit twice is ignored).
  3. Stop davit with Ctrl-C (the demo app keeps running), then remove the demo:
       bash -c $(sq "$clean")

EOF
fi

if [ "$dry" -eq 1 ]; then
	echo "run.sh: --dry-run: would run: $BIN --config $envfile"
	exit 0
fi
[ -x "$BIN" ] || die "$BIN was not built"
echo "run.sh: starting $BIN --config $envfile (Ctrl-C stops it)"
exec "$BIN" --config "$envfile"
