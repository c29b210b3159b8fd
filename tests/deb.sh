#!/bin/bash
# deb.sh: the Debian packages as a user gets them (make deb-test; root; after make deb).
#   tests/deb.sh [DIR]            (DIR: where make deb left the packages, build/deb)
# Two rounds on this machine, each: apt-get install ./DIR/*.deb (dependencies resolve as
# for a user), upgrade over the same version, remove, purge.
#   round 1, as this machine is (no systemd as PID 1, no /run/systemd/system, so the
#     package scripts leave systemctl alone), with every check:
#     install   the user and group (system, nologin, home /var/lib/stswatch), owners and
#               modes of the configuration (a conffile, 0640 root:stswatch) and the state
#               directory (0750 stswatch:stswatch), no unit enabled, the plugin a copy of
#               the binary; debian/tests/smoke (stswatch --version, config check, the
#               service user reads the configuration and nobody does not,
#               check_mta_sts --help); one run --once as the service user writes its
#               database, and the daemon as its unit starts it reports READY=1 and
#               stops on SIGTERM; systemd-analyze verify of the installed units, their
#               systemd-analyze security exposure (at most 1.5); hardening-check of
#               /usr/bin/stswatch; nagios4 -v and icinga2 daemon -C on the installed
#               definitions (Debian's templates, cfg_dir, include <plugins-contrib>)
#     upgrade   a locally changed stswatch.conf and mta_sts.cfg and an admin's
#               statoverride survive a reinstall of the same version
#     remove    configuration, statoverride and database stay, programs and units go
#     purge     nothing of the packages is left (every path they shipped or made, the
#               statoverride, the units' enable state, dpkg's records): what is left is
#               listed and fails the test; the engines then reject the same
#               configurations (the engine checks can fail)
#   round 2, in a private mount namespace where /run/systemd/system exists but no
#     systemd answers (systemctl fails to connect): install, enable both units (as an
#     admin would, systemctl enable), reinstall (the scripts try to restart them), remove
#     (they try to stop them), purge (the enable links go); every step must succeed and
#     systemctl must have been tried.
# The user and group stswatch are kept by purge (Debian keeps system accounts: files they
# own may survive elsewhere, and a reused uid would own them); this test removes them
# afterwards when it created them, so that the machine is left as it was: the footprint
# (every path named after stswatch or mta_sts outside /work, /tmp, logs; the accounts;
# the statoverrides; dpkg's records) is compared before and after.
# Prints "ok ..." per expectation; exits 1 at the first failure.
set -u
cd "$(dirname "$0")/.." || exit 1
dir=$(realpath "${1:-build/deb}")
tmp=$(mktemp -d /tmp/stswatch-debtest.XXXXXX)
chmod 0755 "$tmp"
log=$tmp/log
conf=/etc/stswatch/stswatch.conf
state=/var/lib/stswatch
plugin=/usr/lib/nagios/plugins/check_mta_sts
ncfg=/etc/nagios-plugins/config/mta_sts.cfg
icfg=/usr/share/icinga2/include/plugins-contrib.d/mta_sts.conf
examples=/usr/share/doc/monitoring-plugins-mta-sts/examples
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -q -o DPkg::Lock::Timeout=300)
t_start=$(date +%s)

