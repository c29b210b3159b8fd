#!/bin/sh
# install.sh: the Makefile as a packager uses it, and the tree make install leaves.
#   tests/install.sh [BUILD]          (make install-test; make test runs it; needs root)
# In a temporary directory, never under / :
#   flags     CPPFLAGS, CFLAGS and LDFLAGS reach the compiler and the linker (also the
#             real dpkg-buildflags set: -D_FORTIFY_SOURCE=2, -fstack-protector-strong,
#             -z relro); a second make compiles nothing
#   destdir   make install DESTDIR=... PREFIX=/usr: every file, mode and owner; the plugin
#             symlink is relative and works; ExecStart follows BINDIR; the configuration is
#             0640 and, when the service group exists, readable by that group only
#   sysusers  systemd-sysusers and systemd-tmpfiles applied to the staged tree (--root):
#             user and group stswatch, home and /var/lib/stswatch 0750 stswatch:stswatch
#   verify    make install PREFIX=TMP; systemd-analyze verify of the installed units (the
#             daemon's, the timer and its service: their binary, settings and man pages)
#             says nothing, and does complain about a broken copy (the check can fail)
#   security  systemd-analyze security --offline=yes of stswatch.service and
#             stswatch-run.service: the exposure is printed and must be at most 1.5; a
#             copy without its sandbox scores above (the check can fail)
#   uninstall removes every installed file but the configuration
# Prints "ok ..." per expectation; exits 1 at the first failure.
set -u
cd "$(dirname "$0")/.."
build=${1:-build}
make=${MAKE:-make}
tmp=$(mktemp -d /tmp/stswatch-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"	# the service-user checks below read files under it
stage=$tmp/stage
log=$tmp/log

fail() {
	echo "FAIL install: $*" >&2
	[ -s "$log" ] && sed 's/^/     | /' "$log" | tail -n 30 >&2
	exit 1
}
ok() { echo "ok   install: $*"; }

m() {	# make with our build directory, quiet, output in $log
	$make --no-print-directory -s BUILD="$build" "$@" >"$log" 2>&1
}

[ "$(id -u)" = 0 ] || { echo "install.sh: needs root (owners, systemd-tmpfiles --root)" >&2; exit 1; }
for t in systemd-analyze systemd-sysusers systemd-tmpfiles setpriv realpath; do
	command -v $t >/dev/null || fail "$t is missing (scripts/deps.sh test installs it)"
done

# ---- flags ------------------------------------------------------------------------------
m -B -n V=1 CPPFLAGS=-DSTSWATCH_CPP_PROBE "$build/obj/lib/str.o" ||
	fail "make -n CPPFLAGS=... failed"
grep -q -- '-DSTSWATCH_CPP_PROBE' "$log" || fail "CPPFLAGS does not reach the compiler"
ok "CPPFLAGS reaches the compiler"
m -B -n V=1 CFLAGS='-O1 -g -DSTSWATCH_CFLAGS_PROBE' LDFLAGS=-Wl,--stswatch-ld-probe "$build/stswatch" ||
	fail "make -n CFLAGS=... LDFLAGS=... failed"
grep -q -- '-DSTSWATCH_CFLAGS_PROBE.* -c ' "$log" || fail "CFLAGS does not reach the compiler"
grep -- '-Wl,--stswatch-ld-probe' "$log" | grep -q -- "-o $build/stswatch" ||
	fail "LDFLAGS does not reach the link of $build/stswatch"
ok "CFLAGS reaches the compiler, LDFLAGS the linker"
if command -v dpkg-buildflags >/dev/null; then
	cppf=$(dpkg-buildflags --get CPPFLAGS) cf=$(dpkg-buildflags --get CFLAGS) \
		ldf=$(dpkg-buildflags --get LDFLAGS)
	m -B -n V=1 CPPFLAGS="$cppf" CFLAGS="$cf" LDFLAGS="$ldf" "$build/stswatch" ||
		fail "make -n with dpkg-buildflags failed"
	for f in -D_FORTIFY_SOURCE=2 -fstack-protector-strong -Wl,-z,relro; do
		grep -q -- "$f" "$log" || fail "dpkg-buildflags' $f is lost"
	done
	ok "dpkg-buildflags' -D_FORTIFY_SOURCE=2, -fstack-protector-strong, -Wl,-z,relro are used"
fi
m all || fail "make all failed"
m -n V=1 all "$build/tests/test_policy" "$build/tests/test_judge" || fail "make -n failed"
if grep -q -- ' -c ' "$log"; then
	fail "a second make compiles again: $(grep -- ' -c ' "$log" | head -n 2)"
fi
ok "a second make compiles nothing (unit test objects are kept)"

# ---- destdir ----------------------------------------------------------------------------
nogroup=stswatch-test-nogroup-$$
getent group "$nogroup" >/dev/null && fail "group $nogroup exists"
m install DESTDIR="$stage" PREFIX=/usr SERVICE_GROUP="$nogroup" || fail "make install DESTDIR failed"
grep -q "group $nogroup does not exist" "$log" && grep -q "chgrp $nogroup /etc/stswatch/stswatch.conf" "$log" ||
	fail "make install does not say how to give the configuration to the service group"
ok "without the service group, make install says what to run once it exists"
mode() { stat -c '%a %U:%G' "$1"; }
expect_file() {	# path mode owner:group
	[ -f "$stage$1" ] || fail "$1 is not installed"
	[ "$(mode "$stage$1")" = "$2" ] || fail "$1 is $(mode "$stage$1"), not $2"
}
expect_file /usr/bin/stswatch "755 root:root"
expect_file /usr/share/man/man1/stswatch.1 "644 root:root"
expect_file /usr/share/man/man1/check_mta_sts.1 "644 root:root"
expect_file /usr/share/man/man5/stswatch.conf.5 "644 root:root"
expect_file /usr/lib/systemd/system/stswatch.service "644 root:root"
expect_file /usr/lib/systemd/system/stswatch-run.service "644 root:root"
expect_file /usr/lib/systemd/system/stswatch-run.timer "644 root:root"
expect_file /usr/lib/sysusers.d/stswatch.conf "644 root:root"
expect_file /usr/lib/tmpfiles.d/stswatch.conf "644 root:root"
expect_file /etc/stswatch/stswatch.conf "640 root:root"
cmp -s "$stage/etc/stswatch/stswatch.conf" packaging/stswatch.conf ||
	fail "the installed configuration is not packaging/stswatch.conf"
"$stage/usr/bin/stswatch" config check -c "$stage/etc/stswatch/stswatch.conf" >"$log" 2>&1 &&
	grep -q 'valid: 0 domains' "$log" || fail "the installed configuration is not a valid one without domains"
ok "binary, man pages, units, sysusers.d, tmpfiles.d, configuration 0640 (valid, no domains) under DESTDIR"
link=$stage/usr/lib/nagios/plugins/check_mta_sts
[ -L "$link" ] || fail "check_mta_sts is not a symlink"
[ "$(readlink "$link")" = ../../../bin/stswatch ] ||
	fail "check_mta_sts points to $(readlink "$link"), not ../../../bin/stswatch"
out=$("$link" -V 2>&1)
[ "$out" = "check_mta_sts (stswatch $(sed -n 's/^VERSION := //p' Makefile))" ] ||
	fail "the staged check_mta_sts does not run as the plugin: $out"
ok "check_mta_sts -> ../../../bin/stswatch, relative, and runs as the plugin inside DESTDIR"
grep -qx 'ExecStart=/usr/bin/stswatch run --once --quiet' "$stage/usr/lib/systemd/system/stswatch-run.service" ||
	fail "ExecStart does not follow BINDIR: $(grep ExecStart "$stage/usr/lib/systemd/system/stswatch-run.service")"
grep -qx 'ExecStart=/usr/bin/stswatch run' "$stage/usr/lib/systemd/system/stswatch.service" ||
	fail "ExecStart does not follow BINDIR: $(grep ExecStart "$stage/usr/lib/systemd/system/stswatch.service")"
grep -q '@[A-Z]*@' "$stage"/usr/lib/systemd/system/stswatch*.service && fail "a template marker is left in a unit"
grep -qx '#LoadCredential=ops-webhook.secret:/etc/stswatch/ops-webhook.secret' \
	"$stage/usr/lib/systemd/system/stswatch.service" || fail "the LoadCredential= example does not follow SYSCONFDIR"
ok "ExecStart=/usr/bin/stswatch (BINDIR of PREFIX=/usr) in both services, LoadCredential= example under SYSCONFDIR, no marker left"
printf 'x\n' >"$stage/etc/stswatch/stswatch.conf.mark"
cp "$stage/etc/stswatch/stswatch.conf.mark" "$stage/etc/stswatch/stswatch.conf"
m install DESTDIR="$stage" PREFIX=/usr SERVICE_GROUP="$nogroup" || fail "a second make install failed"
cmp -s "$stage/etc/stswatch/stswatch.conf.mark" "$stage/etc/stswatch/stswatch.conf" ||
	fail "a second make install replaced the configuration"
ok "a second make install keeps the configuration"

# the service group exists (daemon stands in for stswatch, which this machine may lack)
m install DESTDIR="$tmp/stage2" PREFIX=/usr SERVICE_GROUP=daemon || fail "make install SERVICE_GROUP=daemon failed"
conf2=$tmp/stage2/etc/stswatch/stswatch.conf
[ "$(mode "$conf2")" = "640 root:daemon" ] || fail "with the group: configuration is $(mode "$conf2"), not 640 root:daemon"
setpriv --reuid=daemon --regid=daemon --init-groups "$tmp/stage2/usr/bin/stswatch" config check -c "$conf2" >"$log" 2>&1 ||
	fail "the service user cannot read the installed configuration"
if setpriv --reuid=nobody --regid=nogroup --clear-groups "$tmp/stage2/usr/bin/stswatch" config check -c "$conf2" >"$log" 2>&1; then
	fail "a user outside the service group reads the configuration"
fi
grep -q 'Permission denied' "$log" || fail "a user outside the service group fails for another reason than permission"
ok "with the service group: configuration 0640 root:GROUP, read by the service user, not by others"

# ---- sysusers, tmpfiles -----------------------------------------------------------------
systemd-sysusers --root="$stage" >"$log" 2>&1 || fail "systemd-sysusers --root failed"
pw=$(grep '^stswatch:' "$stage/etc/passwd") || fail "sysusers.d made no user stswatch"
gid=$(grep '^stswatch:' "$stage/etc/group" | cut -d: -f3) || fail "sysusers.d made no group stswatch"
uid=$(echo "$pw" | cut -d: -f3)
[ "$(echo "$pw" | cut -d: -f4)" = "$gid" ] || fail "user stswatch is not in group stswatch: $pw"
[ "$(echo "$pw" | cut -d: -f6)" = /var/lib/stswatch ] || fail "home of stswatch is not /var/lib/stswatch: $pw"
[ "$uid" -lt 1000 ] || fail "stswatch is not a system user: $pw"
ok "sysusers.d: system user and group stswatch, home /var/lib/stswatch ($pw)"
systemd-tmpfiles --root="$stage" --create >"$log" 2>&1 || fail "systemd-tmpfiles --root --create failed"
st=$(stat -c '%a %u:%g' "$stage/var/lib/stswatch" 2>/dev/null) || fail "tmpfiles.d made no /var/lib/stswatch"
[ "$st" = "750 $uid:$gid" ] || fail "/var/lib/stswatch is $st, not 750 $uid:$gid"
ok "tmpfiles.d: /var/lib/stswatch 0750 stswatch:stswatch"
for unit in "$stage"/usr/lib/systemd/system/stswatch.service "$stage"/usr/lib/systemd/system/stswatch-run.service; do
	grep -qx 'User=stswatch' "$unit" && grep -qx 'Group=stswatch' "$unit" &&
		grep -qx 'StateDirectory=stswatch' "$unit" && grep -qx 'StateDirectoryMode=0750' "$unit" ||
		fail "$(basename "$unit"): User=, Group=, StateDirectory= do not name what sysusers.d and tmpfiles.d make"
done
ok "both services run as the user sysusers.d makes, in the directory tmpfiles.d makes"

# ---- verify -----------------------------------------------------------------------------
prefix=$tmp/prefix
m install PREFIX="$prefix" SYSCONFDIR="$prefix/etc" SERVICE_GROUP="$nogroup" || fail "make install PREFIX=$prefix failed"
u=$prefix/lib/systemd/system
grep -qx "ExecStart=$prefix/bin/stswatch run --once --quiet" "$u/stswatch-run.service" ||
	fail "ExecStart does not follow PREFIX: $(grep ExecStart "$u/stswatch-run.service")"
[ -x "$prefix/lib/nagios/plugins/check_mta_sts" ] || fail "the plugin link under PREFIX does not resolve"
ok "make install PREFIX=TMP: units in PREFIX/lib/systemd/system, ExecStart=PREFIX/bin/stswatch"
# the units' Documentation=man:... pages are looked up in what was installed
MANPATH=$prefix/share/man systemd-analyze verify "$u/stswatch.service" "$u/stswatch-run.service" \
	"$u/stswatch-run.timer" >"$log" 2>&1 || fail "systemd-analyze verify failed"
[ -s "$log" ] && fail "systemd-analyze verify complains"
ok "systemd-analyze verify: stswatch.service, stswatch-run.service and the timer (and their man pages), not a word"
mkdir "$tmp/broken"
sed -e 's|^ExecStart=.*|ExecStart=/nonexistent/stswatch run|' -e 's|^Nice=5|Nice=5\nNoSuchSetting=1|' \
	"$u/stswatch-run.service" >"$tmp/broken/stswatch-run.service"
systemd-analyze verify --man=no "$tmp/broken/stswatch-run.service" >"$log" 2>&1
grep -q 'nonexistent' "$log" && grep -q 'NoSuchSetting' "$log" ||
	fail "systemd-analyze verify does not notice a broken unit (negative control)"
ok "systemd-analyze verify negative control: a missing binary and an unknown setting are reported"

# ---- security ---------------------------------------------------------------------------
exposure() {	# the overall exposure systemd-analyze gives the unit file $1
	systemd-analyze security --offline=yes "$1" >"$log" 2>&1 || fail "systemd-analyze security $1 failed"
	sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' "$log"
}
for n in stswatch.service stswatch-run.service; do
	x=$(exposure "$u/$n")
	[ -n "$x" ] || fail "systemd-analyze security printed no exposure for $n"
	awk -v x="$x" 'BEGIN { exit !(x <= 1.5) }' || fail "$n: exposure $x, above 1.5"
	ok "systemd-analyze security --offline=yes $n: exposure $x (at most 1.5)"
done
# negative control: the daemon's unit without its sandbox (and under another name, so
# that it is not mistaken for the installed one)
sed -n '1,/^# The sandbox/p' "$u/stswatch.service" >"$tmp/broken/stswatch-nosandbox.service"
x=$(exposure "$tmp/broken/stswatch-nosandbox.service")
awk -v x="$x" 'BEGIN { exit !(x > 1.5) }' || fail "security negative control: without the sandbox exposure $x"
ok "systemd-analyze security negative control: without its sandbox the service scores $x"
m uninstall PREFIX="$prefix" SYSCONFDIR="$prefix/etc" || fail "make uninstall PREFIX failed"

# ---- uninstall --------------------------------------------------------------------------
m uninstall DESTDIR="$stage" PREFIX=/usr || fail "make uninstall DESTDIR failed"
left=$(cd "$stage" && find . \( -type f -o -type l \) ! -path './etc/*' ! -path './var/*' | sort)
[ -z "$left" ] || fail "make uninstall left: $left"
[ -f "$stage/etc/stswatch/stswatch.conf" ] || fail "make uninstall removed the configuration"
left=$(cd "$prefix" && find . \( -type f -o -type l \) ! -path './etc/*' | sort)
[ -z "$left" ] || fail "make uninstall PREFIX left: $left"
ok "make uninstall removes every installed file but the configuration"
m all || fail "make all (units back to the default paths) failed"
echo "install.sh: all passed"
