#!/usr/bin/env bash
# davit's whole test suite (what CI runs through .ci/run):
#
#   1. scripts/setup.sh --browser         packages, the davit user, playwright-core
#   2. meson build + test in build/       normal build, cmocka unit tests
#   3. meson build + test in build-asan/  -Db_sanitize=address,undefined
#   4. libFuzzer targets in build-fuzz/   clang, -Dfuzz=true, FUZZ_SECONDS each (default 20)
#   5. tests/integration/t_*.sh           against build-asan's binaries, INTEGRATION_JOBS
#                                         (default 3) at a time
#   6. tests/system/t_systemd.sh          davit's units under a real systemd (nspawn),
#                                         with build-release via scripts/install.sh
#   7. node tests/browser/run.mjs         if it exists
#
# Usage: scripts/test.sh [--quick] [--only PATTERN]
#   --quick         skip fuzzing and the browser tests
#   --only PATTERN  only build build-asan and run the integration scripts whose
#                   name matches PATTERN (a bash extended regex, e.g. 't_1|webhook');
#                   the system test runs if PATTERN matches t_systemd
# Env: FUZZ_SECONDS (20), INTEGRATION_TIMEOUT (900 s per script),
#      INTEGRATION_JOBS (3 scripts at once; 1: one after another),
#      KEEP=1 (integration tests keep their temp dirs), T_ONLY=REGEX (only
#      the integration scenarios it names), DAVIT_BROWSER_ONLY=REGEX (only
#      those browser scenarios). tests/README.md: one test at a time.
# Logs: tests/artifacts/. The last line is "N passed, N failed"; the exit
# status is non-zero if anything failed.
set -eu
set -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

usage() {
	sed -n '2,25s/^# \{0,1\}//p' "$0"
}

quick=0
only=
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--only)
		[ $# -ge 2 ] || { usage >&2; echo "test.sh: --only needs a PATTERN" >&2; exit 2; }
		only=$2
		shift
		;;
	--only=*) only=${1#--only=} ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; echo "test.sh: unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done

FUZZ_SECONDS=${FUZZ_SECONDS:-20}
INTEGRATION_TIMEOUT=${INTEGRATION_TIMEOUT:-900}
INTEGRATION_JOBS=${INTEGRATION_JOBS:-3}
case $INTEGRATION_JOBS in '' | *[!0-9]* | 0) echo "test.sh: INTEGRATION_JOBS must be a number > 0" >&2; exit 2 ;; esac
case $FUZZ_SECONDS in '' | *[!0-9]*) echo "test.sh: FUZZ_SECONDS must be a number" >&2; exit 2 ;; esac

ART=$ROOT/tests/artifacts
rm -rf "$ART"
mkdir -p "$ART/integration" "$ART/fuzz"

passed=0
failed=0
summary=()

record() { # record pass|fail NAME [DETAIL]
	local what=$1 name=$2 detail=${3:-}
	if [ "$what" = pass ]; then
		passed=$((passed + 1))
		summary+=("PASS  $name${detail:+  ($detail)}")
	else
		failed=$((failed + 1))
		summary+=("FAIL  $name${detail:+  ($detail)}")
	fi
}

record_counts() { # record_counts NAME OK FAIL [DETAIL]
	passed=$((passed + $2))
	failed=$((failed + $3))
	if [ "$3" -eq 0 ]; then
		summary+=("PASS  $1: $2 ok${4:+  ($4)}")
	else
		summary+=("FAIL  $1: $2 ok, $3 failed${4:+  ($4)}")
	fi
}

section() {
	printf '\n===== %s  %s\n' "$(date +%H:%M:%S)" "$*"
}

finish() {
	section "summary"
	local line
	for line in "${summary[@]}"; do
		printf '%s\n' "$line"
	done
	echo "logs: $ART"
	echo "$passed passed, $failed failed"
	if [ "$failed" -ne 0 ]; then
		exit 1
	fi
	exit 0
}

