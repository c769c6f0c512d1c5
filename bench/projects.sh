#!/usr/bin/env bash
# bench/projects.sh [NPROJECTS]: one davit serving many projects on one
# engine, figures printed (nothing here is a timed test):
#
#   - NPROJECTS (default 50) projects of 10 services each (FROM scratch
#     busybox, network_mode none), one NAME.env each in DAVIT_PROJECTS_DIR;
#     the containers are made with `docker run` and compose's labels (what
#     davit reads), which is much faster than 50 `compose up`;
#   - services.list for one project and projects.list: median and p99 of
#     1,000 calls on one connection (goals: under 0.1 ms and under 1 ms),
#     beside the engine's own GET /containers/json for that project in the
#     same run;
#   - GET /api/state?project=NAME against GET /healthz with wrk (goal: at
#     least 50% of /healthz's requests per second);
#   - the backend's PSS (/proc/PID/smaps_rollup) idle with 1 project and with
#     NPROJECTS: the growth per project (goal: under 200 KiB);
#   - a burst of restarts of every container (500 with 50 projects, 16
#     docker clients at once): after it, every project's services.list is
#     compared with the engine's own state of each container (id, state,
#     start time) until they agree (2 minutes at most): stale entries
#     counted (goal: none), and when the first comparison that agreed began
#     (a comparison itself takes seconds with 500 containers).
#
# Uses $DAVIT_BUILD's binaries (default: build/, optimised, no sanitizers),
# starts dockerd if none runs, removes everything it made.
set -euo pipefail

NPROJ=${1:-50}
case $NPROJ in '' | *[!0-9]*) echo "usage: bench/projects.sh [NPROJECTS]" >&2; exit 2 ;; esac
[ "$NPROJ" -ge 2 ] || { echo "projects.sh: at least 2 projects" >&2; exit 2; }
NSVC=10
N=1000

SRC=$(cd "$(dirname "$0")/.." && pwd)
export DAVIT_BUILD=${DAVIT_BUILD:-$SRC/build}
# shellcheck source=../tests/integration/lib.sh
. "$SRC/tests/integration/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
command -v jq >/dev/null || fail "jq is needed"
command -v wrk >/dev/null || fail "wrk is not installed (apt-get install wrk)"
ensure_docker

RUN=$(unique_project dvpb)
IMG=$RUN-img
mkdir -p "$T/img"
cp "$DEMO_BUSYBOX" "$T/img/busybox"
cat >"$T/img/Dockerfile" <<EOF
FROM scratch
LABEL davit.bench="$RUN"
COPY busybox /bin/busybox
CMD ["/bin/busybox", "sh", "-c", "trap 'exit 0' TERM INT; while :; do /bin/busybox sleep 1 & wait \$!; done"]
EOF

