#!/usr/bin/env bash
# davit-git run by hand (as backend/git_run.c runs it: root, the owner's ids,
# the request on stdin), for what it leaves in the checkout:
# - status_refreshes_index: a checkout chowned after git wrote its index
#   (stale stat data: every file would be hashed by every status) gets its
#   index's stat data refreshed by one status run, as git status does; with
#   index.lock held by someone else the status still answers, the lock
#   untouched;
# - file_fetch_pack: a file:// fetch brings the new commits as one pack
#   (no delta search: gitchild/local.c) that reuses origin's packed data:
#   after `git repack -adf` in origin it holds deltas (OFS_DELTA in origin,
#   then REF_DELTA), git fsck --full clean, origin/main and FETCH_HEAD as
#   libgit2's fetch wrote them, progress lines; a fetch with nothing new
#   writes no pack; an index in origin that is not one is skipped with one
#   log line;
# - file_fetch_loose: origin's new objects loose (a push of one small
#   commit): they arrive whole, fsck clean;
# - file_fetch_base_in_checkout: a blob that origin holds as a delta on a
#   blob only the checkout gets arrives whole (no thin pack), fsck clean;
# - file_fetch_deep_chain: origin's delta chains deeper than davit-git's
#   bound (GC_REUSE_DEPTH, 64) are cut: no chain over 64 in the fetched
#   pack, fsck clean;
# - file_fetch_damaged_origin: a blob in origin's pack whose bytes inflate
#   (a whole zlib stream) to other content: the fetch fails with a clear
#   error, origin/main stays;
# - fetch_folds_packs: one small fetch after another, each a pack; past 50
#   packs the fetch folds the small ones into one (gitchild/repack.c):
#   fsck clean, every commit there, and an object no ref reaches, held only
#   by one of the small packs, still there.
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

# fetch_pack DIR: the child fetches origin into DIR, which gets one new
# pack ($new); $objs its objects, $deltas those stored as deltas (verify-pack
# -v: whole objects have 5 columns, deltas 7); git fsck --full clean
fetch_pack() {
	local d=$1
	ls "$d/.git/objects/pack/"*.pack | sort >"$T/packs.before"
	req="{\"op\":\"fetch\",\"workdir\":\"$d\",\"url\":\"file://$T/origin.git\",\"branch\":\"main\"}"
	out=$(child "$req")
	assert_contains "$out" '"ok":true' "fetch into $d: $(cat "$T/child.err")"
	ls "$d/.git/objects/pack/"*.pack | sort >"$T/packs.after"
	new=$(comm -13 "$T/packs.before" "$T/packs.after")
	[ "$(printf '%s\n' "$new" | grep -c .)" = 1 ] || fail "one new pack expected: $new"
	git -C "$d" verify-pack -v "${new%.pack}.idx" >"$T/verify.out"
	objs=$(awk '$2 ~ /^(commit|tree|blob)$/' "$T/verify.out" | wc -l)
	deltas=$(awk '$2 ~ /^(commit|tree|blob)$/ && NF > 5' "$T/verify.out" | wc -l)
	git -C "$d" fsck --full --strict >"$T/fsck.out" 2>&1 || fail "git fsck in $d: $(cat "$T/fsck.out")"
	[ -z "$(find "$d/.git/objects" -path '*/pack' -prune -o -type f -path '*/objects/??/*' -print)" ] ||
		fail "loose objects written in $d"
}

# seed_file FILE N TEXT MSG: $T/seed, a clone of origin at $TIP, with one
# commit MSG that adds FILE, N lines "line K of TEXT"
seed_file() {
	local k
	git clone -q "file://$T/origin.git" "$T/seed"
	git -C "$T/seed" reset -q --hard "$TIP"
	for ((k = 0; k < $2; k++)); do
		echo "line $k of $3"
	done >"$T/seed/$1"
	git -C "$T/seed" add "$1"
	git -C "$T/seed" commit -qm "$4"
}

# clone_at DIR COMMIT: a checkout of origin's COMMIT, objects of its own
clone_at() {
	git -C "$T/origin.git" update-ref refs/heads/main "$2"
	git clone -q --no-local "file://$T/origin.git" "$1"
	app_owned "$1"
}

