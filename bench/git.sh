#!/usr/bin/env bash
# Git through davit against the git CLI, in the same run, on identical
# checkouts of a generated repository (about 5,000 commits and 2,000 files,
# made with git fast-import): fetch + fast-forward pull of the last 200
# commits over file://, then the latency of git.status (answered from memory)
# over 1,000 calls on one connection. Prints the figures; asserts nothing.
#
# Usage: bench/git.sh [ROUNDS]        (default 3; the median is reported)
# Env:   DAVIT_BUILD  a build dir, preferably without sanitizers
#                     (default: build-git, else build)
#        COMMITS (5000), FILES (2000), BEHIND (200)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${DAVIT_BUILD:-}" ]; then
	if [ -x "$ROOT/build-git/backend/davit-backend" ]; then
		DAVIT_BUILD=$ROOT/build-git
	else
		DAVIT_BUILD=$ROOT/build
	fi
fi
export DAVIT_BUILD
ROUNDS=${1:-3}
COMMITS=${COMMITS:-5000}
FILES=${FILES:-2000}
BEHIND=${BEHIND:-200}
export COMMITS FILES
# lib.sh gives the temp dir, its cleanup, and the backend's start and stop
. "$ROOT/tests/integration/lib.sh"
. "$ROOT/tests/integration/git_helpers.sh"

