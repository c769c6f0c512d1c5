#!/usr/bin/env bash
# Makes sure a Docker engine answers on /var/run/docker.sock. If none does,
# starts dockerd without bridge networking or iptables rules (every davit test
# service uses network_mode none or host), detached, logging to
# $DAVIT_DOCKERD_LOG (default /var/log/davit-dockerd.log), and waits for it
# up to $DAVIT_DOCKERD_TIMEOUT seconds (default 60). Idempotent.
set -eu

LOG=${DAVIT_DOCKERD_LOG:-/var/log/davit-dockerd.log}
TIMEOUT=${DAVIT_DOCKERD_TIMEOUT:-60}

die() {
	printf 'dockerd.sh: %s\n' "$*" >&2
	exit 1
}

answers() {
	docker info >/dev/null 2>&1
}

command -v docker >/dev/null 2>&1 || die "docker CLI not installed (run scripts/setup.sh)"

if answers; then
	echo "dockerd.sh: a Docker engine already answers ($(docker info --format '{{.ServerVersion}}' 2>/dev/null || echo '?'))"
	exit 0
fi

[ "$(id -u)" -eq 0 ] || die "no Docker engine answers, and starting one needs root"
command -v dockerd >/dev/null 2>&1 || die "dockerd not installed (apt-get install docker.io, or run scripts/setup.sh)"

if pgrep -x dockerd >/dev/null 2>&1; then
	# An engine is starting (or hung): wait for it rather than start a second.
	echo "dockerd.sh: dockerd is running (pid $(pgrep -x dockerd | tr '\n' ' ')) but does not answer yet; waiting"
else
	mkdir -p "$(dirname "$LOG")"
	printf '\n==== %s dockerd.sh starting dockerd\n' "$(date -Is)" >>"$LOG"
	# setsid: own session, so the engine outlives the caller and its Ctrl-C.
	setsid dockerd --bridge=none --iptables=false --ip6tables=false \
		</dev/null >>"$LOG" 2>&1 &
	echo "dockerd.sh: started dockerd (pid $!), log: $LOG"
fi

deadline=$((SECONDS + TIMEOUT))
until answers; do
	if [ "$SECONDS" -ge "$deadline" ]; then
		echo "dockerd.sh: last lines of $LOG:" >&2
		tail -n 30 "$LOG" >&2 2>/dev/null || true
		die "Docker engine did not answer within ${TIMEOUT}s (log: $LOG)"
	fi
	if ! pgrep -x dockerd >/dev/null 2>&1; then
		echo "dockerd.sh: last lines of $LOG:" >&2
		tail -n 30 "$LOG" >&2 2>/dev/null || true
		die "dockerd exited (log: $LOG)"
	fi
	sleep 0.5
done
echo "dockerd.sh: Docker engine answers ($(docker info --format '{{.ServerVersion}}' 2>/dev/null || echo '?')), log: $LOG"