if scenario file_fetch_pack; then
	git -C "$T/origin.git" repack -adfq
	chmod -R a+rX "$T/origin.git"
	clone_at "$T/fe" "$(git -C "$T/origin.git" rev-parse "$TIP~20")"
	git -C "$T/origin.git" update-ref refs/heads/main "$TIP"
	fetch_pack "$T/fe"
	assert_contains "$out" "\"fetched\":\"$TIP\"" "fetched origin's tip"
	assert_contains "$out" '"behind":20' "20 commits behind"
	assert_contains "$(cat "$T/child.out")" '"received ' "the progress lines, as for a network fetch"
	assert_eq "$(git -C "$T/fe" rev-parse refs/remotes/origin/main)" "$TIP" "origin/main at the tip"
	assert_eq "$(cat "$T/fe/.git/FETCH_HEAD")" "$(printf '%s\t\tbranch %s of %s' "$TIP" "'main'" "file://$T/origin.git")" "FETCH_HEAD"
	assert_contains "$(git -C "$T/fe" reflog show --format=%gs refs/remotes/origin/main | head -n 1)" "davit: fetch" "the reflog says who"
	[ "$objs" -gt 20 ] || fail "the new pack holds $objs objects"
	[ "$deltas" -gt 0 ] || fail "no delta in the fetched pack ($objs objects): origin's were not reused"
	assert_eq "$(git -C "$T/fe" rev-list --objects "$(git -C "$T/fe" rev-parse "$TIP~20")..$TIP" | wc -l)" "$objs" "every new object in the pack"
	info "OFS_DELTA in origin: $deltas of $objs objects fetched as deltas"
	# nothing new: no pack
	packs=$(ls "$T/fe/.git/objects/pack/"*.pack | sort)
	out=$(child "$req")
	assert_contains "$out" '"ok":true' "second fetch: $(cat "$T/child.err")"
	assert_contains "$(cat "$T/child.out")" "nothing new" "second fetch logs nothing new"
	assert_eq "$(ls "$T/fe/.git/objects/pack/"*.pack | sort)" "$packs" "no pack for nothing new"
	# origin's deltas as REF_DELTA (git's format before OFS_DELTA)
	git -C "$T/origin.git" -c repack.useDeltaBaseOffset=false repack -adfq
	# an index beside them that is not one, and a copy of theirs without
	# its pack (read before theirs or after: readdir's order)
	real=$(ls "$T"/origin.git/objects/pack/pack-*.idx)
	head -c 2000 /dev/urandom >"$T/origin.git/objects/pack/pack-0000000000000000000000000000000000000000.idx"
	cp "$real" "$T/origin.git/objects/pack/pack-ffffffffffffffffffffffffffffffffffffffff.idx"
	chmod -R a+rX "$T/origin.git"
	clone_at "$T/fr" "$(git -C "$T/origin.git" rev-parse "$TIP~20")"
	git -C "$T/origin.git" update-ref refs/heads/main "$TIP"
	fetch_pack "$T/fr"
	assert_eq "$(git -C "$T/fr" rev-parse refs/remotes/origin/main)" "$TIP" "REF_DELTA: origin/main at the tip"
	[ "$deltas" -gt 0 ] || fail "REF_DELTA: no delta in the fetched pack ($objs objects)"
	assert_contains "$(cat "$T/child.out")" "not used (an index not of version 2, damaged, or without its pack), 0 entries" "the bad indexes: a log line"
	assert_eq "$(grep -c "origin's packs" "$T/child.out")" 1 "one line, not one per object"
	info "REF_DELTA in origin: $deltas of $objs objects fetched as deltas"
	rm -f "$T/origin.git/objects/pack/pack-0000000000000000000000000000000000000000.idx" \
		"$T/origin.git/objects/pack/pack-ffffffffffffffffffffffffffffffffffffffff.idx"
	pass "a file:// fetch reuses origin's deltas (OFS and REF) in one pack, origin/main and FETCH_HEAD"
fi

if scenario file_fetch_loose; then
	clone_at "$T/fl" "$TIP"
	git clone -q "file://$T/origin.git" "$T/seed"
	echo "one more line" >>"$T/seed/d0/f0.txt"
	git -C "$T/seed" -c user.name=t -c user.email=t@davit.invalid commit -qam "small"
	git -C "$T/seed" push -q origin HEAD:main
	small=$(git -C "$T/seed" rev-parse HEAD)
	rm -rf "$T/seed"
	chmod -R a+rX "$T/origin.git"
	[ -n "$(find "$T/origin.git/objects" -path '*/pack' -prune -o -type f -path '*/objects/??/*' -print)" ] ||
		fail "the push left no loose object in origin"
	fetch_pack "$T/fl"
	assert_eq "$(git -C "$T/fl" rev-parse refs/remotes/origin/main)" "$small" "origin/main at the small commit"
	assert_eq "$objs" 4 "a commit, two trees, a blob"
	assert_eq "$deltas" 0 "loose objects arrive whole"
	git -C "$T/origin.git" update-ref refs/heads/main "$TIP"
	pass "a file:// fetch of loose objects in origin: whole objects, fsck clean"
fi