now_ms() { date +%s%3N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

info "davit: $DAVIT_BUILD/backend/davit-backend"
if nm -D "$DAVIT_BUILD/backend/davit-backend" 2>/dev/null | grep -q __asan_init; then
	info "warning: this build has AddressSanitizer: figures will be slow"
fi

# ------------------------------------------------------- the repository --
info "generating $COMMITS commits over $FILES files with git fast-import"
start=$(now_ms)
git init -q --bare "$T/origin.git"
python3 - <<'PY' | git -C "$T/origin.git" fast-import --quiet
import os, sys
out = sys.stdout.buffer
commits, files = int(os.environ["COMMITS"]), int(os.environ["FILES"])
mark = 0
def blob(data):
    global mark
    mark += 1
    out.write(b"blob\nmark :%d\ndata %d\n" % (mark, len(data)) + data + b"\n")
    return mark
def content(f, c):
    return (b"file %d, revision %d\n" % (f, c)) * 8
for c in range(commits):
    changed = range(files) if c == 0 else sorted({(c * 7 + k * 131) % files for k in range(3)})
    marks = [(f, blob(content(f, c))) for f in changed]
    msg = b"commit %d: touch %d files" % (c, len(marks))
    t = 1600000000 + c * 60
    out.write(b"commit refs/heads/main\n")
    out.write(b"committer Bench <bench@davit.invalid> %d +0000\n" % t)
    out.write(b"data %d\n%s\n" % (len(msg), msg))
    for f, m in marks:
        out.write(b"M 100644 :%d dir%02d/file%04d.txt\n" % (m, f // 100, f))
PY
tip=$(git -C "$T/origin.git" rev-parse main)
base=$(git -C "$T/origin.git" rev-parse "main~$BEHIND")
info "generated in $(($(now_ms) - start)) ms: $(git -C "$T/origin.git" rev-list --count main) commits, $(git -C "$T/origin.git" ls-tree -r main | wc -l) files"

# two identical checkouts at main~BEHIND, holding only what they need
checkouts() {
	local d
	rm -rf "$T/davit-app" "$T/git-app"
	git -C "$T/origin.git" update-ref refs/heads/main "$base"
	for d in davit-app git-app; do
		git clone -q --no-local "file://$T/origin.git" "$T/$d"
	done
	git -C "$T/origin.git" update-ref refs/heads/main "$tip"
	# settle both indexes: files written in the index's own second are
	# "racily clean" and would be hashed again by whoever looks first
	sleep 1.1
	for d in davit-app git-app; do
		git -C "$T/$d" update-index -q --refresh >/dev/null
	done
	app_owned "$T/davit-app"	# davit runs git as its owner, never root
}

write_davit_env "$T/davit.env" "DAVIT_WORKDIR=$T/davit-app" "DAVIT_SERVICES=web" \
	"DAVIT_REPO_URL=file://$T/origin.git"

# ms JSON FROM TO: milliseconds between two time members of a job
ms() {
	jq -r --arg a "$2" --arg b "$3" '
	    def t(f): (f | sub("\\.[0-9]+Z$"; "Z") | fromdate) * 1000 +
	        (f | capture("\\.(?<ms>[0-9]+)Z$").ms | tonumber);
	    t(.[$b]) - t(.[$a])' <<<"$1"
}

d_fetch=() d_pull=() d_total=() g_fetch=() g_merge=() g_total=()
for ((round = 1; round <= ROUNDS; round++)); do
	checkouts
	davit_start_backend "$T/davit.env" --no-frontend
	wait_for -t 20 bash -c "printf '%s\n' '{\"id\":1,\"op\":\"git.status\"}' | socat -t 5 - UNIX-CONNECT:$SOCK | jq -e '.result.local != null'" ||
		fail "no status"
	# davit: both jobs queued at once, timed by the jobs' own clocks
	f=$(submit git.fetch)
	p=$(submit git.pull)
	jf=$(job_wait "$f" 300)
	jp=$(job_wait "$p" 300)
	[ "$(jget "$jf" .state)" = succeeded ] || fail "davit fetch: $jf"
	[ "$(jget "$jp" .state)" = succeeded ] || fail "davit pull: $jp"
	[ "$(git -C "$T/davit-app" rev-parse HEAD)" = "$tip" ] || fail "davit: HEAD is not at the tip"
	# the pull was queued behind the fetch: it counts from its start;
	# the total from the fetch's submission to the pull's end
	ms_f=$(ms "$jf" created_at ended_at)
	ms_p=$(ms "$jp" started_at ended_at)
	ms_t=$(ms "$(jq -c --argjson p "$jp" '. + {pull_end: $p.ended_at}' <<<"$jf")" created_at pull_end)
	davit_stop_backend
	# the git CLI, same work
	g0=$(now_ms)
	git -C "$T/git-app" -c gc.auto=0 -c maintenance.auto=false fetch -q origin main
	g1=$(now_ms)
	git -C "$T/git-app" -c gc.auto=0 -c maintenance.auto=false merge -q --ff-only origin/main
	g2=$(now_ms)
	[ "$(git -C "$T/git-app" rev-parse HEAD)" = "$tip" ] || fail "git: HEAD is not at the tip"
	d_fetch+=("$ms_f") d_pull+=("$ms_p") d_total+=("$ms_t")
	g_fetch+=($((g1 - g0))) g_merge+=($((g2 - g1))) g_total+=($((g2 - g0)))
	info "round $round: davit fetch $ms_f + pull $ms_p = $ms_t ms; git fetch $((g1 - g0)) + merge --ff-only $((g2 - g1)) = $((g2 - g0)) ms"
done

mf=$(printf '%s\n' "${d_fetch[@]}" | median)
mp=$(printf '%s\n' "${d_pull[@]}" | median)
mt=$(printf '%s\n' "${d_total[@]}" | median)
gf=$(printf '%s\n' "${g_fetch[@]}" | median)
gm=$(printf '%s\n' "${g_merge[@]}" | median)
gt=$(printf '%s\n' "${g_total[@]}" | median)

# ------------------------------------------------- git.status latency --
davit_start_backend "$T/davit.env" --no-frontend
wait_for -t 20 bash -c "printf '%s\n' '{\"id\":1,\"op\":\"git.status\"}' | socat -t 5 - UNIX-CONNECT:$SOCK | jq -e '.result.local != null'" ||
	fail "no status"
lat=$(python3 - "$SOCK" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rb")
times = []
for i in range(1000):
    t0 = time.perf_counter()
    s.sendall(b'{"id":%d,"op":"git.status"}\n' % i)
    line = f.readline()
    times.append((time.perf_counter() - t0) * 1000)
    assert b'"ok":true' in line, line
times.sort()
print("%.3f %.3f %.3f" % (times[500], times[990], times[-1]))
PY
)
davit_stop_backend
read -r lat_med lat_p99 lat_max <<<"$lat"

echo
echo "git benchmark: $COMMITS commits, $FILES files, fetch + fast-forward of the last $BEHIND commits over file://"
echo "median of $ROUNDS rounds (ms):"
printf '  %-34s %8s %8s %8s\n' "" fetch pull total
printf '  %-34s %8s %8s %8s\n' "davit (git.fetch + git.pull jobs)" "$mf" "$mp" "$mt"
printf '  %-34s %8s %8s %8s\n' "git fetch && git merge --ff-only" "$gf" "$gm" "$gt"
awk -v a="$mt" -v b="$gt" 'BEGIN { printf "  davit / git CLI: %.2fx (goal: at most 1.5x)\n", (b > 0 ? a / b : 0) }'
awk -v a="$mf" -v b="$gf" 'BEGIN { printf "  fetch alone, davit / git CLI: %.2fx (goal: at most 1.5x)\n", (b > 0 ? a / b : 0) }'
printf '  davit-git loads %s shared objects at each start (-Dgit_static=true: fewer)\n' \
	"$(ldd "$DAVIT_BUILD/gitchild/davit-git" | grep -c '=>')"
echo "git.status over one connection, 1,000 calls: median $lat_med ms, p99 $lat_p99 ms, max $lat_max ms (goal: median under 1 ms)"
