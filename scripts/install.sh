#!/usr/bin/env bash
# Installs davit as a systemd service, as root, on Debian 12 (after
# scripts/setup.sh): builds a release build, meson installs it (binaries in
# PREFIX/sbin, dashboard, units, tmpfiles.d), creates the system user davit,
# the directories with their modes, and /etc/davit/davit.env (0600, from
# .env.example) unless it exists.  Where systemd runs, reloads it and prints
# the one command that enables davit.  Safe to run again: it never
# overwrites davit.env.
#
#   scripts/install.sh [--destdir DIR] [--builddir DIR] [--prefix PREFIX]
#     --destdir DIR   install into the root file system at DIR (an image, a
#                     container) instead of /: no reload, DIR's users
#     --builddir DIR  the release build (default: build-release)
#     --prefix DIR    meson's prefix (default: /usr/local)
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DAVIT_USER=davit

die() {
	printf 'install.sh: %s\n' "$*" >&2
	exit 1
}

usage() {
	sed -n '2,15s/^# \{0,1\}//p' "$0"
}

destdir=
builddir=$ROOT/build-release
prefix=/usr/local
while [ $# -gt 0 ]; do
	case $1 in
	--destdir) [ $# -ge 2 ] || die "--destdir needs a directory"; destdir=$2; shift ;;
	--builddir) [ $# -ge 2 ] || die "--builddir needs a directory"; builddir=$2; shift ;;
	--prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
	shift
done
[ "$(id -u)" -eq 0 ] || die "must run as root (it installs to $prefix and creates a user)"
if [ -n "$destdir" ]; then
	[ -d "$destdir" ] || die "--destdir $destdir: not a directory"
	destdir=$(cd "$destdir" && pwd)
	[ "$destdir" != / ] || destdir=
fi
for tool in meson ninja; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found: run scripts/setup.sh first"
done

# ---------------------------------------------------------------- build --
if [ -f "$builddir/meson-private/coredata.dat" ]; then
	meson configure "$builddir" --prefix "$prefix" >/dev/null
else
	meson setup "$builddir" "$ROOT" --prefix "$prefix" --buildtype=release \
		-Dtests=false >/dev/null || die "meson setup $builddir failed"
fi
ninja -C "$builddir" >/dev/null || die "build failed in $builddir (ninja -C $builddir)"
if [ -n "$destdir" ]; then
	meson install -C "$builddir" --no-rebuild --quiet --destdir "$destdir" ||
		die "meson install --destdir $destdir failed"
else
	meson install -C "$builddir" --no-rebuild --quiet || die "meson install failed"
fi
echo "install.sh: installed davit-backend, davit-frontend, the dashboard and the units under ${destdir}$prefix"

# ----------------------------------------------------------------- user --
in_root() { # in_root CMD...: CMD on the target root (chroot into --destdir)
	if [ -n "$destdir" ]; then
		chroot "$destdir" "$@"
	else
		"$@"
	fi
}
if ! in_root getent passwd "$DAVIT_USER" >/dev/null; then
	nologin=/usr/sbin/nologin
	[ -x "$destdir$nologin" ] || nologin=/bin/false
	in_root useradd --system --no-create-home --home-dir /nonexistent \
		--shell "$nologin" --user-group "$DAVIT_USER" ||
		die "could not create the system user $DAVIT_USER"
	echo "install.sh: created the system user $DAVIT_USER"
fi

# ---------------------------------------------------------- directories --
# /etc/davit: root's only (the config holds the token and the password
# hash); state and logs: root's, 0750 (systemd's StateDirectory= and
# LogsDirectory= keep them so); /run/davit comes from tmpfiles.d at boot.
install -d -m 0750 -o root -g root "$destdir/etc/davit" "$destdir/var/lib/davit" \
	"$destdir/var/log/davit"
chmod 0750 "$destdir/etc/davit" "$destdir/var/lib/davit" "$destdir/var/log/davit"
env_file=$destdir/etc/davit/davit.env
if [ -e "$env_file" ] || [ -L "$env_file" ]; then
	echo "install.sh: keeping the existing /etc/davit/davit.env"
else
	install -m 0600 -o root -g root "$ROOT/.env.example" "$env_file"
	echo "install.sh: wrote /etc/davit/davit.env (0600) from .env.example: edit it"
fi
chown root:root "$env_file"
chmod 0600 "$env_file"

# --------------------------------------------------------------- systemd --
enable_cmd="systemctl enable --now davit-backend.service davit-frontend.socket"
if [ -z "$destdir" ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload
	systemd-tmpfiles --create davit.conf
	echo "install.sh: systemd reloaded. Edit /etc/davit/davit.env, then enable davit:"
else
	echo "install.sh: systemd does not run here${destdir:+ (--destdir)}. On the target, edit /etc/davit/davit.env, then:"
fi
echo "  $enable_cmd"