fail() {
	echo "FAIL deb-test: $*" >&2
	[ -s "$log" ] && sed 's/^/     | /' "$log" | tail -n 30 >&2
	cleanup
	exit 1
}
ok() { echo "ok   deb-test: $*"; }
mode() { stat -c '%a %U:%G' "$1" 2>/dev/null; }
expect_mode() {	# path "mode owner:group"
	[ -e "$1" ] || fail "$1 does not exist"
	[ "$(mode "$1")" = "$2" ] || fail "$1 is $(mode "$1"), not $2"
}
installed() {	# the packages of ours dpkg knows, with their state
	dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${pkgs[@]}" 2>/dev/null |
		awk '$2 != "un" && $2 != ""'
}
known() { installed | awk '{print $1}'; }	# apt-get purge fails on a package it does not know
# /root/.debug is perf's build-id cache: it mirrors the path of every binary perf sampled
# (a developer's /work/.../build/stswatch while this test runs), and no package writes there.
footprint() {	# what of stswatch is on this machine, one line per thing
	find /etc /usr /var /opt /srv /root -xdev \( -path /var/log -o -path /var/tmp \
		-o -path /var/cache/apt -o -path /root/.debug \) -prune -o \
		\( -name '*stswatch*' -o -name '*mta_sts*' -o -name '*mta-sts*' \) -print 2>/dev/null |
		sed 's/^/path /' | sort
	for p in "${shipped[@]}"; do [ -e "$p" ] || [ -L "$p" ] && echo "shipped $p"; done
	getent passwd stswatch | sed 's/^/passwd /'
	getent group stswatch | sed 's/^/group /'
	dpkg-statoverride --list | grep stswatch | sed 's/^/statoverride /'
	installed | sed 's/^/dpkg /'
}
# the accounts, if this test made them (purge keeps them, as Debian does)
drop_accounts() {
	if [ "$had_user" = 0 ] && getent passwd stswatch >/dev/null; then userdel stswatch; fi
	if [ "$had_group" = 0 ] && getent group stswatch >/dev/null; then groupdel stswatch; fi
}
cleanup() {
	if [ -n "${pkgs:-}" ] && [ -n "$(installed)" ]; then
		echo "     deb-test: purging ${pkgs[*]} after the failure" >&2
		apt-get purge "${apt_opts[@]}" $(known) </dev/null >/dev/null 2>&1
	fi
	[ -n "${had_user:-}" ] && drop_accounts
	[ "${made_run_systemd:-0}" = 1 ] && rmdir /run/systemd
	[ -n "${KEEP:-}" ] && echo "kept $tmp" >&2 || rm -rf "$tmp"
}
trap 'cleanup; exit 1' INT TERM

[ "$(id -u)" = 0 ] || { echo "deb.sh: needs root (apt-get install, purge)" >&2; exit 1; }
for t in apt-get dpkg-deb systemd-analyze hardening-check nagios4 icinga2 setpriv unshare python3 readelf; do
	command -v $t >/dev/null || fail "$t is missing (scripts/deps.sh deb-test installs it)"
done
debs=("$dir"/*.deb)
[ -e "${debs[0]}" ] || fail "no packages in $dir (make deb makes them)"
pkgs=()
shipped=()
for f in "${debs[@]}"; do
	pkgs+=("$(dpkg-deb -f "$f" Package)")
	# every file and link the package ships (directories are shared with other packages)
	while read -r p; do shipped+=("$p"); done < <(dpkg-deb -c "$f" | awk '$1 !~ /^d/ {print substr($6, 2)}')
done
[ -n "$(installed)" ] && { echo "FAIL deb-test: already installed here, remove them first: $(installed | tr '\n' ' ')" >&2; exit 1; }
had_user=0 had_group=0
getent passwd stswatch >/dev/null && had_user=1
getent group stswatch >/dev/null && had_group=1
footprint >"$tmp/footprint.before"
echo "     deb-test: ${pkgs[*]} ($(ls "$dir"/*.deb | wc -l) packages, ${#shipped[@]} files)"

apt_in() {	# apt-get with the arguments; output in $log; NS=1: in the namespace below
	if [ "${NS:-0}" = 1 ]; then
		unshare --mount --propagation private sh -c \
			'mount -t tmpfs -o mode=0755 tmpfs /run/systemd && mkdir /run/systemd/system &&
			 exec "$@"' sh apt-get "${apt_opts[@]}" "$@" </dev/null >"$log" 2>&1
	else
		apt-get "${apt_opts[@]}" "$@" </dev/null >"$log" 2>&1
	fi
}
new_deps() {	# the packages apt installed besides ours, from its NEW list in $log
	sed -n '/^The following NEW packages will be installed:/,/^[^ ]/p' "$log" | sed '1d;$d' |
		tr ' ' '\n' | grep -v '^$' | grep -vxF -f <(printf '%s\n' "${pkgs[@]}") || true
}

# ---- round 1: install ------------------------------------------------------------------
t0=$(date +%s)
apt_in install "${debs[@]}" || fail "apt-get install ./*.deb failed"
extra=$(new_deps)
t1=$(date +%s)
[ "$(installed | awk '$2 == "ii"' | wc -l)" = "${#pkgs[@]}" ] || fail "not all installed: $(installed)"
ok "apt-get install ./$(basename "$dir")/*.deb: ${pkgs[*]} ($((t1 - t0)) s; other new packages: ${extra:-none})"

pw=$(getent passwd stswatch) || fail "no user stswatch"
IFS=: read -r _ _ uid gid _ home shell <<<"$pw"
[ "$uid" -lt 1000 ] || fail "stswatch is not a system user: $pw"
[ "$(getent group stswatch | cut -d: -f3)" = "$gid" ] || fail "the user's group is not stswatch: $pw"
[ "$home" = $state ] || fail "home of stswatch is $home, not $state"
case "$shell" in */nologin | */false) ;; *) fail "stswatch can log in: $pw" ;; esac
ok "user and group stswatch: system ($uid:$gid), home $home, shell $shell"
expect_mode $conf "640 root:stswatch"
dpkg-query -W -f='${Conffiles}\n' stswatch | grep -q " $conf " || fail "$conf is not a conffile"
dpkg-statoverride --list $conf | grep -qx "root stswatch 640 $conf" || fail "no statoverride for $conf"
expect_mode /etc/stswatch "755 root:root"
expect_mode $state "750 stswatch:stswatch"
expect_mode /usr/bin/stswatch "755 root:root"
ok "$conf: conffile, 0640 root:stswatch (statoverride); $state 0750 stswatch:stswatch"
# a copy, stripped on its own: the same build id (stswatch-dbgsym has the symbols of both)
buildid() { readelf -n "$1" 2>/dev/null | sed -n 's/^ *Build ID: //p'; }
[ -f $plugin ] && [ ! -L $plugin ] && [ -n "$(buildid $plugin)" ] &&
	[ "$(buildid $plugin)" = "$(buildid /usr/bin/stswatch)" ] ||
	fail "$plugin is not a copy of /usr/bin/stswatch (a file with the same build id)"
