#!/bin/bash
# stswatch: end-to-end run of check_mta_sts inside real Nagios 4 and Icinga 2 engines.
#
# Without -p it proves the mechanism with a stand-in plugin (prints "MTA-STS WARNING - x |
# a=1", exits 1). The lab's integration suite (tests/lab/integration.py, test "engines")
# runs it inside the lab's namespace with the real plugin and a lab domain, for example:
#
#   ip netns exec stswlab tests/engines/e2e.sh -p build/check_mta_sts \
#       -H mxcert-expiring15.test -w 21 -c 7 -x --resolver=10.53.0.1 \
#       -x --ca-file=build/lab/ca/root.pem -s 1 -o '^MTA-STS WARNING'
#
# How it works, per engine, all inside a temporary directory (nothing of the system's
# configuration, state, logs or services is touched; both engines run in the foreground
# as the calling user, in their own process group, and are stopped before exit):
#
#   - PLUGINDIR/check_mta_sts is a wrapper that records its argv and execs the plugin, so
#     the shipped definitions are used unchanged apart from the plugin path, and the
#     arguments the engine built are checked too (-H DOMAIN -w W -c C and each -x option).
#   - Nagios 4: the shipped packaging/nagios/mta_sts.cfg (plugin path rewritten), a host,
#     one service (check_mta_sts_days!D!W!C, or check_mta_sts_args!D!W!C!OPTIONS with -x),
#     interval_length=1, no retention; once the command pipe exists the script writes
#     SCHEDULE_FORCED_SVC_CHECK and waits until status.dat shows the service checked, then
#     reads current_state, plugin_output and performance_data from its servicestatus block.
#   - Icinga 2: constants, ITL, the shipped mta_sts.conf and example-service.conf, a host
#     with vars.mta_sts = { DOMAIN = { mta_sts_warning = W, ... } } (the -x options mapped
#     to the mta_sts_* variables), CheckerComponent, ExternalCommandListener (to force the
#     check) and a PerfdataWriter whose template writes $service.state_id$,
#     $service.perfdata$ and $service.output$ (rotated every second); the script waits for
#     that line and compares the first line of the output, as Nagios' plugin_output.
#
# Options:
#   -e ENGINE   nagios, icinga2 or all (default all)
#   -p PLUGIN   the plugin to run (default: the stand-in); use the check_mta_sts link, so
#               argv[0] selects the plugin personality
#   -H DOMAIN   the mail domain (default example.org)
#   -w W, -c C  thresholds given through the definitions (default 30 and 10)
#   -x OPTION   one more plugin option, repeatable: -v, --mx-only, --policy-only,
#               --resolver=ADDR, --ca-file=FILE, --timeout-result=STATE, --timeout=SECONDS,
#               --config=FILE (the forms the Icinga 2 variables can express)
#   -s STATE    the state the engine must record, 0..3 (default 1)
#   -o REGEX    extended regex the recorded output must match (default: the stand-in's)
#   -P REGEX    extended regex the recorded perfdata must match (default: stand-in "a=1",
#               with -p: anything)
#   -T SECONDS  how long to wait for the result per engine (default 90)
# KEEP=1 keeps the temporary directory. Exit 0 on success, 1 on a failure, 77 when an
# engine is missing.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ENGINE=all
PLUGIN=
DOMAIN=example.org
WARN=30
CRIT=10
EXTRA=()
WANT_STATE=1
WANT_OUTPUT='^MTA-STS WARNING - x$'
WANT_PERF=
WAIT=90

usage() { sed -n '2,/^set -u/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2; exit 2; }
while getopts 'e:p:H:w:c:x:s:o:P:T:h' opt; do
	case $opt in
	e) ENGINE=$OPTARG ;;
	p) PLUGIN=$OPTARG ;;
	H) DOMAIN=$OPTARG ;;
	w) WARN=$OPTARG ;;
	c) CRIT=$OPTARG ;;
	x) EXTRA+=("$OPTARG") ;;
	s) WANT_STATE=$OPTARG ;;
	o) WANT_OUTPUT=$OPTARG ;;
	P) WANT_PERF=$OPTARG ;;
	T) WAIT=$OPTARG ;;
	*) usage ;;
	esac