if scenario file_fetch_base_in_checkout; then
	seed_file big.txt 400 "a big file that a fetch has once and then sees changed" big
	c1=$(git -C "$T/seed" rev-parse HEAD)
	# one line less: git's repack stores the larger, older one whole
	sed -i '/^line 200 /d' "$T/seed/big.txt"
	git -C "$T/seed" -c user.name=t -c user.email=t@davit.invalid commit -qam "one line less"
	c2=$(git -C "$T/seed" rev-parse HEAD)
	git -C "$T/seed" push -q -f origin HEAD:main
	rm -rf "$T/seed"
	git -C "$T/origin.git" repack -adfq
	chmod -R a+rX "$T/origin.git"
	old=$(git -C "$T/origin.git" rev-parse "$c1:big.txt")
	blob=$(git -C "$T/origin.git" rev-parse "$c2:big.txt")
	git -C "$T/origin.git" verify-pack -v "$T"/origin.git/objects/pack/pack-*.idx >"$T/origin.verify"
	assert_eq "$(awk -v b="$blob" '$1 == b { print NF, $7 }' "$T/origin.verify")" "7 $old" \
		"origin holds the new blob as a delta on the old one"
	clone_at "$T/fb" "$c1"
	git -C "$T/origin.git" update-ref refs/heads/main "$c2"
	fetch_pack "$T/fb"
	assert_eq "$(git -C "$T/fb" rev-parse refs/remotes/origin/main)" "$c2" "origin/main at the change"
	assert_eq "$(awk -v b="$blob" '$1 == b { print NF }' "$T/verify.out")" 5 "the blob whose base only the checkout has arrives whole"
	assert_eq "$objs" 3 "a commit, a tree, a blob"
	git -C "$T/origin.git" update-ref refs/heads/main "$TIP"
	pass "a delta on a base only the checkout has arrives whole, fsck clean"
fi

if scenario file_fetch_deep_chain; then
	git clone -q "file://$T/origin.git" "$T/seed"
	git -C "$T/seed" reset -q --hard "$TIP"
	# each commit changes one more line of the same file: a version is
	# nearest its neighbours, so git chains the deltas one on the next
	for ((k = 0; k < 100; k++)); do
		printf 'line %04d of a file of which each commit changes one line\n' "$k"
	done >"$T/seed/chain.txt"
	for ((c = 0; c < 100; c++)); do
		sed -i "$(( (c * 37) % 100 + 1 ))s/.*/line changed by commit $c, the others as they were/" "$T/seed/chain.txt"
		git -C "$T/seed" add chain.txt
		git -C "$T/seed" -c user.name=t -c user.email=t@davit.invalid commit -qm "chain $c"
	done
	git -C "$T/seed" push -q -f origin HEAD:main
	deep=$(git -C "$T/seed" rev-parse HEAD)
	rm -rf "$T/seed"
	git -C "$T/origin.git" repack -adfq --depth=250 --window=250
	chmod -R a+rX "$T/origin.git"
	git -C "$T/origin.git" verify-pack -v "$T"/origin.git/objects/pack/pack-*.idx >"$T/origin.verify"
	longest() { sed -n 's/^chain length = \([0-9]*\):.*/\1/p' "$1" | sort -n | tail -n 1; }
	[ "$(longest "$T/origin.verify")" -gt 64 ] || fail "origin's longest delta chain: $(longest "$T/origin.verify")"
	clone_at "$T/fd" "$TIP"
	git -C "$T/origin.git" update-ref refs/heads/main "$deep"
	fetch_pack "$T/fd"
	assert_eq "$(git -C "$T/fd" rev-parse refs/remotes/origin/main)" "$deep" "origin/main at the last commit"
	[ "$deltas" -ge 90 ] || fail "only $deltas deltas of $objs objects"
	[ "$(longest "$T/verify.out")" -le 64 ] || fail "a chain of $(longest "$T/verify.out") deltas in the fetched pack"
	info "origin's chains up to $(longest "$T/origin.verify"), the fetched pack's up to $(longest "$T/verify.out")"
	git -C "$T/origin.git" update-ref refs/heads/main "$TIP"
	pass "delta chains deeper than 64 are cut, fsck clean"
fi

if scenario file_fetch_damaged_origin; then
	seed_file damaged.txt 60 "a file whose packed bytes are about to change" damaged
	git -C "$T/seed" push -q -f origin HEAD:main
	dmg=$(git -C "$T/seed" rev-parse HEAD)
	blob=$(git -C "$T/seed" rev-parse HEAD:damaged.txt)
	rm -rf "$T/seed"
	git -C "$T/origin.git" repack -adfq
	chmod -R a+rX "$T/origin.git"
	pack=$(ls "$T"/origin.git/objects/pack/pack-*.pack)
	read -r nf off plen < <(git -C "$T/origin.git" verify-pack -v "${pack%.pack}.idx" |
		awk -v b="$blob" '$1 == b { print NF, $5, $4 }')
	assert_eq "$nf" 5 "origin holds the blob whole"
	cp -p "$pack" "$T/pack.good"
	# other content, compressed to the same length: only the id tells
	python3 - "$pack" "$off" "$plen" <<'PY' || fail "no same-length stream for the blob"
