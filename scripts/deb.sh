#!/bin/sh
# deb.sh: the Debian packages of this tree, and lintian on them (make deb).
#   scripts/deb.sh [OUT]        (default build/deb)
# In a copy of the tree under OUT/src (debian/rules clean runs "make clean", which must
# not delete OUT): the source package (dpkg-source --build, for lintian's checks of
# debian/), then dpkg-buildpackage -us -uc -b. The .deb, .buildinfo, .changes, .dsc and
# source tarball are moved to OUT; lintian runs on all of them with info and pedantic
# tags shown. Exits 1 when the build fails or lintian reports an error or a warning.
set -eu
cd "$(dirname "$0")/.."
out=${1:-build/deb}
for t in dpkg-buildpackage dpkg-source dpkg-parsechangelog lintian dh; do
	command -v $t >/dev/null || { echo "deb.sh: $t is missing (scripts/deps.sh deb installs it)" >&2; exit 1; }
done
version=$(dpkg-parsechangelog -SVersion)
name=$(dpkg-parsechangelog -SSource)
src=$out/src
tree=$src/$name-$version
log=$out/build.log
t0=$(date +%s)

rm -rf "$out"
mkdir -p "$tree"
# the tree as a user has it: with git, its files (tracked or new, not ignored: no build
# output); otherwise all but the build directories
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done; :' sh |
		tar --null -T - -cf - | tar -xf - -C "$tree"
else
	tar --exclude=./build --exclude='./build-*' --exclude=./state --exclude=./.git -cf - . |
		tar -xf - -C "$tree"
fi

fail() {
	echo "FAIL deb: $*" >&2
	tail -n 40 "$log" | sed 's/^/     | /' >&2
	echo "     (full log: $log)" >&2
	exit 1
}
echo "deb: building $name $version in $tree (log: $log)"
(cd "$src" && dpkg-source --build "$name-$version") >"$log" 2>&1 || fail "dpkg-source --build failed"
(cd "$tree" && dpkg-buildpackage -us -uc -b -J2) >>"$log" 2>&1 || fail "dpkg-buildpackage failed"
mv "$src"/*.deb "$src"/*.buildinfo "$src"/*.changes "$src"/*.dsc "$src"/*.tar.* "$out"/
t1=$(date +%s)
for f in "$out"/*.deb; do
	printf '  %-50s %8s bytes\n' "$(basename "$f")" "$(stat -c %s "$f")"
done
echo "deb: built in $((t1 - t0)) s"

# lintian: errors and warnings fail; info, pedantic and overridden tags are shown
lint=$out/lintian.txt
lintian --display-info --pedantic --show-overrides "$out"/*.changes "$out"/*.dsc >"$lint" 2>"$out/lintian.err" ||
	{ [ -s "$lint" ] || { cat "$out/lintian.err" >&2; echo "FAIL deb: lintian did not run" >&2; exit 1; }; }
t2=$(date +%s)
count() { grep -c "^$1: " "$lint" || true; }
e=$(count E) w=$(count W) i=$(count I) p=$(count P) o=$(count O)
[ -s "$lint" ] && sed 's/^/     | /' "$lint"
echo "lintian: $e errors, $w warnings, $i info, $p pedantic, $o overridden ($((t2 - t1)) s)"
if [ "$e" != 0 ] || [ "$w" != 0 ]; then
	echo "FAIL deb: lintian reports errors or warnings" >&2
	exit 1
fi
echo "ok   deb: $(cd "$out" && ls *.deb | tr '\n' ' ')in $out"
