#!/usr/bin/env bash
# The system test: davit's units under a real systemd.  A Debian 12 root
# (mmdebstrap, cached in $DAVIT_SYSTEST_CACHE, default /var/cache/davit-test,
# rebuilt when missing) is booted with systemd as PID 1 in systemd-nspawn
# (sharing the host's network: loopback only; the host's Docker socket bound
# in), on a copy-on-write overlay of the cache, so every run starts clean.
# scripts/install.sh --destdir installs the build into it.  Checks: both units
# active; a login over HTTPS (DAVIT_TLS_CERT, the key by tls.get) through the
# socket-activated frontend, HSTS, a Secure cookie, plain HTTP's 400; kill -9 of
# the backend -> systemd restarts it and the frontend reconnects; SIGSTOP of
# the backend -> the watchdog restarts it; as DAVIT_USER the config, the TLS
# key, the Docker socket and the backend's /proc cannot be opened; a renewed
# certificate served after `systemctl reload davit-backend`, the frontend not
# restarted; the frontend's own
# seccomp filter and Landlock hold under its unit; the journal has
# both daemons' lines; systemd-analyze security against the goals (frontend
# <= 1.0, backend <= 3.5).
#
# Run it alone (as root, after scripts/setup.sh):
#     bash tests/system/t_systemd.sh
# Env: DAVIT_SYSTEST_CACHE (the cached root), DAVIT_SYSTEM_BUILDDIR (the
# release build install.sh uses, default build-release), KEEP=1 (keep $T).
# Exits 77 with a "SKIP:" line only when systemd cannot boot in nspawn here.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../integration/lib.sh"

CACHE=${DAVIT_SYSTEST_CACHE:-/var/cache/davit-test}
BUILDDIR=${DAVIT_SYSTEM_BUILDDIR:-$DAVIT_SRC/build-release}
GOAL_FRONTEND=1.0
GOAL_BACKEND=3.5
BOOT_TIMEOUT=90
WATCHDOG_TEST_SEC=6	# the test's drop-in; the unit ships 30 s

# What davit needs at run time, and the image recipe's version: a change to
# either makes a new cache entry.
ROOT_PACKAGES=systemd,systemd-sysv,dbus,libevent-2.1-7,libevent-pthreads-2.1-7,libevent-openssl-2.1-7,libgit2-1.5,libyajl2,libsodium23,libcurl4,ca-certificates,docker.io,docker-compose
RECIPE_VERSION=1

skip() {
	printf 'SKIP: %s\n' "$*"
	exit 77
}

[ "$(id -u)" -eq 0 ] || fail "must run as root (mmdebstrap, systemd-nspawn, nsenter)"
for tool in mmdebstrap systemd-nspawn nsenter setpriv; do
	command -v "$tool" >/dev/null || fail "$tool not installed (scripts/setup.sh)"
done
[ -S /run/docker.sock ] || fail "no Docker socket at /run/docker.sock (scripts/dockerd.sh)"

# ------------------------------------------------------------ the root --
key=$(printf '%s %s' "$ROOT_PACKAGES" "$RECIPE_VERSION" | sha256sum | cut -c1-12)
IMAGE=$CACHE/bookworm-systemd-$key
if [ ! -f "$IMAGE/.davit-complete" ]; then
	info "building the cached root $IMAGE (cold)"
	mkdir -p "$CACHE"
	rm -rf "$IMAGE.tmp" "$IMAGE"
	start=$SECONDS
	# Docker's own daemons must never start inside: the engine is the host's.
	# shellcheck disable=SC2016 # "$1" is the hook's argument (the root)
	mmdebstrap --variant=minbase --include="$ROOT_PACKAGES" \
		--customize-hook='for u in docker.service docker.socket containerd.service; do ln -sf /dev/null "$1/etc/systemd/system/$u"; done' \
		--customize-hook='rm -f "$1/etc/machine-id"; : >"$1/etc/machine-id"' \
		bookworm "$IMAGE.tmp" >"$T/mmdebstrap.log" 2>&1 ||
		fail "mmdebstrap failed: $(tail -n 20 "$T/mmdebstrap.log")"
	touch "$IMAGE.tmp/.davit-complete"
	mv "$IMAGE.tmp" "$IMAGE"
	info "cold build of the root: $((SECONDS - start)) s"
	# older recipes' roots are of no more use
	for old in "$CACHE"/bookworm-systemd-*; do
		[ "$old" = "$IMAGE" ] || rm -rf "$old"
	done
