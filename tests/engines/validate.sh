#!/bin/bash
# stswatch: validate the shipped Icinga 2 and Nagios definitions with the real engines.
#
# Needs icinga2-bin, icinga2-common and nagios4-core (Debian 12). Starts no service and
# touches nothing of the system's configuration or state: every path Icinga 2 or Nagios
# would write to is redirected into a temporary directory, removed on exit.
#
#   (a) Icinga 2: a self-contained configuration (constants, ITL, the shipped mta_sts.conf
#       and example-service.conf, hosts with vars) must pass `icinga2 daemon -C`, and
#       `icinga2 object list` must show exactly the services the apply rules promise, with
#       their variables. Negative controls (a syntax error, a dangling check_command, no
#       host vars) must fail, so this test can fail.
#   (b) Nagios 4: a minimal nagios.cfg with the shipped mta_sts.cfg and example-service.cfg
#       must pass `nagios4 -v` with 0 errors and 0 warnings; negative controls (a broken
#       command file, an undefined command) must fail.
#
# Exit 0 when everything holds, 1 on any failure (each printed as FAIL), 77 when an
# engine is not installed (SKIP=fail turns that into a failure).
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ICINGA2=${ICINGA2:-icinga2}
NAGIOS4=${NAGIOS4:-nagios4}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/stswatch-validate.XXXXXX") || exit 1
trap '[ -n "${KEEP:-}" ] && echo "kept $TMP" || rm -rf "$TMP"' EXIT

failures=0
ok() { printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; failures=$((failures + 1)); }
# show the interesting lines of an engine's output, indented
show() { grep -E "${2:-critical|[Ee]rror|[Ww]arning|Instantiated|Total|Checked}" "$1" | sed 's/^/     | /' | head -${3:-20}; }

for tool in "$ICINGA2" "$NAGIOS4"; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP $tool is not installed (apt-get install icinga2-bin icinga2-common nagios4-core)"
		[ "${SKIP:-}" = fail ] && exit 1
		exit 77
	fi
done

# ---- (a) Icinga 2 ----------------------------------------------------------------------

# Every directory and file Icinga 2 writes, inside $1; the process keeps our own user.
icinga2_defines() {
	local d=$1
	mkdir -p "$d"/{etc,lib,log,cache,spool,run}
	I2DEF=(-DConfigDir="$d/etc" -DDataDir="$d/lib" -DLogDir="$d/log" -DCacheDir="$d/cache"
		-DSpoolDir="$d/spool" -DInitRunDir="$d/run" -DPidPath="$d/run/icinga2.pid"
		-DStatePath="$d/lib/icinga2.state" -DModAttrPath="$d/lib/modified-attributes.conf"
		-DObjectsPath="$d/cache/icinga2.debug" -DVarsPath="$d/cache/icinga2.vars"
		-DZonesDir="$d/etc/zones.d" -DRunAsUser="$(id -un)" -DRunAsGroup="$(id -gn)")
}

# icinga2_check DIR COMMANDFILE SERVICEFILE HOSTS: write DIR/icinga2.conf, validate it.
# Returns the exit status of `icinga2 daemon -C`; output in DIR/validate.out.
icinga2_check() {
	local d=$1 cmd=$2 svc=$3 hosts=$4
	icinga2_defines "$d"
	cat >"$d/icinga2.conf" <<EOF
/* stswatch validate.sh: a self-contained Icinga 2 configuration */
const PluginDir = "$d/plugins"
const ZoneName = NodeName

include <itl>

include "$cmd"
include "$svc"

$hosts
EOF
	"$ICINGA2" daemon -C -c "$d/icinga2.conf" "${I2DEF[@]}" >"$d/validate.out" 2>&1
}

# The services of the validated configuration, one "host!service" per line.
icinga2_services() {
	"$ICINGA2" object list -t Service "${I2DEF[@]}" 2>&1 |
		sed -n "s/^Object '\(.*\)' of type 'Service':$/\1/p" | sort
}

HOSTS_OK='
object Host "mx1.example.org" {
	check_command = "dummy"
	address = "192.0.2.25"
	vars.mta_sts_domains = [ "example.org", "example.net" ]
	vars.mta_sts = {
		"example.com" = { mta_sts_warning = 30, mta_sts_critical = 10, mta_sts_verbose = true }
	}
}

object Host "mx2.example.org" {
	check_command = "dummy"
	address = "192.0.2.26"
}'

t0=$(date +%s.%N)
cmd_conf=$ROOT/packaging/icinga2/mta_sts.conf
svc_conf=$ROOT/packaging/icinga2/example-service.conf
for f in "$cmd_conf" "$svc_conf"; do
	[ -r "$f" ] || { fail "icinga2: $f is missing"; }
