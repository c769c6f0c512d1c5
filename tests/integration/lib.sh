# shellcheck shell=bash source-path=SCRIPTDIR
#
# Harness for davit's integration tests. Every tests/integration/t_*.sh starts
#
#     #!/usr/bin/env bash
#     set -euo pipefail
#     . "$(dirname "$0")/lib.sh"
#
# and exits non-zero on failure (fail, a failed assert, or any failed command
# under set -e). Each helper is documented where it is defined below:
#
#   reporting   fail MSG, pass MSG, info MSG, assert_eq A B [MSG], assert_ne,
#               assert_contains HAY NEEDLE [MSG], assert_not_contains HAY NEEDLE [MSG],
#               assert_file_contains FILE S, assert_file_not_contains FILE S,
#               assert_fails CMD..., wait_for [-t SECS] CMD...
#   processes   $T, on_exit CMD..., start_bg NAME CMD... (sets BG_PID),
#               stop_pid PID [SECS] (sets STOP_STATUS), check_sanitizer_logs
#   network     unused_port, port_open PORT, http_code URL [CURL_ARGS...],
#               start_git_http ROOTDIR PORT TOKEN, start_cut_server PORT
#   davit       write_env FILE K=V..., write_davit_env FILE K=V..., env_get FILE KEY,
#               trusted_bin_dir (sets TBIN),
#               davit_start_backend ENVFILE [ARGS...] (sets SOCK, DAVIT_BACKEND_PID),
#               davit_stop_backend [SECS] (sets DAVIT_BACKEND_STATUS),
#               proto LINE, proto_as USER LINE
#   frontend    frontend_needs (sets FE_BIN), backend_up [URL], backend_down [URL]
#   ops, jobs   req OP [ARGS], submit OP [ARGS], preq/psubmit OP PROJECT [ARGS],
#               job_wait ID [SECS],
#               run_job OP [ARGS [SECS]], job_state ID [SECS]
#   scenarios   scenario NAME [NEEDS...] (true if selected by $T_ONLY)
#   docker      ensure_docker, compose_cmd, compose ARGS..., unique_project [PREFIX],
#               demo_app DIR PROJECT, make_demo_app DIR PROJECT,
#               push_commit ORIGIN MSG [FILE CONTENT], compose_cleanup PROJECT [DIR]
#               (the last four from scripts/demo-lib.sh),
#               app_owned DIR... (checkouts to $DEMO_APP_USER: git never runs as root)
#
# Environment it reads:
#   DAVIT_BUILD   build dir with backend/davit-backend (default: $DAVIT_SRC/build-asan,
#                 else $DAVIT_SRC/build)
#   DAVIT_SRC     repo root (default: two levels above this file)
#   DAVIT_ARTIFACTS  where to copy $T/*.log when a test fails (optional)
#   KEEP=1        keep $T (and print its path) instead of removing it
#   WAIT_TIMEOUT  default timeout of wait_for, seconds (default 30)
#   PROTO_TIMEOUT seconds socat waits for a reply after sending (default 5)
#   T_ONLY        bash extended regex: run only the scenarios whose name it
#                 matches (see scenario below); unset: all of them

if [ -n "${_DAVIT_LIB_LOADED:-}" ]; then
	return 0
fi
_DAVIT_LIB_LOADED=1

set -euo pipefail