fi

# a copy-on-write root for this run: the cache stays as built
ROOTFS=$T/root
mkdir -p "$ROOTFS" "$T/upper" "$T/work"
if mount -t overlay overlay -o "lowerdir=$IMAGE,upperdir=$T/upper,workdir=$T/work" "$ROOTFS" 2>"$T/mount.log"; then
	on_exit "umount -l '$ROOTFS'"
	info "root: overlay on $IMAGE"
else
	info "overlay mount failed ($(cat "$T/mount.log")): copying the root"
	cp -a --reflink=auto "$IMAGE/." "$ROOTFS/"
fi

# ------------------------------------------------------------ install --
bash "$DAVIT_SRC/scripts/install.sh" --destdir "$ROOTFS" --builddir "$BUILDDIR" >"$T/install.log" 2>&1 ||
	fail "install.sh --destdir: $(tail -n 20 "$T/install.log")"
cat "$T/install.log"
ENABLE_CMD=$(sed -n 's/^  \(systemctl enable .*\)$/\1/p' "$T/install.log")
[ -n "$ENABLE_CMD" ] || fail "install.sh did not print the command that enables davit"
assert_eq "$(stat -c '%a %U' "$ROOTFS/etc/davit/davit.env")" "600 root" "davit.env mode"
grep -q '^davit:' "$ROOTFS/etc/passwd" || fail "install.sh did not create the user davit"

PORT=$(unused_port)
PROJECT=$(unique_project dvsys)
PASSWORD="system test $RANDOM"
# the demo app (web serves its VERSION on 127.0.0.1:APP_PORT) and its origin,
# at the paths the backend sees inside the container
APP_PORT=$(unused_port)
PORT=$APP_PORT make_demo_app "$ROOTFS/srv/app" "$PROJECT" >"$T/demo.log" 2>&1 ||
	fail "make_demo_app: $(tail -n 5 "$T/demo.log")"
# HTTPS: a self-signed certificate for 127.0.0.1, root's, 0600
mkcert() { # mkcert SERIAL: /etc/davit/tls.crt and tls.key in the root
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$ROOTFS/etc/davit/tls.key" -out "$ROOTFS/etc/davit/tls.crt" \
		-days 2 -set_serial "$1" -subj "/CN=127.0.0.1" \
		-addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
	chown root:root "$ROOTFS/etc/davit/tls.key" "$ROOTFS/etc/davit/tls.crt"
	chmod 0600 "$ROOTFS/etc/davit/tls.key" "$ROOTFS/etc/davit/tls.crt"
	cp "$ROOTFS/etc/davit/tls.crt" "$T/ca.crt"
}
mkcert 4801
cat >"$ROOTFS/etc/davit/davit.env" <<ENV
DAVIT_TLS_CERT=/etc/davit/tls.crt
DAVIT_TLS_KEY=/etc/davit/tls.key
DAVIT_PASSWORD="$PASSWORD"
DAVIT_WORKDIR=/srv/app
DAVIT_REPO_URL=file:///srv/app.origin.git
DAVIT_SERVICES=web, worker
DAVIT_COMPOSE_PROJECT=$PROJECT
DAVIT_POLL_INTERVAL=0
ENV
# run twice: keeps the edited config, still 0600
bash "$DAVIT_SRC/scripts/install.sh" --destdir "$ROOTFS" --builddir "$BUILDDIR" >"$T/install2.log" 2>&1 ||
	fail "install.sh a second time: $(tail -n 20 "$T/install2.log")"