done

d=$TMP/icinga2-ok
if icinga2_check "$d" "$cmd_conf" "$svc_conf" "$HOSTS_OK"; then
	ok "icinga2 daemon -C accepts mta_sts.conf and example-service.conf"
	show "$d/validate.out" 'Instantiated [0-9]+ (Services|Hosts|CheckCommands)'
else
	fail "icinga2 daemon -C rejects the shipped configuration"
	show "$d/validate.out" 'critical|Error|error' 40
fi

want=$(printf '%s\n' mx1.example.org!mta-sts-example.com mx1.example.org!mta-sts-example.net \
	mx1.example.org!mta-sts-example.org)
got=$(icinga2_services)
if [ "$got" = "$want" ]; then
	ok "icinga2 object list: exactly the 3 services of the apply rules (none on mx2)"
else
	fail "icinga2 object list: services differ"
	printf '     | want: %s\n' $want
	printf '     | got:  %s\n' $got
fi

# The service's variables and the command's arguments are what the plugin will be given.
"$ICINGA2" object list -t Service -n 'mx1.example.org!mta-sts-example.com' "${I2DEF[@]}" \
	>"$d/svc.out" 2>&1
if grep -q 'mta_sts_domain = "example.com"' "$d/svc.out" &&
	grep -q 'mta_sts_warning = 30' "$d/svc.out" && grep -q 'mta_sts_critical = 10' "$d/svc.out" &&
	grep -q 'check_command = "mta_sts"' "$d/svc.out" && grep -q 'check_interval = 3600' "$d/svc.out"; then
	ok "icinga2: mta-sts-example.com has domain, thresholds, check_command and 1h interval"
else
	fail "icinga2: mta-sts-example.com lacks its variables"
	sed 's/^/     | /' "$d/svc.out" | head -60
fi
"$ICINGA2" object list -t CheckCommand -n mta_sts "${I2DEF[@]}" >"$d/cmd.out" 2>&1
missing=
for a in -H -w -c -t -v --mx-only --policy-only --resolver --ca-file --timeout-result; do
	grep -qxF -- "    * $a" "$d/cmd.out" || missing="$missing $a"
done
for a in 'required = true' 'value = "$mta_sts_domain$"' 'set_if = "$mta_sts_verbose$"' \
	'/plugins/check_mta_sts" ]' 'timeout = 120'; do
	grep -qF -- "$a" "$d/cmd.out" || missing="$missing '$a'"
done
if [ -z "$missing" ]; then
	ok "icinga2: CheckCommand mta_sts maps -H -w -c -t -v --mx-only --policy-only --resolver --ca-file --timeout-result"
else
	fail "icinga2: CheckCommand mta_sts lacks:$missing"
fi

# Negative controls: each must make the engine (or our assertion) fail.
d=$TMP/icinga2-syntax
mkdir -p "$d"
sed '0,/^}/s/^}//' "$cmd_conf" >"$d/broken.conf"	# drop the closing brace
if icinga2_check "$d" "$d/broken.conf" "$svc_conf" "$HOSTS_OK"; then
	fail "icinga2 negative control: a CheckCommand without its closing brace passed"
else
	ok "icinga2 negative control: a syntax error fails ($(grep -m1 -o 'critical/config: .*' "$d/validate.out" | cut -c1-80))"
fi

d=$TMP/icinga2-dangling
mkdir -p "$d"
sed 's/check_command = "mta_sts"/check_command = "mta_sts_typo"/' "$svc_conf" >"$d/svc.conf"
if icinga2_check "$d" "$cmd_conf" "$d/svc.conf" "$HOSTS_OK"; then
	fail "icinga2 negative control: a service with an undefined check_command passed"
else
	ok "icinga2 negative control: an undefined check_command fails ($(grep -m1 -o "Validation failed.*\|Error: .*" "$d/validate.out" | cut -c1-80))"
fi

d=$TMP/icinga2-novars
if icinga2_check "$d" "$cmd_conf" "$svc_conf" 'object Host "mx1.example.org" { check_command = "dummy" }' &&
	[ -z "$(icinga2_services)" ]; then
	ok "icinga2 negative control: no host vars, no services (the service assertion can fail)"
else
	fail "icinga2 negative control: services without host vars"
fi
t1=$(date +%s.%N)
printf '     icinga2 part: %.1f s\n' "$(echo "$t1 - $t0" | bc)"

# ---- (b) Nagios 4 ----------------------------------------------------------------------