DAVIT_SRC=${DAVIT_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
if [ -z "${DAVIT_BUILD:-}" ]; then
	if [ -d "$DAVIT_SRC/build-asan" ]; then
		DAVIT_BUILD=$DAVIT_SRC/build-asan
	else
		DAVIT_BUILD=$DAVIT_SRC/build
	fi
fi
export DAVIT_SRC DAVIT_BUILD

# shellcheck source=../../scripts/demo-lib.sh
. "$DAVIT_SRC/scripts/demo-lib.sh"

TEST_NAME=$(basename "$0" .sh)
WAIT_TIMEOUT=${WAIT_TIMEOUT:-30}
PROTO_TIMEOUT=${PROTO_TIMEOUT:-5}

# Sanitizers: fail loudly, keep going long enough to log the report.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:print_summary=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:print_summary=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-print_suppressions=0}

# git: never prompt for credentials, ignore the caller's system/global config.
export GIT_TERMINAL_PROMPT=0 GIT_ASKPASS=/bin/false SSH_ASKPASS=/bin/false
export GIT_CONFIG_NOSYSTEM=1
export LC_ALL=C

# ---------------------------------------------------------------- temp dir --
# $T: per-test temp dir, mode 0711 so that other uids (the davit user, the
# frontend) can reach a socket inside it by path without listing it.
T=$(mktemp -d /tmp/davit-"$TEST_NAME".XXXXXX)
chmod 0711 "$T"
export T
export GIT_CONFIG_GLOBAL=$T/gitconfig
git config --file "$GIT_CONFIG_GLOBAL" user.name "davit test"
git config --file "$GIT_CONFIG_GLOBAL" user.email "test@davit.invalid"
git config --file "$GIT_CONFIG_GLOBAL" init.defaultBranch main
git config --file "$GIT_CONFIG_GLOBAL" advice.detachedHead false
# the tests' git CLI (root) reads checkouts owned by $DEMO_APP_USER
git config --file "$GIT_CONFIG_GLOBAL" safe.directory '*'

_PIDS=()          # processes started by start_bg & co (each leads its own process group)
_ON_EXIT=()       # commands registered with on_exit, run last-in first-out
_SAN_LOGS=()      # logs scanned for sanitizer reports at exit

_ts() { date +%H:%M:%S; }

# ------------------------------------------------------------- reporting --
# fail MSG: prints "FAIL: MSG" and exits 1 (cleanup runs).
fail() {
	printf '%s FAIL [%s]: %s\n' "$(_ts)" "$TEST_NAME" "$*" >&2
	exit 1
}

# pass MSG: prints "ok: MSG".
pass() {
	printf '%s ok [%s]: %s\n' "$(_ts)" "$TEST_NAME" "$*"
}

# info MSG: progress message.
info() {
	printf '%s .. [%s]: %s\n' "$(_ts)" "$TEST_NAME" "$*"
}

_show() {
	# A value for a failure message, cut to keep logs readable.
	local s=$1
	if [ "${#s}" -gt 2000 ]; then
		s="${s:0:2000}... (${#s} bytes)"
	fi
	printf '%s' "$s"
}

# assert_eq ACTUAL EXPECTED [MSG]
assert_eq() {
	[ "$1" == "$2" ] ||
		fail "${3:-assert_eq}: expected '$(_show "$2")', got '$(_show "$1")'"
}

# assert_ne ACTUAL UNEXPECTED [MSG]
assert_ne() {
	[ "$1" != "$2" ] || fail "${3:-assert_ne}: got '$(_show "$1")' twice"
}

# assert_contains HAYSTACK NEEDLE [MSG]   (fixed-string match)
assert_contains() {
	[[ $1 == *"$2"* ]] ||
		fail "${3:-assert_contains}: '$(_show "$2")' not found in '$(_show "$1")'"
}

# assert_not_contains HAYSTACK NEEDLE [MSG]: e.g. that a secret does not leak.
# The failure message names where it was found, not the haystack.
assert_not_contains() {
	[[ $1 != *"$2"* ]] ||
		fail "${3:-assert_not_contains}: forbidden string found (${#1} bytes searched)"
}

# assert_file_contains FILE NEEDLE [MSG] / assert_file_not_contains FILE NEEDLE [MSG]
assert_file_contains() {
	[ -f "$1" ] || fail "${3:-assert_file_contains}: no file $1"
	grep -qF -- "$2" "$1" || fail "${3:-assert_file_contains}: '$(_show "$2")' not in $1"
}
assert_file_not_contains() {
	[ ! -f "$1" ] || ! grep -qF -- "$2" "$1" ||
		fail "${3:-assert_file_not_contains}: forbidden string found in $1 (line $(grep -nF -- "$2" "$1" | head -1 | cut -d: -f1))"
}

# assert_fails CMD...: CMD must exit non-zero.
assert_fails() {
	if "$@" >/dev/null 2>&1; then
		fail "expected failure: $*"
	fi
}

# wait_for [-t SECONDS] CMD...: runs CMD every 0.2 s until it succeeds; returns
# 1 with a message after SECONDS (default $WAIT_TIMEOUT). CMD's output is discarded.
wait_for() {
	local timeout=$WAIT_TIMEOUT deadline
	if [ "${1:-}" = "-t" ]; then
		timeout=$2
		shift 2
	fi
	[ $# -gt 0 ] || fail "usage: wait_for [-t SECONDS] CMD..."
	deadline=$((SECONDS + timeout))
	while ! "$@" >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			printf '%s wait_for [%s]: timed out after %ss: %s\n' "$(_ts)" "$TEST_NAME" "$timeout" "$*" >&2
			return 1
		fi
		sleep 0.2
	done
}

# ----------------------------------------------------------- processes --
# on_exit CMD...: runs CMD (as a command line, via eval) at exit, last
# registered first, after the started processes were killed.
on_exit() {
	_ON_EXIT+=("$*")
}

# start_bg NAME CMD...: runs CMD in the background in its own process group,
# stdout+stderr to $T/NAME.log, and registers it for killing at exit. Sets
# BG_PID to its pid (do not call it in $(...): the pid would be lost).
start_bg() {
	local name=$1
	shift
	[ $# -gt 0 ] || fail "usage: start_bg NAME CMD..."
	setsid "$@" </dev/null >>"$T/$name.log" 2>&1 &
	BG_PID=$!
	_PIDS+=("$BG_PID")
}

# stop_pid PID [SECONDS]: SIGTERM to the process, waits (default 10 s), then
# SIGKILL. Sets STOP_STATUS to its exit status if it was our child.
stop_pid() {
	local pid=$1 secs=${2:-10} deadline
	STOP_STATUS=
	kill -TERM "$pid" 2>/dev/null || true
	deadline=$((SECONDS + secs))
	while kill -0 "$pid" 2>/dev/null && ! _is_zombie "$pid"; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			printf '%s [%s]: pid %s ignored SIGTERM for %ss, killing\n' "$(_ts)" "$TEST_NAME" "$pid" "$secs" >&2
			kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.1
	done
	STOP_STATUS=0
	wait "$pid" 2>/dev/null || STOP_STATUS=$?
}

_is_zombie() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ $st == Z* ]]
}