import sys, zlib
path, off, plen = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = bytearray(open(path, "rb").read())
h = off
while data[h] & 0x80:
    h += 1
h += 1
old = zlib.decompress(bytes(data[h:off + plen]))
for j in range(len(old)):
    for c in b"0123456789":
        if old[j] == c:
            continue
        new = old[:j] + bytes([c]) + old[j + 1:]
        for level in range(1, 10):
            z = zlib.compress(new, level)
            if len(z) == off + plen - h:
                data[h:off + plen] = z
                open(path, "wb").write(data)
                sys.exit(0)
sys.exit(1)
PY
	clone_at "$T/fx" "$TIP"
	git -C "$T/origin.git" update-ref refs/heads/main "$dmg"
	out=$(child "{\"op\":\"fetch\",\"workdir\":\"$T/fx\",\"url\":\"file://$T/origin.git\",\"branch\":\"main\"}")
	assert_contains "$out" '"ok":false' "the fetch of a damaged blob fails"
	assert_contains "$out" "object $blob did not arrive whole: origin's pack is damaged" "the error names the object"
	assert_eq "$(git -C "$T/fx" rev-parse refs/remotes/origin/main)" "$TIP" "origin/main stays"
	cp -p "$T/pack.good" "$pack"
	git -C "$T/origin.git" update-ref refs/heads/main "$TIP"
	pass "a blob damaged in origin's pack fails the fetch, origin/main stays"
fi

if scenario fetch_folds_packs; then
	git init -q --bare -b main "$T/fold.git"
	git clone -q "$T/fold.git" "$T/fold-seed" 2>/dev/null
	echo base >"$T/fold-seed/n.txt"
	git -C "$T/fold-seed" add n.txt
	git -C "$T/fold-seed" -c user.name=t -c user.email=t@davit.invalid commit -qm base
	git -C "$T/fold-seed" push -q origin HEAD:main
	chmod -R a+rX "$T/fold.git"
	git clone -q --no-local "file://$T/fold.git" "$T/ff"
	# an object no ref reaches, only in a small pack of its own
	lone=$(echo "reached by nothing" | git -C "$T/ff" hash-object -w --stdin)
	echo "$lone" | git -C "$T/ff" pack-objects -q "$T/ff/.git/objects/pack/pack" >/dev/null
	git -C "$T/ff" prune-packed
	app_owned "$T/ff"
	packs() { ls "$T/ff/.git/objects/pack/"*.pack | wc -l; }
	folded=0 most=0
	for ((k = 1; k <= 55; k++)); do
		echo "revision $k" >"$T/fold-seed/n.txt"
		git -C "$T/fold-seed" -c user.name=t -c user.email=t@davit.invalid commit -qam "r$k"
		git -C "$T/fold-seed" push -q origin HEAD:main
		chmod -R a+rX "$T/fold.git"
		out=$(child "{\"op\":\"fetch\",\"workdir\":\"$T/ff\",\"url\":\"file://$T/fold.git\",\"branch\":\"main\"}")
		assert_contains "$out" '"ok":true' "fetch $k: $(cat "$T/child.err")"
		grep -q '"log":"folded [0-9]* small packs into one' "$T/child.out" && folded=$((folded + 1))
		[ "$(packs)" -le "$most" ] || most=$(packs)
	done
	assert_eq "$folded" 1 "one fetch of the 55 folded the small packs"
	[ "$most" -le 51 ] || fail "the checkout held $most packs"
	[ "$(packs)" -le 10 ] || fail "$(packs) packs after the fold"
	assert_eq "$(git -C "$T/ff" rev-parse refs/remotes/origin/main)" "$(git -C "$T/fold-seed" rev-parse HEAD)" "origin/main at the last commit"
	git -C "$T/ff" fsck --full --strict >"$T/fsck.out" 2>&1 || fail "git fsck: $(cat "$T/fsck.out")"
	assert_eq "$(git -C "$T/ff" rev-list --count refs/remotes/origin/main)" 56 "every commit there"
	git -C "$T/ff" cat-file -e "$lone" || fail "the object no ref reaches was dropped"
	pass "past 50 packs a fetch folds the small ones into one: fsck clean, nothing dropped"
fi
