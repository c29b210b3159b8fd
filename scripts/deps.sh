#!/bin/sh
# deps.sh: install the Debian packages a make target needs, or say how.
#   scripts/deps.sh build|test|bench|check|deb|deb-test
# As root it runs apt-get (once "apt-get update" if a package is unknown); as another user
# it prints the one command to run and fails, so nothing half-works. "check" (make check,
# the tier that needs no root, no network and installs nothing) never installs, not even
# as root: it prints the command and fails.
set -eu

build="gcc make pkg-config libssl-dev libcurl4-openssl-dev libc-ares-dev libconfig-dev
libjansson-dev libsqlite3-dev libcmocka-dev libsystemd-dev libidn2-dev"
# the lab: real DNS, web and mail servers in a network namespace, a private CA
lab="iproute2 openssl unbound nginx postfix python3 sqlite3 procps psmisc ca-certificates curl
prometheus-alertmanager prometheus dovecot-core nftables systemd"
# fuzz targets (libFuzzer) and the monitoring engines the plugin definitions are tested in;
# systemd for systemd-analyze, systemd-sysusers and systemd-tmpfiles, dpkg-dev for
# dpkg-buildflags (tests/install.sh)
test_extra="clang cppcheck icinga2-bin icinga2-common nagios4-core systemd dpkg-dev"
# make check: the sanitizers (gcc's own, clang's for libFuzzer), the fake servers
# (python3) and their CA (the openssl CLI)
check_extra="clang python3 openssl"
bench="nodejs npm time"
# make deb: dpkg-buildpackage with debhelper, lintian on the result (debian/control's
# Build-Depends are the build list above; dpkg-buildpackage checks them again); make
# deb-test also hardening-check (devscripts), systemd-analyze and the engines
deb="build-essential debhelper devscripts dpkg-dev fakeroot lintian"
deb_test="systemd icinga2-bin icinga2-common nagios4-core python3"

case "${1:-build}" in
build) want="$build" ;;
test) want="$build $lab $test_extra" ;;
bench) want="$build $lab $bench" ;;
check) want="$build $check_extra" ;;
deb) want="$build $deb" ;;
deb-test) want="$build $deb $deb_test" ;;
*) echo "usage: $0 build|test|bench|check|deb|deb-test" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	# NodeSource's nodejs package carries npm and conflicts with Debian's: the command is
	# what the benchmark needs
	if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then
		continue
	fi
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ] || [ "${1:-build}" = check ]; then
	echo "stswatch: missing Debian packages:$missing" >&2
	echo "run as root:  apt-get update && apt-get install -y --no-install-recommends$missing" >&2
	[ "${1:-build}" = check ] && echo "(make check installs nothing itself; make test does, as root)" >&2
	exit 1
fi

echo "stswatch: installing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# postfix asks how to configure itself; the lab runs its own instance, so: none.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections 2>/dev/null || true
# keep package scripts from starting system services (no init system is assumed here)
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
fi
rc=0
apt-get install -y -q --no-install-recommends $missing >/tmp/stswatch-apt.log 2>&1 || {
	apt-get update -q >/tmp/stswatch-apt-update.log 2>&1 || true
	apt-get install -y -q --no-install-recommends $missing >/tmp/stswatch-apt.log 2>&1 || rc=$?
}
[ "$made_policy" = 1 ] && rm -f "$policy"
if [ "$rc" != 0 ]; then
	tail -n 20 /tmp/stswatch-apt.log >&2
	echo "stswatch: apt-get install failed (full log: /tmp/stswatch-apt.log)" >&2
	exit 1
fi
