#!/bin/sh
# check-layers.sh: the folders depend one way (DESIGN.md "Layers"):
#   agent/ may include checks/, alerts/ and lib/;
#   checks/ and alerts/ may include lib/ but not agent/ nor each other;
#   lib/ includes nothing of the folders above it.
# Prints every include that breaks a rule, with file and line, and exits 1 if there is one.
set -u
cd "$(dirname "$0")/.."
bad=0
rule() {
	# $1: folder, $2: extended regex of forbidden include targets, $3: why
	for f in $(find "$1" -name '*.[ch]' 2>/dev/null | sort); do
		grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]+\"(\.\./)*($2)/" "$f" |
		while IFS= read -r hit; do
			echo "$f:$hit  <- $3"
		done | grep . && bad=1
	done
	return 0
}
out=$(
	rule lib 'agent|checks|alerts' 'lib/ is the base: it includes nothing above it'
	rule checks 'agent|alerts' 'checks/ includes only lib/ (and itself)'
	rule alerts 'agent|checks' 'alerts/ includes only lib/ (and itself)'
)
if [ -n "$out" ]; then
	printf '%s\n' "$out" >&2
	echo "check-layers: includes against the layer order (DESIGN.md \"Layers\")" >&2
	exit 1
fi
echo "ok   layers: lib <- checks, alerts <- agent"
