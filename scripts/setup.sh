#!/usr/bin/env bash
# Installs what davit needs to build, test and run, on Debian 12, as root.
# Idempotent and fast when everything is there already (no apt-get at all).
#
#   scripts/setup.sh            Debian packages + the system user "davit"
#   scripts/setup.sh --browser  also playwright-core in tests/browser (npm ci),
#                               using Debian's chromium (no browser download)
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)

die() {
	printf 'setup.sh: %s\n' "$*" >&2
	exit 1
}

usage() {
	sed -n '2,7s/^# \{0,1\}//p' "$0"
}

browser=0
for arg in "$@"; do
	case $arg in
	--browser) browser=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $arg" ;;
	esac
done

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages and creates a user)"
if [ ! -r /etc/debian_version ] || ! command -v apt-get >/dev/null 2>&1; then
	die "needs Debian (apt-get)"
fi

# the newest playwright-core that runs on node 18 (Debian 12's nodejs)
PLAYWRIGHT_NODE18=1.56.1

PACKAGES="build-essential meson ninja-build pkg-config libevent-dev libgit2-dev
libyajl-dev libsodium-dev libseccomp-dev libcmocka-dev libcurl4-openssl-dev clang
libclang-rt-14-dev socat curl git jq lighttpd docker.io docker-compose mandoc
busybox-static wrk chromium nodejs npm procps util-linux python3 openssl
iproute2 ca-certificates mmdebstrap systemd-container libssl-dev
python3-cryptography"

installed() {
	case $(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) in
	ii*) return 0 ;;
	*) return 1 ;;
	esac
}

missing=""
for p in $PACKAGES; do
	case $p in
	# Node.js may come from elsewhere (e.g. NodeSource, with its own npm):
	# then leave it alone, Debian's npm would conflict with it.
	nodejs) command -v node >/dev/null 2>&1 && continue ;;
	npm) command -v npm >/dev/null 2>&1 && continue ;;
	esac
	installed "$p" || missing="$missing $p"
done

if [ -n "$missing" ]; then
	echo "setup.sh: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a NEEDRESTART_SUSPEND=1
	# Without systemd (containers, CI), keep package scripts from starting
	# services (dockerd is started by scripts/dockerd.sh with our options).
	policy_added=0
	if [ ! -d /run/systemd/system ] && [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		policy_added=1
	fi
	rc=0
	# shellcheck disable=SC2086 # $missing: one package per word
	{
		apt-get update -q &&
		apt-get install -y -q -o Dpkg::Options::=--force-confdef \
			-o Dpkg::Options::=--force-confold $missing
	} || rc=$?
	if [ "$policy_added" -eq 1 ]; then
		rm -f /usr/sbin/policy-rc.d
	fi
	[ "$rc" -eq 0 ] || die "apt-get failed (exit $rc) installing:$missing"
	for p in $missing; do
		installed "$p" || die "package $p is still not installed"
	done
else
	echo "setup.sh: all Debian packages already installed"
fi

if ! getent passwd davit >/dev/null; then
	nologin=/usr/sbin/nologin
	[ -x "$nologin" ] || nologin=/bin/false
	useradd --system --no-create-home --home-dir /nonexistent \
		--shell "$nologin" --user-group davit ||
		die "could not create the system user davit"
	echo "setup.sh: created system user davit"
fi

# The owner of the demo's and the tests' checkouts: davit runs git as a
# checkout's owner, never as root. An ordinary user, not davit, not in docker.
if ! getent passwd davit-app >/dev/null; then
	nologin=/usr/sbin/nologin
	[ -x "$nologin" ] || nologin=/bin/false
	useradd --system --no-create-home --home-dir /nonexistent \
		--shell "$nologin" --user-group davit-app ||
		die "could not create the system user davit-app"
	echo "setup.sh: created system user davit-app (owns the demo checkout)"
fi

if [ "$browser" -eq 1 ]; then
	command -v node >/dev/null 2>&1 || die "node not found after install"
	command -v npm >/dev/null 2>&1 || die "npm not found after install"
	dir=$ROOT/tests/browser
	[ -f "$dir/package.json" ] || die "missing $dir/package.json"
	want=$(node -e 'const l=require(process.argv[1]);const p=l.packages&&l.packages["node_modules/playwright-core"];console.log(p?p.version:"")' "$dir/package-lock.json" 2>/dev/null || true)
	have=$(node -e 'try{console.log(require(process.argv[1]).version)}catch(e){console.log("")}' "$dir/node_modules/playwright-core/package.json" 2>/dev/null || true)
	node_major=$(node -p 'process.versions.node.split(".")[0]')
	if [ "$node_major" -lt 20 ]; then
		# Debian 12's own nodejs is 18: the locked playwright-core needs
		# 20, so take the newest one that runs on 18.
		want=$PLAYWRIGHT_NODE18
		if [ "$want" = "$have" ]; then
			echo "setup.sh: playwright-core $have (for node $node_major) already installed"
		else
			export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
			(cd "$dir" && npm install --no-save --no-package-lock --no-audit --no-fund \
				--loglevel=error "playwright-core@$want") || die "npm install playwright-core@$want failed in $dir"
			echo "setup.sh: installed playwright-core $want in tests/browser (node $node_major)"
		fi
	elif [ -n "$want" ] && [ "$want" = "$have" ]; then
		echo "setup.sh: playwright-core $have already installed in tests/browser"
	else
		export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
		if [ -f "$dir/package-lock.json" ]; then
			(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in $dir"
		else
			(cd "$dir" && npm install --no-audit --no-fund --loglevel=error) || die "npm install failed in $dir"
		fi
		echo "setup.sh: installed playwright-core in tests/browser"
	fi
	[ -x /usr/bin/chromium ] || die "/usr/bin/chromium missing (apt-get install chromium)"
fi
echo "setup.sh: done"