# Runs CMD with output to LOG (and a tail of it on failure). Returns CMD's status.
logged() { # logged LOG CMD...
	local log=$1 rc=0
	shift
	"$@" >"$log" 2>&1 </dev/null || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "---- failed (exit $rc): $*; last lines of $log:"
		tail -n 80 "$log"
		echo "----"
	fi
	return "$rc"
}

# ------------------------------------------------------------------ setup --
section "setup"
setup_args=()
if [ "$quick" -eq 0 ] && [ -z "$only" ]; then
	setup_args=(--browser)
fi
if ! logged "$ART/setup.log" bash scripts/setup.sh "${setup_args[@]}"; then
	record fail "setup.sh ${setup_args[*]}" "see tests/artifacts/setup.log"
	finish
fi
tail -n 3 "$ART/setup.log"

# ------------------------------------------------------------------ meson --
# meson_configure DIR ARGS...: (re)configures DIR with ARGS (called via logged).
# shellcheck disable=SC2317
meson_configure() {
	local dir=$1
	shift
	if [ -f "$dir/meson-private/coredata.dat" ]; then
		meson setup --reconfigure "$dir" "$@"
	else
		rm -rf "$dir"
		meson setup "$dir" "$@"
	fi
}

# meson_suite NAME DIR test|notest ARGS...: configures and builds DIR with
# ARGS, then (with "test") runs meson test and records the individual test
# counts from meson's summary ("Ok:", "Fail:", ...).
meson_suite() {
	local name=$1 dir=$2 run_tests=$3 log ok fail xpass timeout
	shift 3
	section "$name: build $dir"
	log=$ART/$name
	if ! logged "$log-setup.log" meson_configure "$dir" "$@"; then
		record fail "$name: meson setup" "tests/artifacts/$name-setup.log"
		return 1
	fi
	if ! logged "$log-compile.log" meson compile -C "$dir"; then
		record fail "$name: compile" "tests/artifacts/$name-compile.log"
		return 1
	fi
	if [ "$run_tests" != test ]; then
		summary+=("OK    $name: built (unit tests not run)")
		return 0
	fi
	section "$name: meson test"
	local rc=0
	meson test -C "$dir" --print-errorlogs --num-processes 2 >"$log-test.log" 2>&1 </dev/null || rc=$?
	cp "$dir/meson-logs/testlog.txt" "$log-testlog.txt" 2>/dev/null || true
	ok=$(sed -n 's/^Ok:[[:space:]]*\([0-9]\+\).*/\1/p' "$log-test.log" | tail -n 1)
	fail=$(sed -n 's/^Fail:[[:space:]]*\([0-9]\+\).*/\1/p' "$log-test.log" | tail -n 1)
	xpass=$(sed -n 's/^Unexpected Pass:[[:space:]]*\([0-9]\+\).*/\1/p' "$log-test.log" | tail -n 1)
	timeout=$(sed -n 's/^Timeout:[[:space:]]*\([0-9]\+\).*/\1/p' "$log-test.log" | tail -n 1)
	if [ -z "$ok" ] && [ -z "$fail" ]; then
		if [ "$rc" -eq 0 ] && grep -q 'No tests defined' "$log-test.log"; then
			summary+=("NOTE  $name: no tests defined")
			return 0
		fi
		cat "$log-test.log"
		record fail "$name: meson test" "exit $rc, no summary; tests/artifacts/$name-test.log"
		return 1
	fi
	fail=$(( ${fail:-0} + ${xpass:-0} + ${timeout:-0} ))
	if [ "$rc" -ne 0 ] || [ "$fail" -ne 0 ]; then
		echo "---- $name: meson test failed (exit $rc); test logs:"
		cat "$log-test.log"
		echo "---- full log: tests/artifacts/$name-testlog.txt"
		[ "$fail" -gt 0 ] || fail=1
	else
		tail -n 8 "$log-test.log"
	fi
	record_counts "$name (meson test)" "${ok:-0}" "$fail"
}

asan_ok=1
if [ -z "$only" ]; then
	meson_suite build build test || true
	meson_suite asan build-asan test -Db_sanitize=address,undefined -Db_lundef=false || asan_ok=0