assert_file_contains "$ROOTFS/etc/davit/davit.env" "DAVIT_COMPOSE_PROJECT=$PROJECT"
assert_eq "$(stat -c '%a' "$ROOTFS/etc/davit/davit.env")" 600 "davit.env mode after a second run"
pass "install.sh into the root (twice: the config kept, 0600)"

# the test's own settings: the frontend's port, a short watchdog
mkdir -p "$ROOTFS/etc/systemd/system/davit-frontend.socket.d" \
	"$ROOTFS/etc/systemd/system/davit-backend.service.d"
printf '[Socket]\nListenStream=\nListenStream=127.0.0.1:%s\n' "$PORT" \
	>"$ROOTFS/etc/systemd/system/davit-frontend.socket.d/test.conf"
printf '[Service]\nWatchdogSec=%s\n' "$WATCHDOG_TEST_SEC" \
	>"$ROOTFS/etc/systemd/system/davit-backend.service.d/test.conf"
# HTTPS: nothing in the frontend's unit; it asks the backend (tls.get)

# --------------------------------------------------------------- boot --
MACHINE=davit-systest-$$
boot_start=$SECONDS
# nspawn's own seccomp filter denies Landlock (EPERM) to the whole container,
# which a host's systemd does not: let it through, for the frontend's sandbox
setsid systemd-nspawn -q -b --register=no --keep-unit -M "$MACHINE" -D "$ROOTFS" \
	--bind=/run/docker.sock --resolv-conf=off --timezone=off --link-journal=no \
	--system-call-filter='landlock_create_ruleset landlock_add_rule landlock_restrict_self' \
	</dev/null >"$T/nspawn.log" 2>&1 &
NSPAWN_PID=$!

teardown() {
	[ -n "${LEADER:-}" ] && nsenter -t "$LEADER" -a systemctl poweroff --no-block >/dev/null 2>&1
	for _ in $(seq 1 100); do
		kill -0 "$NSPAWN_PID" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL "$NSPAWN_PID" 2>/dev/null
	wait "$NSPAWN_PID" 2>/dev/null
}
on_exit teardown
on_exit "compose_cleanup '$PROJECT' '$ROOTFS/srv/app'"

# the container's PID 1: the nspawn descendant that is pid 1 in its namespace
LEADER=
find_leader() {
	local p
	for p in $(pgrep -P "$NSPAWN_PID") $(pgrep -P "$(pgrep -P "$NSPAWN_PID" | tr '\n' ',' | sed 's/,$//')" 2>/dev/null); do
		if [ "$(awk '/^NSpid:/ { print $NF }' "/proc/$p/status" 2>/dev/null)" = 1 ]; then
			LEADER=$p
			return 0
		fi
	done
	return 1
}
deadline=$((SECONDS + 30))
until find_leader; do
	if ! kill -0 "$NSPAWN_PID" 2>/dev/null; then
		skip "systemd-nspawn exited before booting: $(tail -n 5 "$T/nspawn.log" | tr '\n' ' ')"
	fi
	[ "$SECONDS" -lt "$deadline" ] || skip "no container PID 1 after 30 s: $(tail -n 5 "$T/nspawn.log" | tr '\n' ' ')"
	sleep 0.2
done
cx() { nsenter -t "$LEADER" -a -- "$@"; }
# until PID 1 answers on its private socket, then until the boot is over
deadline=$((SECONDS + BOOT_TIMEOUT))
while :; do
	state=$(timeout "$BOOT_TIMEOUT" nsenter -t "$LEADER" -a -- systemctl is-system-running --wait 2>&1) || true
	case $state in
	*"Failed to connect"*) [ "$SECONDS" -lt "$deadline" ] && kill -0 "$NSPAWN_PID" 2>/dev/null || break ;;
	*) break ;;
	esac
	sleep 0.2
