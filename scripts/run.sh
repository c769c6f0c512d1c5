#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Starts davit, as root, in the foreground (Ctrl-C stops it).
#
#   scripts/run.sh               a demo: a compose app under /var/lib/davit-demo
#                                whose "GitHub" is a local bare repo, config in
#                                /etc/davit/demo.env (new password on every run)
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
	sed -n '3,13s/^# \{0,1\}//p' "$0"
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

	if [ -d "$APP/.git" ] && [ -d "$APP.origin.git" ]; then
		PORT=$(cat "$DEMO/port" 2>/dev/null || echo 8081)
		echo "run.sh: reusing the demo app in $APP (web on 127.0.0.1:$PORT)"
	else
		PORT=${DAVIT_DEMO_PORT:-8081}
		echo "run.sh: creating the demo app in $APP (web on 127.0.0.1:$PORT)"
		rm -rf "$APP" "$APP.origin.git"
		mkdir -p "$DEMO"
		PORT=$PORT make_demo_app "$APP" "$PROJECT" || die "could not create the demo app"
		echo "$PORT" >"$DEMO/port"
	fi

	secret() {
		head -c 18 /dev/urandom | base64 | tr '+/' '-_'
	}
	password=$(secret)
	envfile=/etc/davit/demo.env
	mkdir -p /etc/davit
	tmp=$(mktemp /etc/davit/.demo.env.XXXXXX)
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
EOF
	mv -f "$tmp" "$envfile"

	echo "run.sh: starting the demo app (compose project $PROJECT)"
	(cd "$APP" && compose -p "$PROJECT" up -d --build) || die "could not start the demo app with $(compose_cmd)"

	cat <<EOF

  davit dashboard:  http://$LISTEN/
  password:         $password
  config:           $envfile
  demo app:         http://127.0.0.1:$PORT/ (serves the VERSION file of $APP)

  Push an update to the demo's "GitHub" (davit polls every 30 s):
    bash -c '. $ROOT/scripts/demo-lib.sh && push_commit $APP.origin.git "Bump to v2" VERSION v2'
  Then deploy it as a GitHub push webhook would (signed with the demo's secret):
    bash -c '. $ROOT/scripts/demo-lib.sh && send_push_webhook http://$LISTEN $envfile'
  Remove the demo:
    bash -c '. $ROOT/scripts/demo-lib.sh && compose_cleanup $PROJECT $APP' && rm -rf $DEMO /etc/davit/demo.env

EOF
fi

if [ "$dry" -eq 1 ]; then
	echo "run.sh: --dry-run: would run: $BIN --config $envfile"
	exit 0
fi
[ -x "$BIN" ] || die "$BIN was not built"
echo "run.sh: starting $BIN --config $envfile (Ctrl-C stops it)"
exec "$BIN" --config "$envfile"
