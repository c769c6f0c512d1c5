#!/usr/bin/env bash
# davit-git run by hand (as backend/git_run.c runs it: root, the owner's ids,
# the request on stdin), for what it leaves in the checkout:
# - status_refreshes_index: a checkout chowned after git wrote its index
#   (stale stat data: every file would be hashed by every status) gets its
#   index's stat data refreshed by one status run, as git status does; with
#   index.lock held by someone else the status still answers, the lock
#   untouched;
# - file_fetch_pack: a file:// fetch brings the new commits as one pack of
#   whole objects (no delta search: gitchild/local.c), origin/main and
#   FETCH_HEAD as libgit2's fetch wrote them, progress lines, git fsck clean;
#   a fetch with nothing new writes no pack.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

GIT=$DAVIT_BUILD/gitchild/davit-git
[ -x "$GIT" ] || fail "no $GIT"
OUID=$(id -u "$DEMO_APP_USER")
OGID=$(id -g "$DEMO_APP_USER")

# child REQUEST-JSON: one run as the owner; its last line on stdout
child() {
	printf '%s\n' "$1" | "$GIT" --git-child "$OUID" "$OGID" >"$T/child.out" 2>"$T/child.err" || true
	tail -n 1 "$T/child.out"
}

# an origin of COMMITS commits over 20 files of similar text (deltas galore)
make_origin() {
	local o=$1 n=$2 c f
	git init -q --bare -b main "$o"
	git clone -q "$o" "$T/seed"
	for ((c = 0; c < n; c++)); do
		for ((f = c % 4; f < 20; f += 4)); do
			mkdir -p "$T/seed/d$((f / 10))"
			for ((k = 0; k < 12; k++)); do
				echo "file $f line $k: the same words in every revision, revision $c"
			done >"$T/seed/d$((f / 10))/f$f.txt"
		done
		git -C "$T/seed" add -A
		git -C "$T/seed" -c user.name=t -c user.email=t@davit.invalid commit -qm "commit $c"
	done
	git -C "$T/seed" push -q origin HEAD:main
	rm -rf "$T/seed"
	chmod -R a+rX "$o"
}

make_origin "$T/origin.git" 30
TIP=$(git -C "$T/origin.git" rev-parse main)

if scenario status_refreshes_index; then
	git -C "$T/origin.git" update-ref refs/heads/main "$TIP"
	git clone -q "file://$T/origin.git" "$T/st"
	sleep 1.1	# no racily clean entry: the stale uid is the point
	git -C "$T/st" update-index -q --refresh
	app_owned "$T/st"
	uid_of() { git -C "$T/st" ls-files --debug d0/f0.txt | sed -n 's/^ *uid: *\([0-9]*\).*/\1/p'; }
	assert_eq "$(uid_of)" 0 "the index records root's uid before"
	before=$(stat -c %Y.%y "$T/st/.git/index")
	out=$(child "{\"op\":\"status\",\"workdir\":\"$T/st\",\"branch\":\"main\"}")
	assert_contains "$out" '"ok":true' "status answers: $(cat "$T/child.err")"
	assert_contains "$out" '"dirty_total":0' "nothing is modified"
	assert_eq "$(uid_of)" "$OUID" "the index's stat data refreshed by the status"
	assert_ne "$(stat -c %Y.%y "$T/st/.git/index")" "$before" "the index was written"
	# someone else's index.lock: the status still answers, the lock stays
	echo held >"$T/st/.git/index.lock"
	chown "$OUID:$OGID" "$T/st/.git/index.lock"
	out=$(child "{\"op\":\"status\",\"workdir\":\"$T/st\",\"branch\":\"main\"}")
	assert_contains "$out" '"ok":true' "status with index.lock held: $(cat "$T/child.err")"
	assert_eq "$(cat "$T/st/.git/index.lock")" held "index.lock untouched"
	rm -f "$T/st/.git/index.lock"
	pass "status refreshes the index's stat data, and answers while index.lock is held"
fi

if scenario file_fetch_pack; then
	base=$(git -C "$T/origin.git" rev-parse main~20)
	git -C "$T/origin.git" update-ref refs/heads/main "$base"
	git clone -q --no-local "file://$T/origin.git" "$T/fe"
	git -C "$T/origin.git" update-ref refs/heads/main "$TIP"
	app_owned "$T/fe"
	ls "$T/fe/.git/objects/pack/"*.pack | sort >"$T/packs.before"
	req="{\"op\":\"fetch\",\"workdir\":\"$T/fe\",\"url\":\"file://$T/origin.git\",\"branch\":\"main\"}"
	out=$(child "$req")
	assert_contains "$out" '"ok":true' "fetch: $(cat "$T/child.err")"
	assert_contains "$out" "\"fetched\":\"$TIP\"" "fetched origin's tip"
	assert_contains "$out" '"behind":20' "20 commits behind"
	assert_contains "$(cat "$T/child.out")" '"received ' "the progress lines, as for a network fetch"
	assert_eq "$(git -C "$T/fe" rev-parse refs/remotes/origin/main)" "$TIP" "origin/main at the tip"
	assert_eq "$(cat "$T/fe/.git/FETCH_HEAD")" "$(printf '%s\t\tbranch %s of %s' "$TIP" "'main'" "file://$T/origin.git")" "FETCH_HEAD"
	assert_contains "$(git -C "$T/fe" reflog show --format=%gs refs/remotes/origin/main | head -n 1)" "davit: fetch" "the reflog says who"
	git -C "$T/fe" fsck --strict >"$T/fsck.out" 2>&1 || fail "git fsck: $(cat "$T/fsck.out")"
	ls "$T/fe/.git/objects/pack/"*.pack | sort >"$T/packs.after"
	new=$(comm -13 "$T/packs.before" "$T/packs.after")
	[ "$(printf '%s\n' "$new" | grep -c .)" = 1 ] || fail "one new pack expected: $new"
	# verify-pack -v: whole objects have 5 columns, deltas 7
	git -C "$T/fe" verify-pack -v "${new%.pack}.idx" >"$T/verify.out"
	objs=$(awk '$2 ~ /^(commit|tree|blob)$/' "$T/verify.out" | wc -l)
	deltas=$(awk '$2 ~ /^(commit|tree|blob)$/ && NF > 5' "$T/verify.out" | wc -l)
	[ "$objs" -gt 20 ] || fail "the new pack holds $objs objects"
	assert_eq "$deltas" 0 "no delta in the fetched pack ($objs objects)"
	[ -z "$(find "$T/fe/.git/objects" -path '*/pack' -prune -o -type f -path '*/objects/??/*' -print)" ] ||
		fail "loose objects written"
	# nothing new: no pack
	out=$(child "$req")
	assert_contains "$out" '"ok":true' "second fetch: $(cat "$T/child.err")"
	assert_contains "$(cat "$T/child.out")" "nothing new" "second fetch logs nothing new"
	ls "$T/fe/.git/objects/pack/"*.pack | sort >"$T/packs.again"
	assert_eq "$(cat "$T/packs.again")" "$(cat "$T/packs.after")" "no pack for nothing new"
	pass "a file:// fetch writes one pack of whole objects, origin/main and FETCH_HEAD"
fi