done
[ -n "$PLUGIN" ] && [ "$WANT_OUTPUT" = '^MTA-STS WARNING - x$' ] && WANT_OUTPUT='^MTA-STS '
if [ -z "$WANT_PERF" ]; then
	if [ -n "$PLUGIN" ]; then WANT_PERF='.*'; else WANT_PERF='^a=1$'; fi
fi
case $ENGINE in nagios | icinga2 | all) ;; *) usage ;; esac
case $WANT_STATE in [0-3]) ;; *) usage ;; esac
# Nagios' $ARGn$ are split at '!' and '$' starts a macro: refuse what it cannot carry.
for v in "$DOMAIN" "$WARN" "$CRIT" "${EXTRA[@]}"; do
	case $v in *'!'* | *'$'* | *"'"*) echo "e2e.sh: '$v': ! \$ and ' cannot pass through Nagios arguments" >&2; exit 2 ;; esac
done
if [ -n "$PLUGIN" ]; then
	[ -x "$PLUGIN" ] || { echo "e2e.sh: $PLUGIN is not executable" >&2; exit 2; }
	PLUGIN=$(cd "$(dirname "$PLUGIN")" && pwd)/$(basename "$PLUGIN")
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/stswatch-e2e.XXXXXX") || exit 1
PGIDS=()
cleanup() {
	local g
	for g in "${PGIDS[@]}"; do
		group_alive "$g" || continue
		kill -TERM "$g" 2>/dev/null
		for _ in $(seq 1 50); do
			group_alive "$g" || break
			sleep 0.2
		done
		group_alive "$g" && kill -KILL -- "-$g" 2>/dev/null &&
			echo "     (process group $g needed SIGKILL)"
	done
	if [ -n "${KEEP:-}" ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

failures=0
ok() { printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; failures=$((failures + 1)); }
now() { date +%s.%N; }
elapsed() { printf '%.1f' "$(echo "$(now) - $1" | bc)"; }

# ---- the plugin, behind a wrapper that records argv --------------------------------------

mkdir -p "$TMP/plugins"
if [ -z "$PLUGIN" ]; then
	PLUGIN=$TMP/stand-in
	cat >"$PLUGIN" <<'EOF'
#!/bin/sh
# stand-in for check_mta_sts: a WARNING with one perfdata item
echo 'MTA-STS WARNING - x | a=1'
exit 1
EOF
	chmod +x "$PLUGIN"
	[ ${#EXTRA[@]} -eq 0 ] && EXTRA=(-v --resolver=192.0.2.53)
fi
cat >"$TMP/plugins/check_mta_sts" <<EOF
#!/bin/sh
# e2e.sh wrapper: record the arguments the engine built, then run the plugin
printf '%s\n' "\$@" >"$TMP/argv.last"
exec $(printf '%q' "$PLUGIN") "\$@"
EOF
chmod +x "$TMP/plugins/check_mta_sts"

# check_argv ENGINE: the recorded argv holds -H DOMAIN -w W -c C and each extra option.
check_argv() {
	local eng=$1 args want o
	args=" $(tr '\n' ' ' <"$TMP/argv.$eng" 2>/dev/null)"
	want=("-H $DOMAIN" "-w $WARN" "-c $CRIT")
	for o in "${EXTRA[@]}"; do want+=("$o"); done
	for o in "${want[@]}"; do
		# --opt=value may arrive as one word (Nagios) or two (Icinga 2)
		case " $args " in
		*" $o "* | *" ${o/=/ } "*) ;;
		*" -t ${o#--timeout=} "*) [ "${o%%=*}" = --timeout ] || { fail "$eng: the plugin was not given '$o' (argv:$args)"; return; } ;;
		*) fail "$eng: the plugin was not given '$o' (argv:$args)"; return ;;
		esac
	done
	ok "$eng: the plugin was run with:$args"
}

# judge ENGINE STATE OUTPUT PERFDATA
judge() {
	local eng=$1 st=$2 out=$3 perf=$4
	if [ "$st" = "$WANT_STATE" ]; then
		ok "$eng: recorded state $st"
	else
		fail "$eng: recorded state $st, want $WANT_STATE"
	fi
	if printf '%s\n' "$out" | grep -qE -- "$WANT_OUTPUT"; then
		ok "$eng: recorded output '$out'"
	else
		fail "$eng: recorded output '$out' does not match /$WANT_OUTPUT/"
	fi
	if printf '%s\n' "$perf" | grep -qE -- "$WANT_PERF"; then
		ok "$eng: recorded perfdata '$perf'"
	else
		fail "$eng: recorded perfdata '$perf' does not match /$WANT_PERF/"
	fi
}

# start_group LOG CMD...: run CMD in the foreground of its own session, remember its group.
start_group() {
	local log=$1
	shift
	setsid "$@" >"$log" 2>&1 </dev/null &
	PGIDS+=("$!")
	STARTED=$!
}

# group_alive PGID: does a process of the group still run (zombies do not count)?
group_alive() {
	ps -o stat= -g "$1" 2>/dev/null | grep -qv '^Z'
}

# stop_group PGID: TERM to the leader only (it stops its own workers and helpers; a TERM
# to the whole group at once sometimes leaves Icinga 2 hanging), wait, reap; KILL the
# group if anything is left after 10 s.
stop_group() {
	local g=$1
	kill -TERM "$g" 2>/dev/null
	for _ in $(seq 1 50); do
		group_alive "$g" || break
		sleep 0.2
	done
	if group_alive "$g"; then
		kill -KILL -- "-$g" 2>/dev/null
		fail "process group $g had to be killed"
	fi
	wait "$g" 2>/dev/null
}

# wait_pipe PATH: the external command pipe exists (the engine is up).
wait_pipe() {
	for _ in $(seq 1 100); do
		[ -p "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# ---- Nagios 4 --------------------------------------------------------------------------

run_nagios() {
	local d=$TMP/nagios t0 cmd ts block
	t0=$(now)
	if ! command -v nagios4 >/dev/null 2>&1; then
		echo "SKIP nagios4 is not installed (apt-get install nagios4-core)"
		return 77
	fi
	mkdir -p "$d/checkresults"
	sed "s|/usr/lib/nagios/plugins/check_mta_sts|$TMP/plugins/check_mta_sts|" \
		"$ROOT/packaging/nagios/mta_sts.cfg" >"$d/mta_sts.cfg"
	if [ ${#EXTRA[@]} -gt 0 ]; then
		cmd="check_mta_sts_args!$DOMAIN!$WARN!$CRIT!${EXTRA[*]}"
	else
		cmd="check_mta_sts_days!$DOMAIN!$WARN!$CRIT"
	fi
	cat >"$d/objects.cfg" <<EOF
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
	host_name		mx1.example.org
	alias			MX 1
	address			192.0.2.25
	check_command		notify-none
	active_checks_enabled	0
	check_period		24x7
	max_check_attempts	1
	notification_period	24x7
	notifications_enabled	0
	contacts		admin
	}
define service{
	host_name		mx1.example.org
	service_description	MTA-STS $DOMAIN
	check_command		$cmd
	check_period		24x7
	max_check_attempts	1
	check_interval		3600
	retry_interval		600
	notification_period	24x7
	notifications_enabled	0
	notification_interval	0
	contacts		admin
	}
EOF
	cat >"$d/nagios.cfg" <<EOF
# stswatch e2e.sh: Nagios 4 in a temporary directory; interval_length=1 makes every
# interval in seconds
log_file=$d/nagios.log
cfg_file=$d/objects.cfg
cfg_file=$d/mta_sts.cfg
object_cache_file=$d/objects.cache
precached_object_file=$d/objects.precache
resource_file=$d/resource.cfg
status_file=$d/status.dat
status_update_interval=1
command_file=$d/nagios.cmd
check_external_commands=1
lock_file=$d/nagios.lock
temp_file=$d/nagios.tmp
temp_path=$d
check_result_path=$d/checkresults
check_result_reaper_frequency=1
state_retention_file=$d/retention.dat
retain_state_information=0
use_retained_scheduling_info=0
query_socket=$d/nagios.qh
nagios_user=$(id -un)
nagios_group=$(id -gn)
use_syslog=0
check_for_updates=0
interval_length=1
max_service_check_spread=1
enable_notifications=0
service_check_timeout=120
illegal_macro_output_chars=\`~\$&|'"<>
EOF
	: >"$d/resource.cfg"
	if ! nagios4 -v "$d/nagios.cfg" >"$d/verify.out" 2>&1; then
		fail "nagios: the e2e configuration does not verify"
		grep -E 'Error' "$d/verify.out" | sed 's/^/     | /'
		return 1
	fi
	rm -f "$TMP/argv.last"
	start_group "$d/nagios.out" nagios4 "$d/nagios.cfg"
	local pg=$STARTED
	if ! wait_pipe "$d/nagios.cmd"; then
		fail "nagios: no command pipe after 10 s"
		sed 's/^/     | /' "$d/nagios.out" | tail -5
		stop_group "$pg"
		return 1
	fi
	ts=$(date +%s)
	printf '[%s] SCHEDULE_FORCED_SVC_CHECK;mx1.example.org;MTA-STS %s;%s\n' "$ts" "$DOMAIN" "$ts" \
		>"$d/nagios.cmd"
	block=
	for _ in $(seq 1 $((WAIT * 5))); do
		block=$(awk -v svc="MTA-STS $DOMAIN" '
			/^servicestatus \{/ { inb = 1; b = ""; next }
			inb && /^\t\}/ { if (b ~ "\nservice_description=" svc "\n" && b ~ /\nhas_been_checked=1\n/) print b; inb = 0; next }
			inb { sub(/^\t/, ""); b = b "\n" $0 }
		' "$d/status.dat" 2>/dev/null)
		[ -n "$block" ] && break
		sleep 0.2
	done
	stop_group "$pg"
	mv "$TMP/argv.last" "$TMP/argv.nagios" 2>/dev/null
	if [ -z "$block" ]; then
		fail "nagios: no check result in status.dat after $WAIT s"
		tail -5 "$d/nagios.log" | sed 's/^/     | /'
		return 1
	fi
	judge nagios "$(printf '%s\n' "$block" | sed -n 's/^current_state=//p')" \
		"$(printf '%s\n' "$block" | sed -n 's/^plugin_output=//p')" \
		"$(printf '%s\n' "$block" | sed -n 's/^performance_data=//p')"
	check_argv nagios
	echo "     nagios4: $(elapsed "$t0") s"
}

# ---- Icinga 2 --------------------------------------------------------------------------

# An Icinga 2 string literal.
i2str() { local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}"; }

run_icinga2() {
	local d=$TMP/icinga2 t0 o vars line ts svc
	t0=$(now)
	if ! command -v icinga2 >/dev/null 2>&1; then
		echo "SKIP icinga2 is not installed (apt-get install icinga2-bin icinga2-common)"
		return 77
	fi
	mkdir -p "$d"/{etc,lib,log,cache,spool,run,perf}
	local def=(-DConfigDir="$d/etc" -DDataDir="$d/lib" -DLogDir="$d/log" -DCacheDir="$d/cache"
		-DSpoolDir="$d/spool" -DInitRunDir="$d/run" -DPidPath="$d/run/icinga2.pid"
		-DStatePath="$d/lib/icinga2.state" -DModAttrPath="$d/lib/modified-attributes.conf"
		-DObjectsPath="$d/cache/icinga2.debug" -DVarsPath="$d/cache/icinga2.vars"
		-DZonesDir="$d/etc/zones.d" -DRunAsUser="$(id -un)" -DRunAsGroup="$(id -gn)")
	vars="mta_sts_warning = $(i2str "$WARN"), mta_sts_critical = $(i2str "$CRIT")"
	for o in "${EXTRA[@]}"; do
		case $o in
		-v | --verbose) vars+=", mta_sts_verbose = true" ;;
		--mx-only) vars+=", mta_sts_mx_only = true" ;;
		--policy-only) vars+=", mta_sts_policy_only = true" ;;
		--resolver=*) vars+=", mta_sts_resolver = $(i2str "${o#*=}")" ;;
		--ca-file=*) vars+=", mta_sts_ca_file = $(i2str "${o#*=}")" ;;
		--timeout-result=*) vars+=", mta_sts_timeout_result = $(i2str "${o#*=}")" ;;
		--timeout=*) vars+=", mta_sts_timeout = $(i2str "${o#*=}")" ;;
		--config=*) vars+=", mta_sts_config = $(i2str "${o#*=}")" ;;
		*) fail "icinga2: -x $o has no mta_sts_* variable"; return 1 ;;
		esac
	done
	cat >"$d/icinga2.conf" <<EOF
/* stswatch e2e.sh: Icinga 2 in a temporary directory */
const PluginDir = $(i2str "$TMP/plugins")
const ZoneName = NodeName

include <itl>
include $(i2str "$ROOT/packaging/icinga2/mta_sts.conf")
include $(i2str "$ROOT/packaging/icinga2/example-service.conf")

object FileLogger "main" {
	path = $(i2str "$d/log/icinga2.log")
	severity = "information"
}
object CheckerComponent "checker" { }
object ExternalCommandListener "command" {
	command_path = $(i2str "$d/run/icinga2.cmd")
}
object PerfdataWriter "result" {
	service_perfdata_path = $(i2str "$d/perf/service")
	service_temp_path = $(i2str "$d/perf/service.tmp")
	host_perfdata_path = $(i2str "$d/perf/host")
	host_temp_path = $(i2str "$d/perf/host.tmp")
	service_format_template = "RESULT\t\$service.name\$\t\$service.state_id\$\t\$service.perfdata\$\t\$service.output\$"
	rotation_interval = 1s
}

object Host "mx1.example.org" {
	check_command = "dummy"
	enable_active_checks = false
	vars.mta_sts = {
		$(i2str "$DOMAIN") = { $vars }
	}
}
EOF
	if ! icinga2 daemon -C -c "$d/icinga2.conf" "${def[@]}" >"$d/validate.out" 2>&1; then
		fail "icinga2: the e2e configuration does not validate"
		grep -E 'critical|Error' "$d/validate.out" | sed 's/^/     | /'
		return 1
	fi
	rm -f "$TMP/argv.last"
	start_group "$d/icinga2.out" icinga2 daemon -c "$d/icinga2.conf" "${def[@]}"
	local pg=$STARTED
	if ! wait_pipe "$d/run/icinga2.cmd"; then
		fail "icinga2: no command pipe after 10 s"
		sed 's/^/     | /' "$d/icinga2.out" | tail -5
		stop_group "$pg"
		return 1
	fi
	svc="mta-sts-$DOMAIN"
	ts=$(date +%s)
	printf '[%s] SCHEDULE_FORCED_SVC_CHECK;mx1.example.org;%s;%s\n' "$ts" "$svc" "$ts" \
		>"$d/run/icinga2.cmd"
	line=
	for _ in $(seq 1 $((WAIT * 5))); do
		line=$(cat "$d"/perf/service.[0-9]* 2>/dev/null | awk -F '\t' -v s="$svc" '$1 == "RESULT" && $2 == s' | head -1)
		[ -n "$line" ] && break
		sleep 0.2
	done
	stop_group "$pg"
	mv "$TMP/argv.last" "$TMP/argv.icinga2" 2>/dev/null
	if [ -z "$line" ]; then
		fail "icinga2: no check result after $WAIT s"
		grep -E 'warning|critical' "$d/log/icinga2.log" | tail -5 | sed 's/^/     | /'
		return 1
	fi
	# The output (last, as the long text follows on further lines) is compared by its first
	# line, as Nagios' plugin_output; Icinga 2 keeps the blank before the '|': trim it.
	judge icinga2 "$(printf '%s' "$line" | cut -f3)" \
		"$(printf '%s' "$line" | cut -f5 | sed 's/[[:space:]]*$//')" \
		"$(printf '%s' "$line" | cut -f4)"
	check_argv icinga2
	echo "     icinga2: $(elapsed "$t0") s"
}

ran=0
if [ "$ENGINE" = nagios ] || [ "$ENGINE" = all ]; then
	run_nagios
	[ $? -ne 77 ] && ran=$((ran + 1))
fi
if [ "$ENGINE" = icinga2 ] || [ "$ENGINE" = all ]; then
	run_icinga2
	[ $? -ne 77 ] && ran=$((ran + 1))
fi

# Nothing of ours may keep running.
for g in "${PGIDS[@]}"; do
	if group_alive "$g"; then fail "process group $g still runs"; fi
done
if [ "$failures" -gt 0 ]; then
	echo "e2e.sh: $failures failure(s)"
	exit 1
fi
if [ "$ran" -eq 0 ]; then
	exit 77	# no engine installed
fi
echo "e2e.sh: the engines recorded what the plugin said"
exit 0
