#!/usr/bin/env bash
# The manual pages: clean under mandoc -T lint (groff -z -ww without it),
# every key of common/config.c's table in davit.env(5), every long option of
# each binary's --help in its page.
# Usage: man_check.sh SRCDIR BACKEND FRONTEND
set -euo pipefail
src=$1 backend=$2 frontend=$3
status=0
bad() { echo "man_check: $*" >&2; status=1; }

for page in "$src"/man/*.[58]; do
	if command -v mandoc >/dev/null; then
		out=$(mandoc -T lint -W warning "$page" 2>&1) || true
	else
		out=$(groff -mdoc -z -ww "$page" 2>&1) || true
	fi
	[ -z "$out" ] || bad "$out"
done
for key in $(grep -o '{ "DAVIT_[A-Z_]*"' "$src/common/config.c" | grep -o 'DAVIT_[A-Z_]*'); do
	grep -q "^\.It Ev $key\$" "$src/man/davit.env.5" || bad "davit.env.5 lacks $key"
	grep -q "^#*$key=" "$src/.env.example" || bad ".env.example lacks $key"
done
check_opts() { # check_opts BINARY PAGE
	local opt
	for opt in $("$1" --help | grep -o -- '--[a-z-]*' | sort -u); do
		grep -q -- "Fl \\\\${opt#-}" "$2" || bad "$(basename "$2") lacks $opt"
	done
}
check_opts "$backend" "$src/man/davit-backend.8"
check_opts "$frontend" "$src/man/davit-frontend.8"
exit $status