done
case $state in
running | degraded) ;;
*) skip "systemd did not finish booting in nspawn (state '$state'): $(tail -n 5 "$T/nspawn.log" | tr '\n' ' ')" ;;
esac
info "booted systemd $(cx systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p') in $((SECONDS - boot_start)) s (state $state, PID 1 is host pid $LEADER)"
[ "$state" = running ] || info "failed units: $(cx systemctl --failed --no-legend --plain | tr '\n' ';')"

# ------------------------------------------------------------- enable --
# shellcheck disable=SC2086 # the command install.sh printed, word by word
cx $ENABLE_CMD >"$T/enable.log" 2>&1 || fail "$ENABLE_CMD: $(cat "$T/enable.log")"
wait_for cx systemctl is-active --quiet davit-backend.service ||
	fail "davit-backend.service not active: $(cx systemctl status --no-pager davit-backend.service 2>&1 | tail -n 20)"
assert_eq "$(cx systemctl is-active davit-frontend.socket)" active "davit-frontend.socket"
assert_eq "$(cx stat -c '%a %U %G' /run/davit)" "750 root davit" "/run/davit from tmpfiles.d"
pass "$ENABLE_CMD: davit-backend.service and davit-frontend.socket active"

# ---------------------------------------------------------------- HTTP --
URL=https://127.0.0.1:$PORT
JAR=$T/cookies
CODE=
req() { # req CURL_ARGS...: CODE, body in $T/body, headers in $T/head
	CODE=$(curl -s --cacert "$T/ca.crt" -D "$T/head" -o "$T/body" -w '%{http_code}' \
		--max-time 20 "$@") || CODE=000
}
login() {
	req -c "$JAR" -X POST -H 'Content-Type: application/json' \
		--data-binary "$(jq -cn --arg p "$PASSWORD" '{password:$p}')" "$URL/api/login"
}
state_up() { # GET /api/state answers 200 with the backend up
	req -b "$JAR" "$URL/api/state"
	[ "$CODE" = 200 ] && [ "$(jq -r .backend "$T/body")" = up ]
}
login_ok() { login; [ "$CODE" = 200 ] && cp "$T/body" "$T/body.login"; }
# the first request starts the frontend; it answers 503 until its backend
# link is up
wait_for login_ok || fail "login through the socket-activated frontend: $CODE $(cat "$T/body")"
assert_eq "$(cx systemctl is-active davit-frontend.service)" active "davit-frontend.service, started by its socket"
wait_for state_up || fail "GET /api/state: $CODE $(cat "$T/body")"
FE_PID=$(cx systemctl show -p MainPID --value davit-frontend.service)
login_ok || fail "login again: $CODE"
assert_contains "$(tr -d '\r' <"$T/head")" "Strict-Transport-Security: max-age=31536000" "HSTS through the units"
assert_contains "$(grep -i '^set-cookie:' "$T/head")" "; Secure" "a Secure cookie through the units"
assert_contains "$(curl -s -i --max-time 10 "http://127.0.0.1:$PORT/" 2>&1 || true)" "this port speaks HTTPS" \
	"plain HTTP to the socket's port"
pass "login and /api/state over HTTPS through davit-frontend.socket (frontend pid $FE_PID in the container)"

fe_status=$(cx cat "/proc/$FE_PID/status")
assert_contains "$fe_status" "NoNewPrivs:	1" "frontend no_new_privs"
assert_contains "$fe_status" "CapEff:	0000000000000000" "frontend has no capability"
assert_contains "$fe_status" "Seccomp:	2" "frontend under seccomp filters (systemd's and its own)"
# its own filter and Landlock on top of systemd's (frontend/sandbox.c): the
# line is logged only once seccomp_load succeeded, after Landlock
cx journalctl -u davit-frontend.service --no-pager -o cat >"$T/journal-frontend.log"
assert_file_contains "$T/journal-frontend.log" "sandbox: seccomp allowlist (violation kills), Landlock ABI" \
	"the frontend's own seccomp filter and Landlock under the unit"