[ -f "/usr/lib/debug/.build-id/$(buildid $plugin | sed 's|^..|&/|').debug" ] ||
	fail "stswatch-dbgsym has no symbols for the build id of $plugin"
expect_mode $plugin "755 root:root"
expect_mode $ncfg "644 root:root"
expect_mode $icfg "644 root:root"
ok "the plugin is a copy of the binary (build id $(buildid $plugin | cut -c1-12)..., symbols in stswatch-dbgsym); $ncfg and $icfg are in place"
wants=$(find /etc/systemd/system -name '*stswatch*' 2>/dev/null)
[ -z "$wants" ] || fail "a unit is enabled after the installation: $wants"
for u in stswatch.service stswatch-run.timer; do
	st=$(systemctl is-enabled $u 2>&1)
	[ "$st" = disabled ] || fail "$u is $st after the installation, not disabled"
done
ok "stswatch.service and stswatch-run.timer installed, disabled (the configuration lists no domain)"

AUTOPKGTEST_TMP=$tmp debian/tests/smoke >"$log" 2>&1 || fail "debian/tests/smoke failed"
sed 's/^/     /' "$log"
setpriv --reuid=stswatch --regid=stswatch --init-groups stswatch run --once >"$log" 2>&1 ||
	fail "run --once as the user stswatch failed"
expect_mode $state/stswatch.db "640 stswatch:stswatch"
setpriv --reuid=stswatch --regid=stswatch --init-groups stswatch db check >"$log" 2>&1 ||
	fail "db check as the user stswatch failed"
ok "run --once as the user stswatch writes $state/stswatch.db (0640), db check passes"

# The daemon as stswatch.service starts it (ExecStart=/usr/bin/stswatch run, User=stswatch,
# the installed configuration): READY=1 on NOTIFY_SOCKET, then SIGTERM ends it with 0.
# The sandbox itself needs systemd as PID 1, which this machine lacks.
NOTIFY_TMP=$tmp python3 - >"$log" 2>&1 <<'PYEOF' || fail "the daemon as the user stswatch did not get ready or stop"
import os, signal, socket, subprocess, time
path = os.path.join(os.environ["NOTIFY_TMP"], "notify")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
os.chmod(path, 0o777)
sock.settimeout(0.2)
env = dict(os.environ, NOTIFY_SOCKET=path)
p = subprocess.Popen(["setpriv", "--reuid=stswatch", "--regid=stswatch", "--init-groups",
                      "/usr/bin/stswatch", "run"], env=env)
got, t0 = [], time.time()
while time.time() - t0 < 20 and "READY=1" not in got and p.poll() is None:
    try:
        got += sock.recv(4096).decode().split("\n")
    except socket.timeout:
        pass