# nagios_check DIR COMMANDFILE SERVICEFILE: write DIR/nagios.cfg and objects, run -v.
nagios_check() {
	local d=$1 cmd=$2 svc=$3
	mkdir -p "$d/checkresults"
	cat >"$d/objects.cfg" <<'EOF'
define timeperiod{
	timeperiod_name	24x7
	alias		always
	sunday		00:00-24:00
	monday		00:00-24:00
	tuesday		00:00-24:00
	wednesday	00:00-24:00
	thursday	00:00-24:00
	friday		00:00-24:00
	saturday	00:00-24:00
	}
define command{
	command_name	notify-none
	command_line	/bin/true
	}
define command{
	command_name	check-host-alive
	command_line	/bin/true
	}
define contact{
	contact_name			admin
	service_notification_period	24x7
	host_notification_period	24x7
	service_notification_options	n
	host_notification_options	n
	service_notification_commands	notify-none
	host_notification_commands	notify-none
	}
define host{
	name			generic-host
	check_command		check-host-alive
	check_period		24x7
	max_check_attempts	3
	notification_period	24x7
	contacts		admin
	register		0
	}
define service{
	name			generic-service
	check_period		24x7
	max_check_attempts	3
	check_interval		5
	retry_interval		1
	notification_period	24x7
	notification_interval	0
	contacts		admin
	register		0
	}
define host{
	use		generic-host
	host_name	mx1.example.org
	alias		MX 1
	address		192.0.2.25
	}
EOF
	cat >"$d/nagios.cfg" <<EOF
# stswatch validate.sh: a self-contained Nagios 4 configuration
log_file=$d/nagios.log
cfg_file=$d/objects.cfg
cfg_file=$cmd
cfg_file=$svc
object_cache_file=$d/objects.cache
precached_object_file=$d/objects.precache
resource_file=$d/resource.cfg
status_file=$d/status.dat
command_file=$d/nagios.cmd
lock_file=$d/nagios.lock
temp_file=$d/nagios.tmp
temp_path=$d
check_result_path=$d/checkresults
state_retention_file=$d/retention.dat
query_socket=$d/nagios.qh
nagios_user=$(id -un)
nagios_group=$(id -gn)
use_syslog=0
check_for_updates=0
illegal_macro_output_chars=\`~\$&|'"<>
EOF
	printf '$USER1$=/usr/lib/nagios/plugins\n' >"$d/resource.cfg"
	"$NAGIOS4" -v "$d/nagios.cfg" >"$d/verify.out" 2>&1
}

t0=$(date +%s.%N)
ncmd=$ROOT/packaging/nagios/mta_sts.cfg
nsvc=$ROOT/packaging/nagios/example-service.cfg
d=$TMP/nagios-ok
if nagios_check "$d" "$ncmd" "$nsvc" && grep -q 'Total Errors: *0$' "$d/verify.out" &&
	grep -q 'Total Warnings: *0$' "$d/verify.out"; then
	ok "nagios4 -v accepts mta_sts.cfg and example-service.cfg: 0 errors, 0 warnings"
	show "$d/verify.out" 'Checked .* (services|commands)|Total'
else
	fail "nagios4 -v rejects the shipped definitions"
	show "$d/verify.out" 'Error|Warning|Total' 40
fi
# 6 shipped commands + 2 of the harness; 2 example services.
if grep -q 'Checked 2 services\.' "$d/verify.out" && grep -q 'Checked 8 commands\.' "$d/verify.out"; then
	ok "nagios4 -v: the 2 example services and all 6 check_mta_sts* commands are checked"
else
	fail "nagios4 -v: unexpected object counts"
	show "$d/verify.out" 'Checked' 20
fi

d=$TMP/nagios-broken
mkdir -p "$d"
sed '0,/^\t}/s/^\t}//' "$ncmd" >"$d/broken.cfg"	# drop the first closing brace
if nagios_check "$d" "$d/broken.cfg" "$nsvc"; then
	fail "nagios4 negative control: a command without its closing brace passed"
else
	ok "nagios4 negative control: a syntax error fails ($(grep -m1 -i 'error:' "$d/verify.out" | cut -c1-80))"
fi

d=$TMP/nagios-undefined
mkdir -p "$d"
sed 's/check_mta_sts!/check_mta_sts_typo!/' "$nsvc" >"$d/svc.cfg"
if nagios_check "$d" "$ncmd" "$d/svc.cfg"; then
	fail "nagios4 negative control: a service with an undefined command passed"
else
	ok "nagios4 negative control: an undefined command fails ($(grep -m1 'Error:' "$d/verify.out" | cut -c1-90))"
fi
t1=$(date +%s.%N)
printf '     nagios4 part: %.1f s\n' "$(echo "$t1 - $t0" | bc)"

if [ "$failures" -gt 0 ]; then
	echo "validate.sh: $failures failure(s)"
	exit 1
fi
echo "validate.sh: all engine definitions valid"
exit 0