[ "$(cx readlink "/proc/$FE_PID/ns/net")" != "$(readlink /proc/self/ns/net)" ] ||
	fail "the frontend shares the host's network namespace (PrivateNetwork=yes?)"
pass "the frontend: no capability, no_new_privs, seccomp (systemd's filter and its own), Landlock, its own empty network namespace"

# -------------------------------------------------------------- deploy --
# git (libgit2 in the backend's git child) and the compose CLI, both under
# the backend's unit, through the API: a new commit on origin, deployed
VERSION_V2=v2-$RANDOM
V2=$(push_commit "$ROOTFS/srv/app.origin.git" "v2" VERSION "$VERSION_V2") || fail "push_commit"
CSRF=$(jq -r '.csrf // empty' "$T/body.login")
req -b "$JAR" -X POST -H "X-Davit-CSRF: $CSRF" "$URL/api/deploy"
assert_eq "$CODE" 202 "POST /api/deploy: $(cat "$T/body")"
JOB=$(jq -r .job "$T/body")
job_done() {
	req -b "$JAR" "$URL/api/jobs/$JOB"
	[ "$CODE" = 200 ] && case $(jq -r .state "$T/body") in succeeded | failed) true ;; *) false ;; esac
}
wait_for -t 300 job_done || fail "deploy job $JOB did not end: $(cat "$T/body")"
jq -r '.log[]?' "$T/body" >"$T/deploy-job.log"
assert_eq "$(jq -r .state "$T/body")" succeeded "deploy job $JOB: $(jq -c '{error, log: .log[-15:]}' "$T/body")"
app_serves() { [ "$(curl -s --max-time 5 "http://127.0.0.1:$APP_PORT/")" = "$1" ]; }
wait_for -t 60 app_serves "$VERSION_V2" ||
	fail "the app does not serve the deployed VERSION $VERSION_V2: $(curl -s --max-time 5 "http://127.0.0.1:$APP_PORT/")"
DEPLOYS=$(cx cat /var/lib/davit/app/deploys.jsonl | wc -l)
[ "$DEPLOYS" -ge 1 ] || fail "no deploy in /var/lib/davit/app/deploys.jsonl"
# the git child confines itself too (gitchild/sandbox.c): a child that
# cannot load its own filter fails its job, one without Landlock says so
assert_file_not_contains "$T/deploy-job.log" "sandbox: no Landlock"
assert_file_not_contains "$T/deploy-job.log" "sandbox: seccomp"
pass "deploy of ${V2:0:12} through the units: git pull and compose under the backend's confinement, the app serves it"

# ------------------------------------------------- kill -9 of the backend --
main_pid() { cx systemctl show -p MainPID --value davit-backend.service; }
restarted_from() { # restarted_from OLDPID: active again with another main pid
	local pid
	pid=$(main_pid)
	[ "$pid" != 0 ] && [ "$pid" != "$1" ] && cx systemctl is-active --quiet davit-backend.service
}
BE_PID=$(main_pid)
n0=$(cx systemctl show -p NRestarts --value davit-backend.service)
cx systemctl kill --kill-who=main -s SIGKILL davit-backend.service	# kill -9 of its main pid
wait_for restarted_from "$BE_PID" || fail "davit-backend not restarted after kill -9"
assert_eq "$(cx systemctl show -p NRestarts --value davit-backend.service)" "$((n0 + 1))" "NRestarts after kill -9"
wait_for state_up || fail "the frontend did not reconnect: GET /api/state $CODE $(cat "$T/body")"
assert_eq "$(cx systemctl show -p MainPID --value davit-frontend.service)" "$FE_PID" "the frontend kept running"
assert_eq "$(cx cat /var/lib/davit/app/deploys.jsonl | wc -l)" "$DEPLOYS" "the deploy history after kill -9"
req -b "$JAR" "$URL/api/state"
assert_eq "$(jq -r --arg to "$V2" '[.deploys | .. | objects | select(.to? == $to)][0].state' "$T/body")" succeeded \
	"the deploy of ${V2:0:12} in /api/state after the restart: $(jq -c .deploys "$T/body" | head -c 400)"
pass "kill -9 of the backend ($BE_PID): systemd restarted it ($(main_pid)), the same frontend reconnected, the deploy history intact"

# ------------------------------------------------- SIGSTOP: the watchdog --
BE_PID=$(main_pid)
cx systemctl kill --kill-who=main -s SIGSTOP davit-backend.service
wait_for -t $((WATCHDOG_TEST_SEC * 3 + 10)) restarted_from "$BE_PID" ||
	fail "a stopped backend was not restarted by the watchdog"
cx journalctl -u davit-backend.service --no-pager -o cat >"$T/journal-backend.log"
assert_file_contains "$T/journal-backend.log" "Watchdog timeout"
wait_for state_up || fail "the frontend did not reconnect after the watchdog restart"
pass "SIGSTOP of the backend ($BE_PID): the watchdog ($WATCHDOG_TEST_SEC s) restarted it"

# ------------------------------------------------------ as DAVIT_USER --
as_davit() { cx setpriv --reuid=davit --regid=davit --init-groups -- "$@"; }
BE_PID=$(main_pid)
cx docker -H unix:///run/docker.sock version --format '{{.Server.Version}}' >"$T/docker-root.log" 2>&1 ||
	fail "root in the container cannot reach the bound Docker socket: $(cat "$T/docker-root.log")"
if as_davit cat /etc/davit/davit.env >"$T/as-davit.log" 2>&1; then
	fail "davit can read /etc/davit/davit.env"
fi
assert_file_contains "$T/as-davit.log" "Permission denied"
if as_davit docker -H unix:///run/docker.sock version >"$T/as-davit.log" 2>&1; then
	fail "davit can use the Docker socket"
fi
assert_file_contains "$T/as-davit.log" "permission denied"
if as_davit cat "/proc/$BE_PID/environ" >"$T/as-davit.log" 2>&1; then
	fail "davit can read the backend's /proc/$BE_PID/environ"
fi
if as_davit cat /etc/davit/tls.key >"$T/as-davit.log" 2>&1; then
	fail "davit can read the TLS key"
fi
assert_file_contains "$T/as-davit.log" "Permission denied"
pass "as davit: davit.env, the TLS key, docker.sock and the backend's /proc/PID/environ cannot be opened"

# ------------------------------------------------------------- reload --
# ExecReload checks the config first: a broken one fails the reload and the
# running backend goes on, untouched
BE_PID=$(main_pid)
cx systemctl reload davit-backend.service >"$T/reload.log" 2>&1 ||
	fail "systemctl reload with a good config: $(cat "$T/reload.log")"
assert_eq "$(main_pid)" "$BE_PID" "the same backend after a reload"
cp -p "$ROOTFS/etc/davit/davit.env" "$T/davit.env.good"
printf 'DAVIT_STOP_TIMEOUT=forever\nDAVIT_LISTEN=nowhere\n' >>"$ROOTFS/etc/davit/davit.env"
if cx systemctl reload davit-backend.service >"$T/reload.log" 2>&1; then
	fail "systemctl reload with a broken config succeeded"
fi
assert_eq "$(main_pid)" "$BE_PID" "the same backend after a refused reload"
assert_eq "$(cx systemctl is-active davit-backend.service)" active "active after a refused reload"
wait_for state_up || fail "the backend does not answer after a refused reload"
cx journalctl -u davit-backend.service --no-pager -o cat >"$T/journal-backend.log"
assert_file_contains "$T/journal-backend.log" "DAVIT_STOP_TIMEOUT: must be an integer"
assert_file_contains "$T/journal-backend.log" "DAVIT_LISTEN: must be host:port"
cp -p "$T/davit.env.good" "$ROOTFS/etc/davit/davit.env"
pass "systemctl reload: checked first; a broken config fails it, the backend ($BE_PID) runs on"

# ------------------------------------------------- a renewed certificate --
# the backend's reload (--check-config, then SIGHUP) re-reads the files and
# the frontend asks for them again (tls.reload, tls.get): no restart
serial_of() {
	openssl s_client -connect "127.0.0.1:$PORT" -servername 127.0.0.1 </dev/null 2>/dev/null |
		openssl x509 -noout -serial | sed 's/^serial=//'
}
assert_eq "$(serial_of)" 12C1 "the first certificate's serial (4801)"
FE_MAIN=$(cx systemctl show -p MainPID --value davit-frontend.service)
mkcert 4802
cx systemctl reload davit-backend.service >"$T/reload.log" 2>&1 ||
	fail "systemctl reload davit-backend: $(cat "$T/reload.log")"
serial_is() { [ "$(serial_of)" = "$1" ]; }
wait_for -t 20 serial_is 12C2 || fail "no new certificate after the reload: $(serial_of)"
assert_eq "$(serial_of)" 12C2 "the renewed certificate's serial (4802)"
wait_for login_ok || fail "login after the renewal: $CODE $(cat "$T/body")"
assert_eq "$(cx systemctl show -p MainPID --value davit-frontend.service)" "$FE_MAIN" \
	"the same frontend process after the reload"
pass "a renewed certificate: systemctl reload davit-backend serves it (serial 12C2), the frontend ($FE_MAIN) not restarted"

# ------------------------------------------------------------ journal --
cx journalctl -u davit-backend.service --no-pager -o cat >"$T/journal-backend.log"
cx journalctl -u davit-frontend.service --no-pager -o cat >"$T/journal-frontend.log"
assert_file_contains "$T/journal-backend.log" "systemd watchdog: a ping every"
assert_file_contains "$T/journal-backend.log" "project app: /etc/davit/davit.env, 2 services"
assert_file_contains "$T/journal-backend.log" "ready: 1 project"
assert_file_contains "$T/journal-frontend.log" "listening on the socket systemd passed (fd 3, 127.0.0.1:$PORT)"
assert_file_contains "$T/journal-frontend.log" "connected"
pass "the journal has both daemons' lines"

# ------------------------------------------------ systemd-analyze security --
exposure() { # exposure UNIT: the overall figure systemd-analyze prints
	cx systemd-analyze security --no-pager "$1" 2>&1 |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
}
fe=$(exposure davit-frontend.service)
be=$(exposure davit-backend.service)
[ -n "$fe" ] && [ -n "$be" ] || fail "no exposure level from systemd-analyze security"
info "systemd-analyze security: davit-frontend.service $fe (goal <= $GOAL_FRONTEND), davit-backend.service $be (goal <= $GOAL_BACKEND)"
awk -v a="$fe" -v b="$GOAL_FRONTEND" 'BEGIN { exit !(a <= b) }' ||
	fail "davit-frontend.service exposure $fe > $GOAL_FRONTEND"
awk -v a="$be" -v b="$GOAL_BACKEND" 'BEGIN { exit !(a <= b) }' ||
	fail "davit-backend.service exposure $be > $GOAL_BACKEND"
pass "exposure under systemd: frontend $fe, backend $be"

cx systemctl stop davit-frontend.service davit-frontend.socket davit-backend.service
# both stop cleanly: no signal (the frontend's seccomp once killed it with
# SIGSYS in OpenSSL's clean-up at exit)
for u in davit-frontend.service davit-backend.service; do
	assert_eq "$(cx systemctl show -p Result --value "$u")" success "$u's result after systemctl stop"
done
pass "systemctl stop: both daemons exit cleanly"
compose_cleanup "$PROJECT" "$ROOTFS/srv/app" >/dev/null 2>&1 || true
info "total $SECONDS s"