print("notify:", got)
if "READY=1" not in got:
    p.kill()
    raise SystemExit("no READY=1 (exit %s)" % p.wait())
p.send_signal(signal.SIGTERM)
rc = p.wait(timeout=30)
print("exit", rc)
raise SystemExit(rc)
PYEOF
ok "stswatch run as the user stswatch on the installed configuration: READY=1, exit 0 on SIGTERM"

units=(/lib/systemd/system/stswatch.service /lib/systemd/system/stswatch-run.service
	/lib/systemd/system/stswatch-run.timer)
# as nobody: verify formats the Documentation= man pages, and man run by root would leave
# them in man-db's cache (/var/cache/man/cat*), which outlives the purge
setpriv --reuid=nobody --regid=nogroup --clear-groups systemd-analyze verify "${units[@]}" >"$log" 2>&1 ||
	fail "systemd-analyze verify failed"
[ -s "$log" ] && fail "systemd-analyze verify complains about the installed units"
ok "systemd-analyze verify: the installed units (binary, settings, man pages), not a word"
for u in stswatch.service stswatch-run.service; do
	systemd-analyze security --offline=yes /lib/systemd/system/$u >"$log" 2>&1 ||
		fail "systemd-analyze security $u failed"
	x=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' "$log")
	[ -n "$x" ] || fail "no exposure level for $u"
	awk -v x="$x" 'BEGIN { exit !(x <= 1.5) }' || fail "installed $u: exposure $x, above 1.5"
	ok "systemd-analyze security --offline=yes installed $u: exposure $x (at most 1.5)"
done

# Control flow integrity is left out: Debian 12's glibc startup files carry no IBT/SHSTK
# property, so no program linked on Debian 12 has it (see debian/rules)
hardening-check --nocfprotection /usr/bin/stswatch >"$log" 2>&1 || fail "hardening-check /usr/bin/stswatch failed"
sed 's/^/     /' "$log"
ok "hardening-check /usr/bin/stswatch: PIE, stack protector, FORTIFY, RELRO, BINDNOW"

# Nagios 4 as Debian sets it up: its templates, commands, contacts and time periods,
# cfg_dir=/etc/nagios-plugins/config; the example services; a host for them
nag=$tmp/nagios
mkdir -p "$nag/checkresults"
cp $examples/example-service.cfg "$nag/services.cfg"
cat >"$nag/hosts.cfg" <<'EOF'
define host{
	use		linux-server
	host_name	mx1.example.org
	alias		MX 1
	address		192.0.2.25
	}