else
	# --only: just the sanitizer binaries the integration scripts use
	meson_suite asan build-asan notest -Db_sanitize=address,undefined -Db_lundef=false || asan_ok=0
fi

# ------------------------------------------------------------------- fuzz --
run_fuzzers() {
	section "fuzz: build build-fuzz (clang, -Dfuzz=true)"
	local rc=0
	if [ -f build-fuzz/meson-private/coredata.dat ]; then
		logged "$ART/fuzz-setup.log" meson setup --reconfigure build-fuzz -Dfuzz=true -Db_lundef=false || rc=$?
	else
		rm -rf build-fuzz
		CC=clang logged "$ART/fuzz-setup.log" meson setup build-fuzz -Dfuzz=true -Db_lundef=false || rc=$?
	fi
	if [ "$rc" -ne 0 ]; then
		record fail "fuzz: meson setup" "tests/artifacts/fuzz-setup.log"
		return
	fi
	if ! logged "$ART/fuzz-compile.log" meson compile -C build-fuzz; then
		record fail "fuzz: compile" "tests/artifacts/fuzz-compile.log"
		return
	fi
	local f name corpus scratch n=0
	for f in build-fuzz/tests/fuzz/*; do
		if [ ! -f "$f" ] || [ ! -x "$f" ]; then
			continue
		fi
		name=$(basename "$f")
		n=$((n + 1))
		scratch=$ART/fuzz/$name-corpus
		mkdir -p "$scratch"
		# New inputs go to the scratch dir (first); the committed corpus is only read.
		corpus=()
		if [ -d "tests/fuzz/corpus/$name" ]; then
			corpus=("tests/fuzz/corpus/$name")
		fi
		section "fuzz: $name for ${FUZZ_SECONDS}s${corpus:+ (corpus ${corpus[*]})}"
		rc=0
		timeout -k 10 $((FUZZ_SECONDS + 120)) "$f" -max_total_time="$FUZZ_SECONDS" \
			-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix="$ART/fuzz/$name-" "$scratch" "${corpus[@]}" \
			>"$ART/fuzz/$name.log" 2>&1 </dev/null || rc=$?
		if [ "$rc" -eq 0 ]; then
			grep -E '^stat::number_of_executed_units' "$ART/fuzz/$name.log" || true
			record pass "fuzz: $name" "${FUZZ_SECONDS}s"
		else
			echo "---- $name failed (exit $rc); last lines of tests/artifacts/fuzz/$name.log:"
			tail -n 60 "$ART/fuzz/$name.log"
			record fail "fuzz: $name" "exit $rc, crash inputs in tests/artifacts/fuzz/"
		fi
	done
	if [ "$n" -eq 0 ]; then
		summary+=("NOTE  fuzz: no fuzz targets in build-fuzz/tests/fuzz/")
	fi
}

if [ "$quick" -eq 0 ] && [ -z "$only" ]; then
	run_fuzzers
fi

# ------------------------------------------------------------ integration --
section "integration"
if ! logged "$ART/dockerd.log" bash scripts/dockerd.sh; then
	echo "test.sh: warning: no Docker engine; tests that need one will fail"
fi
if [ "$asan_ok" -eq 0 ]; then
	echo "test.sh: warning: build-asan did not build or pass; integration tests run anyway"
fi
# The scripts run INTEGRATION_JOBS at a time (each uses its own ports,
# compose project names and temporary directory); their results are
# reported in the order they end.
int_report() { # int_report NAME RC SECONDS
	local name=$1 rc=$2 dur=$3 why
	section "integration: $name"
	if [ "$rc" -eq 0 ]; then
		grep -E ' ok \[' "$ART/integration/$name.log" | tail -n 30 || true
		record pass "integration: $name" "${dur}s"
	else
		why="exit $rc"
		[ "$rc" -ne 124 ] || why="timed out after ${INTEGRATION_TIMEOUT}s"
		echo "---- $name failed ($why); last lines of tests/artifacts/integration/$name.log:"
		tail -n 120 "$ART/integration/$name.log"
		record fail "integration: $name" "$why, ${dur}s"
	fi
}
int_run() { # int_run SCRIPT NAME: in the background; writes NAME.rc
	local start=$SECONDS rc=0
	DAVIT_BUILD=$ROOT/build-asan DAVIT_SRC=$ROOT DAVIT_ARTIFACTS=$ART/integration \
		timeout -k 30 "$INTEGRATION_TIMEOUT" bash "$1" </dev/null >"$ART/integration/$2.log" 2>&1 || rc=$?
	echo "$rc $((SECONDS - start))" >"$ART/integration/$2.rc"
}
int_collect() { # reports the scripts that ended
	local f name rc dur
	for f in "$ART"/integration/*.rc; do
		[ -f "$f" ] || continue
		name=$(basename "$f" .rc)
		read -r rc dur <"$f"
		rm -f "$f"
		int_report "$name" "$rc" "$dur"
		int_running=$((int_running - 1))
	done
	return 0
}
n_int=0
int_running=0
for t in tests/integration/t_*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	if [ -n "$only" ] && ! [[ $name =~ $only ]]; then
		continue
	fi
	n_int=$((n_int + 1))
	while int_collect && [ "$int_running" -ge "$INTEGRATION_JOBS" ]; do
		sleep 1
	done
	echo "$(date +%H:%M:%S) started integration: $name"
	int_run "$t" "$name" &
	int_running=$((int_running + 1))
done
while int_collect && [ "$int_running" -gt 0 ]; do
	sleep 1
done
wait
if [ "$n_int" -eq 0 ]; then
	if [ -n "$only" ] && ! [[ t_systemd =~ $only ]]; then
		record fail "integration: no script matches '$only'"
	else
		summary+=("NOTE  integration: no tests/integration/t_*.sh")
	fi
fi

# ----------------------------------------------------------------- system --
# The units under a real systemd: exit 77 means systemd cannot boot in
# systemd-nspawn on this machine, reported as SKIP (never silently).
if [ -z "$only" ] || [[ t_systemd =~ $only ]]; then
	section "system: tests/system/t_systemd.sh"
	start=$SECONDS
	rc=0
	DAVIT_SRC=$ROOT DAVIT_ARTIFACTS=$ART/system \
		timeout -k 30 "$INTEGRATION_TIMEOUT" bash tests/system/t_systemd.sh </dev/null >"$ART/system.log" 2>&1 || rc=$?
	dur=$((SECONDS - start))
	if [ "$rc" -eq 0 ]; then
		grep -E ' (ok|\.\.) \[' "$ART/system.log" | tail -n 30 || true
		record pass "system: t_systemd" "${dur}s"
	elif [ "$rc" -eq 77 ]; then
		why=$(grep -m1 '^SKIP: ' "$ART/system.log" || echo "SKIP: (no reason printed)")
		echo "$why"
		summary+=("SKIP  system: t_systemd  (${why#SKIP: })")
	else
		echo "---- t_systemd failed (exit $rc); last lines of tests/artifacts/system.log:"
		grep -v '^\[' "$ART/system.log" | tail -n 120
		record fail "system: t_systemd" "exit $rc, ${dur}s"
	fi
fi

# ---------------------------------------------------------------- browser --
if [ "$quick" -eq 0 ] && [ -z "$only" ] && [ -f tests/browser/run.mjs ]; then
	section "browser: node tests/browser/run.mjs"
	start=$SECONDS
	rc=0
	DAVIT_BUILD=$ROOT/build-asan DAVIT_SRC=$ROOT DAVIT_ARTIFACTS=$ART/browser \
		PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 CHROMIUM=/usr/bin/chromium \
		timeout -k 30 "$INTEGRATION_TIMEOUT" node tests/browser/run.mjs </dev/null >"$ART/browser.log" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ]; then
		tail -n 20 "$ART/browser.log"
		record pass "browser: run.mjs" "$((SECONDS - start))s"
	else
		echo "---- browser tests failed (exit $rc); last lines of tests/artifacts/browser.log:"
		tail -n 120 "$ART/browser.log"
		record fail "browser: run.mjs" "exit $rc"
	fi
fi

finish