_kill_all() {
	local pid i
	for ((i = ${#_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${_PIDS[i]}
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${_PIDS[@]}"; do
		local n=0
		while kill -0 "$pid" 2>/dev/null && ! _is_zombie "$pid" && [ $n -lt 50 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		kill -KILL -- "-$pid" 2>/dev/null || true
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	_PIDS=()
}

# Sanitizer reports in any registered log fail the test, even when the
# process exited 0 (e.g. leaks reported at exit of a child).
_san_check() {
	local log bad=0
	for log in "${_SAN_LOGS[@]}"; do
		[ -f "$log" ] || continue
		if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' "$log"; then
			printf '%s FAIL [%s]: sanitizer report in %s:\n' "$(_ts)" "$TEST_NAME" "$log" >&2
			grep -nE -A30 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log" | head -80 >&2
			bad=1
		fi
	done
	return "$bad"
}

# check_sanitizer_logs: fails now if a registered log has a sanitizer report.
check_sanitizer_logs() {
	_san_check || exit 1
}

_cleanup() {
	local rc=$? i log
	trap - EXIT INT TERM
	set +e
	if [ "$rc" -eq 0 ] && ! _scenario_check; then
		rc=1
	fi
	_kill_all
	for ((i = ${#_ON_EXIT[@]} - 1; i >= 0; i--)); do
		eval "${_ON_EXIT[i]}" >/dev/null 2>&1
	done
	if ! _san_check && [ "$rc" -eq 0 ]; then
		rc=1
	fi
	if [ "$rc" -ne 0 ]; then
		for log in "$T"/*.log; do
			[ -f "$log" ] || continue
			printf '\n----- last lines of %s -----\n' "$log" >&2
			tail -n 60 "$log" >&2
		done
		if [ -n "${DAVIT_ARTIFACTS:-}" ]; then
			mkdir -p "$DAVIT_ARTIFACTS/$TEST_NAME" &&
				cp "$T"/*.log "$DAVIT_ARTIFACTS/$TEST_NAME/" 2>/dev/null
		fi
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		printf 'KEEP=1: test dir kept: %s\n' "$T" >&2
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------- network --
# unused_port: prints a TCP port on 127.0.0.1 that nothing listens on
# (random in 20000..59999, checked with ss; racy by nature, like all of these).
unused_port() {
	local p i
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		if ! ss -Htan "sport = :$p" 2>/dev/null | grep -q . &&
			! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	fail "unused_port: no free port found"
}

# port_open PORT: true if something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# http_code URL [CURL_ARGS...]: prints the HTTP status code (000 on no answer).
http_code() {
	local url=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" "$url" || true
}

# start_git_http ROOTDIR PORT TOKEN
#   A smart-HTTP git server (lighttpd + git-http-backend as CGI) serving the
#   repos under ROOTDIR at http://127.0.0.1:PORT/<name>.git, fetch and push,
#   with HTTP basic auth: user x-access-token, password TOKEN (as GitHub).
#   Logs: $T/git-http-PORT.log. Returns once it answers.
start_git_http() {
	local root=${1:-} port=${2:-} token=${3:-} conf users
	if [ -z "$root" ] || [ -z "$port" ] || [ -z "$token" ]; then
		fail "usage: start_git_http ROOTDIR PORT TOKEN"
	fi
	[ -d "$root" ] || fail "start_git_http: no directory $root"
	[[ $token != *[:$'\n']* ]] || fail "start_git_http: TOKEN must not contain ':' or a newline"
	command -v lighttpd >/dev/null || fail "start_git_http: lighttpd not installed (scripts/setup.sh)"
	[ -x /usr/lib/git-core/git-http-backend ] || fail "start_git_http: /usr/lib/git-core/git-http-backend missing"
	root=$(cd "$root" && pwd)
	users=$T/git-http-$port.users
	conf=$T/git-http-$port.conf
	(umask 077 && printf 'x-access-token:%s\n' "$token" >"$users")
	cat >"$conf" <<EOF
server.modules = ("mod_alias", "mod_setenv", "mod_auth", "mod_authn_file", "mod_cgi")
server.document-root = "$root"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$T/git-http-$port.log"
server.max-request-size = 0
alias.url = ("/" => "/usr/lib/git-core/git-http-backend/")
cgi.assign = ("" => "")
setenv.add-environment = (
	"GIT_PROJECT_ROOT" => "$root",
	"GIT_HTTP_EXPORT_ALL" => "1",
	"GIT_CONFIG_NOSYSTEM" => "1",
	"GIT_CONFIG_GLOBAL" => "$GIT_CONFIG_GLOBAL",
)
auth.backend = "plain"
auth.backend.plain.userfile = "$users"
auth.require = ("/" => ("method" => "basic", "realm" => "git", "require" => "valid-user"))
EOF
	lighttpd -tt -f "$conf" >"$T/git-http-$port.conftest.log" 2>&1 ||
		fail "start_git_http: bad lighttpd config: $(cat "$T/git-http-$port.conftest.log")"
	start_bg "git-http-$port.out" lighttpd -D -f "$conf"
	GIT_HTTP_PID=$BG_PID; export GIT_HTTP_PID
	wait_for -t 15 _answers_401 "$port" ||
		fail "start_git_http: lighttpd on port $port does not answer (see $T/git-http-$port.log)"
}
_answers_401() {
	[ "$(http_code "http://127.0.0.1:$1/")" = 401 ]
}

# start_cut_server PORT
#   A server on 127.0.0.1:PORT that reads a request, answers "200 OK" with a
#   Content-Length of 4096 and a smart-HTTP info/refs content type, sends a
#   few bytes of the body and closes the connection: a server that cuts the
#   connection mid-transfer. Each connection appends a line to
#   $T/cut-PORT.hits (request line), so tests can check they were reached.
start_cut_server() {
	local port=${1:-} handler
	[ -n "$port" ] || fail "usage: start_cut_server PORT"
	handler=$T/cut-$port.sh
	cat >"$handler" <<'EOF'
#!/usr/bin/env bash
hits=$1
IFS= read -r reqline || exit 0
printf '%s\n' "${reqline%$'\r'}" >>"$hits"
while IFS= read -r line; do
	line=${line%$'\r'}
	[ -n "$line" ] || break
done
ctype=application/x-git-upload-pack-advertisement
case $reqline in
*receive-pack*) ctype=application/x-git-receive-pack-advertisement ;;
esac
printf 'HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: 4096\r\nCache-Control: no-cache\r\n\r\n' "$ctype"
printf '001e# service=git-upload-pack\n0000'
printf '009b3f1e'
sleep 0.1
exit 0
EOF
	chmod 0755 "$handler"
	: >"$T/cut-$port.hits"
	start_bg "cut-$port" socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" \
		"EXEC:$handler $T/cut-$port.hits"
	CUT_PID=$BG_PID; export CUT_PID
	# (port_open's probe sends no request, so it is not counted as a hit)
	wait_for -t 10 port_open "$port" || fail "start_cut_server: nothing listens on $port"
}

# ---------------------------------------------------------------- davit --
# write_env FILE KEY=VALUE...: writes FILE (mode 0600), one KEY=VALUE line
# per argument, written as given (quote values yourself if they need it).
write_env() {
	local file=${1:-} kv
	[ -n "$file" ] || fail "usage: write_env FILE KEY=VALUE..."
	shift
	(umask 077 && : >"$file")
	chmod 0600 "$file"
	for kv in "$@"; do
		[[ $kv == [A-Za-z_]*=* ]] || fail "write_env: '$kv' is not KEY=VALUE"
		printf '%s\n' "$kv" >>"$file"
	done
}

# write_davit_env FILE KEY=VALUE...: like write_env, with defaults that keep
# davit inside $T: DAVIT_SOCKET=$T/backend.sock, DAVIT_STATE_DIR=$T/state,
# DAVIT_AUDIT_LOG=$T/audit.jsonl, DAVIT_LISTEN=127.0.0.1:<unused port>,
# DAVIT_POLL_INTERVAL=0, DAVIT_PASSWORD=test-password, DAVIT_USER=davit.
# Arguments override defaults of the same KEY. With DAVIT_PROJECTS_DIR and
# no DAVIT_WORKDIR (several projects) DAVIT_POLL_INTERVAL is left out: it is
# a project key, for each NAME.env.
write_davit_env() {
	local file=${1:-} kv key
	[ -n "$file" ] || fail "usage: write_davit_env FILE KEY=VALUE..."
	shift
	local -A given=()
	for kv in "$@"; do
		given[${kv%%=*}]=1
	done
	local defaults=(
		"DAVIT_SOCKET=$T/backend.sock"
		"DAVIT_STATE_DIR=$T/state"
		"DAVIT_AUDIT_LOG=$T/audit.jsonl"
		"DAVIT_LISTEN=127.0.0.1:$(unused_port)"
		"DAVIT_POLL_INTERVAL=0"
		"DAVIT_PASSWORD=test-password"
		"DAVIT_USER=davit"
	)
	local all=()
	for kv in "${defaults[@]}"; do
		key=${kv%%=*}
		[ -n "${given[$key]:-}" ] || all+=("$kv")
	done
	# several projects (DAVIT_PROJECTS_DIR without DAVIT_WORKDIR): the
	# poll interval is a project key, each NAME.env's own
	if [ -n "${given[DAVIT_PROJECTS_DIR]:-}" ] && [ -z "${given[DAVIT_WORKDIR]:-}" ]; then
		local keep=()
		for kv in "${all[@]}"; do
			[ "${kv%%=*}" = DAVIT_POLL_INTERVAL ] || keep+=("$kv")
		done
		all=("${keep[@]}")
	fi
	mkdir -p "$T/state"
	write_env "$file" "${all[@]}" "$@"
}

# env_get FILE KEY: prints the last value of KEY in a .env file (simple
# KEY=VALUE lines; surrounding quotes removed), empty if absent.
env_get() {
	local v
	v=$(sed -n "s/^[[:space:]]*\(export[[:space:]]\+\)\?$2[[:space:]]*=[[:space:]]*//p" "$1" | tail -n 1)
	v=${v%$'\r'}
	case $v in
	\"*\") v=${v:1:${#v}-2} ;;
	\'*\') v=${v:1:${#v}-2} ;;
	esac
	printf '%s' "$v"
}

# trusted_bin_dir: sets TBIN to a new directory for fake compose commands,
# one davit trusts to run as root: root's, mode 0755, in /var/lib/davit-test
# (not under /tmp, which others can write). Removed at exit. Files put in it
# must be root's and not writable by group or others (chmod 0755).
trusted_bin_dir() {
	install -d -o root -g root -m 0755 /var/lib/davit-test
	TBIN=$(mktemp -d /var/lib/davit-test/"$TEST_NAME".XXXXXX)
	chmod 0755 "$TBIN"
	on_exit "rm -rf '$TBIN'"
	export TBIN
}

# davit_start_backend ENVFILE [ARGS...]
#   Starts "$DAVIT_BUILD/backend/davit-backend --config ENVFILE ARGS..." in the
#   background (stdout+stderr to $T/backend.log), waits up to 15 s for its
#   socket (DAVIT_SOCKET of ENVFILE, default /run/davit/backend.sock).
#   Sets SOCK (socket path) and DAVIT_BACKEND_PID. Its log is scanned for
#   sanitizer reports at exit.
davit_start_backend() {
	local envfile=${1:-} bin=$DAVIT_BUILD/backend/davit-backend deadline
	[ -n "$envfile" ] || fail "usage: davit_start_backend ENVFILE [ARGS...]"
	shift
	[ -x "$bin" ] || fail "davit_start_backend: $bin not built (DAVIT_BUILD=$DAVIT_BUILD)"
	[ -f "$envfile" ] || fail "davit_start_backend: no env file $envfile"
	SOCK=$(env_get "$envfile" DAVIT_SOCKET)
	SOCK=${SOCK:-/run/davit/backend.sock}
	export SOCK
	_SAN_LOGS+=("$T/backend.log")
	start_bg backend "$bin" --config "$envfile" "$@"
	DAVIT_BACKEND_PID=$BG_PID
	deadline=$((SECONDS + 15))
	until [ -S "$SOCK" ]; do
		if ! kill -0 "$DAVIT_BACKEND_PID" 2>/dev/null || _is_zombie "$DAVIT_BACKEND_PID"; then
			local st=0
			wait "$DAVIT_BACKEND_PID" 2>/dev/null || st=$?
			fail "davit_start_backend: backend exited (status $st) before creating $SOCK; log: $(tail -n 20 "$T/backend.log")"
		fi
		[ "$SECONDS" -lt "$deadline" ] ||
			fail "davit_start_backend: no socket $SOCK after 15 s; log: $(tail -n 20 "$T/backend.log")"
		sleep 0.1
	done
}

# davit_stop_backend [SECONDS]: SIGTERM to the backend, waits (default 15 s,
# then SIGKILL and fail). Sets DAVIT_BACKEND_STATUS to its exit status; fails
# on sanitizer reports in its log.
davit_stop_backend() {
	local secs=${1:-15}
	[ -n "${DAVIT_BACKEND_PID:-}" ] || fail "davit_stop_backend: backend not started"
	stop_pid "$DAVIT_BACKEND_PID" "$secs"
	DAVIT_BACKEND_STATUS=$STOP_STATUS
	if kill -0 "$DAVIT_BACKEND_PID" 2>/dev/null && ! _is_zombie "$DAVIT_BACKEND_PID"; then
		fail "davit_stop_backend: backend still running"
	fi
	DAVIT_BACKEND_PID=
	check_sanitizer_logs
	[ "$DAVIT_BACKEND_STATUS" -ne 137 ] || fail "davit_stop_backend: backend ignored SIGTERM for ${secs}s"
}

# proto LINE: sends LINE (one JSON request) to $SOCK, prints the reply
# line(s). socat waits up to $PROTO_TIMEOUT s after sending for the reply.
proto() {
	[ -n "${SOCK:-}" ] || fail "proto: SOCK is not set (davit_start_backend sets it)"
	printf '%s\n' "$1" | socat -t "$PROTO_TIMEOUT" - "UNIX-CONNECT:$SOCK"
}

# proto_as USER LINE: same, connecting as another user (e.g. davit, nobody).
proto_as() {
	[ -n "${SOCK:-}" ] || fail "proto_as: SOCK is not set"
	printf '%s\n' "$2" | runuser -u "$1" -- socat -t "$PROTO_TIMEOUT" - "UNIX-CONNECT:$SOCK"
}

# frontend_needs: what the frontend tests need (sets FE_BIN, the built
# davit-frontend; python3; the user davit), or fail saying which is missing.
frontend_needs() {
	FE_BIN=$DAVIT_BUILD/frontend/davit-frontend
	[ -x "$FE_BIN" ] || fail "$FE_BIN not built (DAVIT_BUILD=$DAVIT_BUILD)"
	command -v python3 >/dev/null || fail "python3 is needed"
	getent passwd davit >/dev/null || fail "no user davit (scripts/setup.sh)"
}

# backend_up [URL] / backend_down [URL]: the frontend at URL (default $URL)
# answers /healthz saying that its link to the backend is up / down.
backend_up() {
	[ "$(curl -s --max-time 5 "${1:-$URL}/healthz")" = '{"backend":"up"}' ]
}
backend_down() {
	[ "$(curl -s --max-time 5 "${1:-$URL}/healthz")" = '{"backend":"down"}' ]
}

# ---------------------------------------------------------- ops, jobs --
# req OP [ARGS]: sends {"id":1,"op":OP,"args":ARGS} (ARGS default {}) to
# $SOCK, prints the reply line. (submit and job_wait use _op_req: a script
# that names its own req, e.g. an HTTP one, does not change them.)
_op_req() {
	local args=${2:-}
	[ -n "$args" ] || args='{}'
	proto "{\"id\":1,\"op\":\"$1\",\"args\":$args}"
}
req() {
	_op_req "$@"
}

# submit OP [ARGS]: queues a job, prints its id (fails on an error reply).
submit() {
	local r
	r=$(_op_req "$@")
	jq -er '.result.job' <<<"$r" 2>/dev/null || fail "submit $1 ${2:-}: $r"
}

# preq OP PROJECT [ARGS]: a request naming a project (several projects);
# psubmit OP PROJECT [ARGS]: the same for a job, prints its id.
preq() {
	local args=${3:-'{}'}
	req "$1" "$(jq -c --arg p "$2" '. + {project:$p}' <<<"$args")"
}
psubmit() {
	local r
	r=$(preq "$@")
	jq -er '.result.job' <<<"$r" 2>/dev/null || fail "$1 for $2: $r"
}

# job_wait ID [SECONDS]: waits until job ID ended (succeeded or failed),
# prints job.get's result, compact; fails after SECONDS (default 180).
job_wait() {
	local id=${1:-} secs=${2:-180} r st deadline
	[ -n "$id" ] || fail "usage: job_wait ID [SECONDS]"
	deadline=$((SECONDS + secs))
	while :; do
		r=$(_op_req job.get "{\"job\":$id}")
		st=$(jq -r '.result.state' <<<"$r" 2>/dev/null || true)
		case $st in
		succeeded | failed)
			jq -c .result <<<"$r"
			return 0
			;;
		esac
		[ "$SECONDS" -lt "$deadline" ] || fail "job $id still '$st' after ${secs}s: $(_show "$r")"
		sleep 0.2
	done
}

# run_job OP [ARGS [SECONDS]]: submit + job_wait, prints the ended job.
run_job() {
	local id
	id=$(submit "$1" "${2:-}")
	job_wait "$id" "${3:-180}"
}

# job_state ID [SECONDS]: job_wait, printing only the final state.
job_state() {
	local j
	j=$(job_wait "$@")
	jq -r .state <<<"$j"
}

# ------------------------------------------------------------ scenarios --
# A script that holds several scenarios marks each one:
#
#     if scenario fetch_ff; then
#         ...
#     fi
#     if scenario pull_refusals fetch_ff; then    # builds on fetch_ff's state
#         ...
#     fi
#
# scenario NAME [NEEDS...]: true if NAME is selected: T_ONLY unset, or NAME
# matches the bash extended regex T_ONLY (e.g. T_ONLY='^fetch_ff$',
# T_ONLY='clone|poll'). A selected scenario whose NEEDS (scenarios earlier in
# the script whose state it builds on) did not run fails at once, naming the
# T_ONLY that selects them all. Code outside scenario blocks (fixtures, the
# backend's start) always runs. With T_ONLY set, a script in which it
# selected nothing fails at exit and lists its scenario names.
_SCEN_ALL=()      # every scenario named so far
_SCEN_RUN=()      # those that ran
declare -A _SCEN_NEEDS=()   # name -> all it builds on (its NEEDS and theirs)
scenario() {
	local name=${1:-} need ran n deps=
	[[ $name =~ ^[a-z0-9_]+$ ]] || fail "scenario: bad name '$name' (want [a-z0-9_]+)"
	shift
	_SCEN_ALL+=("$name")
	for need in "$@"; do
		deps+=" ${_SCEN_NEEDS[$need]:-} $need"
	done
	# shellcheck disable=SC2086 # split on purpose: a list of names
	deps=$(printf '%s\n' $deps | sort -u | tr '\n' '|')
	_SCEN_NEEDS[$name]=${deps//|/ }
	if [ -n "${T_ONLY:-}" ] && ! [[ $name =~ $T_ONLY ]]; then
		info "scenario $name: skipped (T_ONLY=$T_ONLY)"
		return 1
	fi
	for need in "$@"; do
		ran=0
		for n in "${_SCEN_RUN[@]}"; do
			[ "$n" != "$need" ] || ran=1
		done
		[ "$ran" = 1 ] ||
			fail "scenario $name needs scenario $need first: T_ONLY='^(${deps}$name)\$'"
	done
	_SCEN_RUN+=("$name")
	info "scenario $name"
	return 0
}

_scenario_check() {
	[ -n "${T_ONLY:-}" ] && [ "${#_SCEN_ALL[@]}" -gt 0 ] && [ "${#_SCEN_RUN[@]}" -eq 0 ] || return 0
	printf '%s FAIL [%s]: T_ONLY=%s selects none of its scenarios: %s\n' \
		"$(_ts)" "$TEST_NAME" "$T_ONLY" "${_SCEN_ALL[*]}" >&2
	return 1
}

# --------------------------------------------------------------- docker --
# ensure_docker: makes sure a Docker engine answers (scripts/dockerd.sh).
ensure_docker() {
	bash "$DAVIT_SRC/scripts/dockerd.sh" >/dev/null || fail "ensure_docker: no Docker engine (scripts/dockerd.sh failed)"
}

# unique_project [PREFIX]: prints a compose project name unique to this run.
unique_project() {
	local p=${1:-dvt}
	printf '%s%s%s\n' "$p" "$$" "$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
}

# app_owned DIR...: gives checkouts (or the empty or missing workdir's
# parent, for a clone) to $DEMO_APP_USER, an ordinary user: davit runs git as
# a checkout's owner and refuses root's. Run it again after the test's own
# git CLI (root) wrote into a checkout.
app_owned() {
	[ $# -gt 0 ] || fail "usage: app_owned DIR..."
	demo_give_app "$@" || fail "app_owned: cannot give $* to $DEMO_APP_USER"
}

# demo_app DIR PROJECT: make_demo_app plus cleanup at exit of the compose
# project (containers and images). Uses $PORT, or picks an unused port and
# sets (and exports) PORT to it.
demo_app() {
	if [ -z "${PORT:-}" ]; then
		PORT=$(unused_port)
	fi
	export PORT
	make_demo_app "$1" "$2" || fail "make_demo_app $1 $2 failed"
	on_exit compose_cleanup "$(printf '%q' "$2")" "$(printf '%q' "$1")"
}