cleanup_projects() {
	local ids
	ids=$(docker ps -aq --filter "label=davit.bench=$RUN") || true
	# shellcheck disable=SC2086
	[ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
	docker rmi -f "$IMG" >/dev/null 2>&1 || true
}
on_exit cleanup_projects

info "building $IMG"
docker build -q -t "$IMG" "$T/img" >/dev/null || fail "docker build failed"

# project i: workdir $T/pI with a compose file naming the image, compose
# project ${RUN}pI, services s01..s10, containers made directly
services=$(seq -f 's%02g' -s, 1 $NSVC)
mkdir -p "$T/projects.d" "$T/run"
chmod 0700 "$T/projects.d"
info "making $NPROJ projects of $NSVC containers each"
for i in $(seq 1 "$NPROJ"); do
	name=p$i
	dir=$T/$name
	mkdir -p "$dir"
	{
		echo 'version: "2.4"'
		echo 'services:'
		for s in ${services//,/ }; do
			printf '  %s:\n    image: %s\n    network_mode: none\n' "$s" "$IMG"
		done
	} >"$dir/docker-compose.yml"
	git -C "$dir" init -q -b main && git -C "$dir" add -A &&
		git -C "$dir" -c user.name=bench -c user.email=bench@localhost commit -qm init ||
		fail "git init $dir"
	write_env "$T/projects.d/$name.env" "DAVIT_WORKDIR=$dir" DAVIT_POLL_INTERVAL=0 \
		"DAVIT_SERVICES=$services" "DAVIT_COMPOSE_PROJECT=${RUN}p$i"
	for s in ${services//,/ }; do
		docker run -d -q --network none --name "${RUN}p${i}_${s}_1" \
			--label "davit.bench=$RUN" \
			--label "com.docker.compose.project=${RUN}p$i" \
			--label "com.docker.compose.service=$s" \
			--label com.docker.compose.oneoff=False \
			--label com.docker.compose.container-number=1 \
			"$IMG" >/dev/null || fail "docker run ${RUN}p${i}_$s"
	done
done
# (the checkouts only: "$T"/p* would take projects.d too)
app_owned $(seq -f "$T/p%g" 1 "$NPROJ")

LISTEN=127.0.0.1:$(unused_port)
URL=http://$LISTEN
PASSWORD=bench-$RANDOM
start_davit() { # start_davit PROJECTS_DIR
	write_davit_env "$T/davit.env" \
		"DAVIT_SOCKET=$T/run/backend.sock" "DAVIT_LISTEN=$LISTEN" \
		"DAVIT_PROJECTS_DIR=$1" "DAVIT_WWW_DIR=$SRC/www" \
		"DAVIT_PASSWORD=$PASSWORD"
	davit_start_backend "$T/davit.env"
	wait_for -t 30 backend_up "$URL" || fail "davit does not answer on $URL"
}
pss_kib() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup"; }
# settled PSS: after the engine's first list and a quiet second
idle_pss() {
	sleep 2
	pss_kib "$DAVIT_BACKEND_PID"
}

# ------------------------------------------------------ PSS with one project --
mkdir -p "$T/one.d"
chmod 0700 "$T/one.d"
cp "$T/projects.d/p1.env" "$T/one.d/"
start_davit "$T/one.d"
pss_one=$(idle_pss)
davit_stop_backend

# ------------------------------------------------------------ all projects --
start_davit "$T/projects.d"
count=$(proto '{"id":1,"op":"projects.list"}' | jq '.result.projects | length')
[ "$count" = "$NPROJ" ] || fail "projects.list holds $count projects, not $NPROJ"
all_listed() {
	[ "$(proto '{"id":1,"op":"services.list","args":{"project":"p'"$NPROJ"'"}}' |
		jq '[.result.services[] | select(.state == "running")] | length')" = "$NSVC" ]
}
wait_for -t 60 all_listed || fail "the last project's services are not all running in davit"
pss_all=$(idle_pss)

api=$(proto '{"id":1,"op":"services.list","args":{"project":"p1"}}' | jq -r .result.engine.api_version)
filters=$("$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' \
	"{\"label\":[\"com.docker.compose.project=${RUN}p1\"]}")
path="/v$api/containers/json?all=1&filters=$filters"

results=$T/results
: >"$results"
info "services.list x $N, projects.list x $N, engine list x $N"
"$PY" "$SRC/bench/services_list.py" davit "$SOCK" "$N" "$NSVC" services_list p1 >>"$results"
"$PY" "$SRC/bench/services_list.py" projects "$SOCK" "$N" "$NPROJ" projects_list >>"$results"
"$PY" "$SRC/bench/services_list.py" engine /var/run/docker.sock "$N" "$path" engine >>"$results"

# ------------------------------------------------------------------- HTTP --
curl -s -c "$T/jar" -X POST -H 'Content-Type: application/json' \
	--data-binary "{\"password\":\"$PASSWORD\"}" "$URL/api/login" >/dev/null
SID=$(awk '$6 == "davit_session" { print $7 }' "$T/jar")
[ -n "$SID" ] || fail "login failed"
# /api/state?project= needs a frontend that knows it (without it, with
# several projects, /api/state is a 400): else the HTTP figure is skipped
st_body=$(curl -s -b "$T/jar" "$URL/api/state?project=p1") || true
http_ok=0
if [ "$(jq -r '.project.name // empty' <<<"$st_body" 2>/dev/null)" = p1 ]; then
	http_ok=1
else
	info "GET /api/state?project=p1 does not answer p1's state ($(head -c 200 <<<"$st_body")): the HTTP figure is skipped"
fi
wrk_rps() { # wrk_rps URL [HEADER]
	local out
	if [ -n "${2:-}" ]; then
		out=$(wrk -t2 -c64 -d10s -H "$2" "$1")
	else
		out=$(wrk -t2 -c64 -d10s "$1")
	fi
	! grep -q 'Non-2xx' <<<"$out" || fail "$1: some answers were not 2xx"
	awk '/^Requests\/sec:/ { printf "%d", $2 }' <<<"$out"
}
if [ "$http_ok" = 1 ]; then
	info "wrk: /healthz and /api/state?project=p1, 10 s each"
	hz_rps=$(wrk_rps "$URL/healthz")
	st_rps=$(wrk_rps "$URL/api/state?project=p1" "Cookie: davit_session=$SID")
fi

# ------------------------------------------------- a burst of restarts --
ncont=$((NPROJ * NSVC))
info "restarting all $ncont containers at once (16 docker clients at a time)"
# one `docker restart` of all of them restarts one after the other (a
# second each here: minutes, no burst); 16 clients of 10 containers each
tb=$(date +%s%N)
docker ps -aq --filter "label=davit.bench=$RUN" |
	xargs -P 16 -n 10 docker restart -t 0 >/dev/null || fail "docker restart failed"
t0=$(date +%s%N)
burst_ms=$(((t0 - tb) / 1000000))
# engine's view: name -> "id state startedAt"
engine_view() {
	# shellcheck disable=SC2046
	docker inspect --format '{{index .Config.Labels "com.docker.compose.project"}} {{index .Config.Labels "com.docker.compose.service"}} {{.Id}} {{.State.Status}} {{.State.StartedAt}}' \
		$(docker ps -aq --filter "label=davit.bench=$RUN") | sort
}
davit_view() {
	local i
	for i in $(seq 1 "$NPROJ"); do
		proto '{"id":1,"op":"services.list","args":{"project":"p'"$i"'"}}' |
			jq -r --arg p "${RUN}p$i" '.result.services[] | "\($p) \(.service) \(.id) \(.state) \(.started_at)"'
	done | sort
}
# started_at: the engine has nanoseconds, davit milliseconds: compare the
# second and the state and the id
norm() { awk '{ print $1, $2, substr($3, 1, 12), $4, substr($5, 1, 19) }'; }
stale() { comm -3 <(engine_view | norm) <(davit_view | norm) | wc -l; }
# each comparison takes a while itself (500 inspected, 50 services.list):
# the time printed is when the first comparison that agreed began
agreed_ms=never
nstale=
deadline=$((SECONDS + 120))
while [ "$SECONDS" -lt "$deadline" ]; do
	tc=$(date +%s%N)
	nstale=$(stale)
	if [ "$nstale" = 0 ]; then
		agreed_ms=$(((tc - t0) / 1000000))
		break
	fi
	sleep 0.2
done

# ----------------------------------------------------------------- report --
field() { # field LABEL KEY
	awk -v l="$1" -v k="$2" '$1 == l { for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == k) print a[2] } }' "$results"
}
printf '\n%d projects x %d services on one engine (%s), %d cores\n' "$NPROJ" "$NSVC" \
	"$(docker version --format '{{.Server.Version}}')" "$(nproc)"
printf '%-46s %10s %10s %8s\n' "" "median ms" "p99 ms" "goal"
printf '%-46s %10s %10s %8s\n' "services.list, one project (davit)" \
	"$(field services_list median_ms)" "$(field services_list p99_ms)" "< 0.1"
printf '%-46s %10s %10s %8s\n' "projects.list (davit)" \
	"$(field projects_list median_ms)" "$(field projects_list p99_ms)" "< 1"
printf '%-46s %10s %10s %8s\n' "GET /containers/json, one project (engine)" \
	"$(field engine median_ms)" "$(field engine p99_ms)" ""
if [ "$http_ok" = 1 ]; then
	printf '\n/healthz %s req/s, /api/state?project=p1 %s req/s: %s%% (goal >= 50%%)\n' \
		"$hz_rps" "$st_rps" "$(awk -v a="$st_rps" -v b="$hz_rps" 'BEGIN { printf "%.0f", 100 * a / b }')"
else
	printf '\n/api/state?project=p1: skipped (the frontend does not know ?project= yet)\n'
fi
printf 'backend PSS idle: %d KiB with 1 project, %d KiB with %d: %.0f KiB per project (goal < 200)\n' \
	"$pss_one" "$pss_all" "$NPROJ" "$(awk -v a="$pss_all" -v b="$pss_one" -v n="$NPROJ" 'BEGIN { print (a - b) / (n - 1) }')"
printf 'after restarting %d containers (in %d ms): the first comparison that agreed began %s ms after; stale entries: %s (goal 0)\n' \
	"$ncont" "$burst_ms" "$agreed_ms" "$nstale"
davit_stop_backend