EOF
cat >"$nag/nagios.cfg" <<EOF
# stswatch deb.sh: Debian's Nagios 4 objects with the installed plugin definitions
cfg_file=/etc/nagios4/objects/commands.cfg
cfg_file=/etc/nagios4/objects/contacts.cfg
cfg_file=/etc/nagios4/objects/timeperiods.cfg
cfg_file=/etc/nagios4/objects/templates.cfg
cfg_dir=/etc/nagios-plugins/config
cfg_file=$nag/hosts.cfg
cfg_file=$nag/services.cfg
log_file=$nag/nagios.log
object_cache_file=$nag/objects.cache
precached_object_file=$nag/objects.precache
resource_file=$nag/resource.cfg
status_file=$nag/status.dat
command_file=$nag/nagios.cmd
lock_file=$nag/nagios.lock
temp_file=$nag/nagios.tmp
temp_path=$nag
check_result_path=$nag/checkresults
state_retention_file=$nag/retention.dat
query_socket=$nag/nagios.qh
nagios_user=$(id -un)
nagios_group=$(id -gn)
use_syslog=0
check_for_updates=0
illegal_macro_output_chars=\`~\$&|'"<>
EOF
printf '$USER1$=/usr/lib/nagios/plugins\n' >"$nag/resource.cfg"
nagios4 -v "$nag/nagios.cfg" >"$log" 2>&1 && grep -q 'Total Errors: *0$' "$log" &&
	grep -q 'Total Warnings: *0$' "$log" && grep -q 'Checked 2 services\.' "$log" ||
	fail "nagios4 -v rejects the installed definitions"
ok "nagios4 -v: Debian's objects, cfg_dir=/etc/nagios-plugins/config and the example services: 0 errors, 0 warnings"

# Icinga 2 as Debian's icinga2.conf includes the plugin commands; every path it writes
# is redirected into $tmp
ic=$tmp/icinga2
mkdir -p "$ic"/{etc,lib,log,cache,spool,run}
I2DEF=(-DConfigDir="$ic/etc" -DDataDir="$ic/lib" -DLogDir="$ic/log" -DCacheDir="$ic/cache"
	-DSpoolDir="$ic/spool" -DInitRunDir="$ic/run" -DPidPath="$ic/run/icinga2.pid"
	-DStatePath="$ic/lib/icinga2.state" -DModAttrPath="$ic/lib/modified-attributes.conf"
	-DObjectsPath="$ic/cache/icinga2.debug" -DVarsPath="$ic/cache/icinga2.vars"
	-DZonesDir="$ic/etc/zones.d" -DRunAsUser="$(id -un)" -DRunAsGroup="$(id -gn)")
cp $examples/example-service.conf "$ic/services.conf"
cat >"$ic/icinga2.conf" <<EOF
/* stswatch deb.sh: the includes of Debian's icinga2.conf and the example services */
const PluginDir = "/usr/lib/nagios/plugins"
const ManubulonPluginDir = "/usr/lib/nagios/plugins"
const PluginContribDir = "/usr/lib/nagios/plugins"
const ZoneName = NodeName
include <itl>
include <plugins>
include <plugins-contrib>
include "$ic/services.conf"
object Host "mx1.example.org" {
	check_command = "dummy"
	vars.mta_sts_domains = [ "example.org", "example.net" ]
}
EOF
icinga2 daemon -C -c "$ic/icinga2.conf" "${I2DEF[@]}" >"$log" 2>&1 ||
	fail "icinga2 daemon -C rejects the installed CheckCommand with the example services"
grep -q 'Instantiated 2 Services' "$log" || fail "icinga2: not the 2 services of the example"
icinga2 object list -t CheckCommand -n mta_sts "${I2DEF[@]}" >"$log" 2>&1
grep -q "declared in '$icfg'" "$log" || fail "icinga2: CheckCommand mta_sts does not come from $icfg"
grep -qF '"/usr/lib/nagios/plugins/check_mta_sts"' "$log" || fail "icinga2: mta_sts does not run $plugin"
ok "icinga2 daemon -C: include <plugins-contrib> brings CheckCommand mta_sts ($icfg) running $plugin"

# ---- round 1: upgrade over the same version ----------------------------------------------
printf '\n# a local change\nehlo_name = "monitor.example.net";\n' >>$conf
printf '\n# a local change\n' >>$ncfg
cp $conf "$tmp/conf.local"
cp $ncfg "$tmp/ncfg.local"
dpkg-statoverride --remove $conf && dpkg-statoverride --update --add root stswatch 0440 $conf ||
	fail "dpkg-statoverride of the admin failed"
t0=$(date +%s)
apt_in install --reinstall "${debs[@]}" || fail "apt-get install --reinstall failed (a conffile prompt?)"
t1=$(date +%s)
cmp -s $conf "$tmp/conf.local" || fail "the reinstall replaced the locally changed $conf"
cmp -s $ncfg "$tmp/ncfg.local" || fail "the reinstall replaced the locally changed $ncfg"
expect_mode $conf "440 root:stswatch"
[ -f $state/stswatch.db ] || fail "the reinstall lost the database"
ok "reinstall of the same version ($((t1 - t0)) s): local $conf and $ncfg kept, the admin's 0440 kept, database kept"
out=$(stswatch config check 2>&1) || fail "config check after the reinstall: $out"

# ---- round 1: remove -------------------------------------------------------------------
apt_in remove "${pkgs[@]}" || fail "apt-get remove failed"
# the two with conffiles stay as "rc" (configuration kept); stswatch-dbgsym has none
[ "$(installed | awk '$2 == "rc" {print $1}' | sort | tr '\n' ' ')" = "monitoring-plugins-mta-sts stswatch " ] &&
	[ -z "$(installed | awk '$2 != "rc"')" ] ||
	fail "after remove, not stswatch and the plugin in state rc and the rest gone: $(installed | tr '\n' ' ')"
cmp -s $conf "$tmp/conf.local" || fail "remove did not keep $conf"
cmp -s $ncfg "$tmp/ncfg.local" || fail "remove did not keep $ncfg"
[ -f $state/stswatch.db ] || fail "remove did not keep the database"
dpkg-statoverride --list $conf >/dev/null || fail "remove dropped the statoverride"
for p in /usr/bin/stswatch $plugin "${units[@]}" $icfg; do
	[ -e "$p" ] && fail "remove left $p"
done
ok "apt-get remove: configuration (stswatch.conf, mta_sts.cfg), statoverride and database stay; binaries, units, CheckCommand gone"

# ---- round 1: purge --------------------------------------------------------------------
apt_in purge $(known) || fail "apt-get purge failed"
footprint >"$tmp/footprint.purged"
left=$(diff "$tmp/footprint.before" "$tmp/footprint.purged" | sed -n 's/^> //p' |
	grep -v -e '^passwd stswatch:' -e '^group stswatch:' || true)
if [ -n "$left" ]; then
	echo "$left" | sed 's/^/     left: /' >&2
	fail "apt-get purge left the lines above"
fi
getent passwd stswatch >/dev/null || fail "purge removed the user stswatch (Debian keeps system accounts)"
ok "apt-get purge: nothing of the packages left (the user and group stswatch stay, as Debian keeps system accounts)"
if nagios4 -v "$nag/nagios.cfg" >"$log" 2>&1; then fail "nagios4 -v passes without the package (negative control)"; fi
grep -q "check_mta_sts" "$log" || fail "nagios4 -v fails without the package, but not for check_mta_sts"
if icinga2 daemon -C -c "$ic/icinga2.conf" "${I2DEF[@]}" >"$log" 2>&1; then
	fail "icinga2 daemon -C passes without the package (negative control)"
fi
grep -q 'mta_sts' "$log" || fail "icinga2 fails without the package, but not for mta_sts"
ok "negative controls: without the package nagios4 -v and icinga2 daemon -C reject the same configurations"
drop_accounts

# ---- round 2: systemctl cannot talk to systemd ---------------------------------------------
# the namespace mounts a tmpfs on /run/systemd, which must exist as a mount point
made_run_systemd=0
if [ ! -d /run/systemd ]; then mkdir /run/systemd && made_run_systemd=1; fi
NS=1
t0=$(date +%s)
apt_in install "${debs[@]}" || fail "install with /run/systemd/system but no systemd failed"
grep -q 'Failed to connect to bus\|System has not been booted' "$log" ||
	fail "the package scripts did not try systemctl (the test would prove nothing)"
# the admin enables both (outside the namespace systemctl works on the unit files offline)
systemctl enable stswatch.service stswatch-run.timer >"$log" 2>&1 || fail "systemctl enable failed"
[ -L /etc/systemd/system/multi-user.target.wants/stswatch.service ] &&
	[ -L /etc/systemd/system/timers.target.wants/stswatch-run.timer ] || fail "systemctl enable made no links"
apt_in install --reinstall "${debs[@]}" ||
	fail "reinstall (restart of the enabled units) with systemctl unable to connect failed"
grep -q 'Failed to connect to bus\|System has not been booted' "$log" || fail "the reinstall did not try systemctl"
apt_in remove "${pkgs[@]}" || fail "remove (stop of the units) with systemctl unable to connect failed"
apt_in purge $(known) || fail "purge with systemctl unable to connect failed"
t1=$(date +%s)
footprint >"$tmp/footprint.purged2"
left=$(diff "$tmp/footprint.before" "$tmp/footprint.purged2" | sed -n 's/^> //p' |
	grep -v -e '^passwd stswatch:' -e '^group stswatch:' || true)
[ -z "$left" ] || { echo "$left" | sed 's/^/     left: /' >&2; fail "round 2: purge left the lines above"; }
ok "with /run/systemd/system and no systemd: install, enable, reinstall, remove, purge succeed; nothing left ($((t1 - t0)) s)"
drop_accounts
[ "$made_run_systemd" = 1 ] && rmdir /run/systemd && made_run_systemd=0

# ---- the machine as it was ---------------------------------------------------------------
if [ -n "$extra" ]; then
	NS=0 apt_in purge $extra || fail "purging the dependencies apt added ($extra) failed"
fi
footprint >"$tmp/footprint.after"
diff "$tmp/footprint.before" "$tmp/footprint.after" >"$log" ||
	fail "the machine differs from before the test (< before, > after)"
ok "the machine is as it was: same footprint, accounts and dpkg state as before ($(wc -l <"$tmp/footprint.before") lines)"
rm -rf "$tmp"
echo "deb.sh: all passed ($(($(date +%s) - t_start)) s)"
