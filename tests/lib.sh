# tests/lib.sh: shared helpers for the tests/*.t integration scripts (bash).
#
#   . "$TESTS_DIR/lib.sh"
#   run "$MLS" --list           # sets OUT, ERR (text) and RC (exit status)
#   is "$RC" 0 "--list exits 0"
#   like "$ERR" "unknown applet" "says why"
#   done_testing                # prints the plan, exits 1 if anything failed
#
# Results are TAP: "ok N - DESC" or "not ok N - DESC" followed by "# got:"
# and "# want:" lines. A test marked with `todo REASON` before it is printed
# as "not ok N - DESC # TODO REASON" when it fails (prove does not count it
# as a failure) and "ok N - DESC # TODO REASON" when it passes (prove says it
# "unexpectedly succeeded": time to remove the todo).
#
# Each script gets a private temporary directory $T, removed on exit.
# Nothing is ever written into the repository, and nothing sleeps.

set -u

: "${MLS:?set MLS to the absolute path of the mls binary}"
: "${TESTS_DIR:?set TESTS_DIR to the absolute path of tests/}"
case $MLS in /*) ;; *) echo "Bail out! MLS must be an absolute path, got '$MLS'"; exit 1 ;; esac
[ -x "$MLS" ] || { echo "Bail out! $MLS is not an executable file"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/mls-test.XXXXXX") || { echo "Bail out! mktemp failed"; exit 1; }
trap 'rm -rf "$T"' EXIT

TAP_N=0
TAP_FAILED=0
TAP_TODO=

# todo REASON: the next result is a known problem (see the report to the lead)
todo() { TAP_TODO=$1; }

# A diagnostic comment: every line of "$*" prefixed with "# "
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }

# ok STATUS DESC: STATUS 0 is a pass (like a shell condition)
ok() {
	local st=$1 desc=$2 dir=
	TAP_N=$((TAP_N + 1))
	[ -n "$TAP_TODO" ] && dir=" # TODO $TAP_TODO"
	if [ "$st" -eq 0 ]; then
		echo "ok $TAP_N - $desc$dir"
	else
		echo "not ok $TAP_N - $desc$dir"
		[ -n "$TAP_TODO" ] || TAP_FAILED=$((TAP_FAILED + 1))
	fi
	TAP_TODO=
	return "$st"
}

# is GOT WANT DESC: exact string comparison
is() {
	local st=0
	[ "$1" = "$2" ] || st=1
	ok $st "$3" || { diag "got:  $(printf '%s' "$1" | sed -n '1!s/^/      /;p')"; diag "want: $(printf '%s' "$2" | sed -n '1!s/^/      /;p')"; }
	return $st
}

# like GOT ERE DESC: GOT matches the extended regular expression somewhere
like() {
	local st=0
	printf '%s\n' "$1" | grep -Eq -- "$2" || st=1
	ok $st "$3" || { diag "got:  $1"; diag "want: /$2/"; }
	return $st
}

# unlike GOT ERE DESC
unlike() {
	local st=0
	printf '%s\n' "$1" | grep -Eq -- "$2" && st=1
	ok $st "$3" || { diag "got:  $1"; diag "want no match of: /$2/"; }
	return $st
}

# run CMD ARGS...: runs with stdin from /dev/null; sets OUT, ERR, RC.
# (Command substitution drops trailing newlines; that is fine for
# line-oriented output.)
run() {
	"$@" </dev/null >"$T/.out" 2>"$T/.err"
	RC=$?
	OUT=$(cat "$T/.out")
	ERR=$(cat "$T/.err")
}

# run_in DIR CMD ARGS...: run with DIR as the working directory
run_in() {
	local d=$1
	shift
	(cd "$d" && "$@") </dev/null >"$T/.out" 2>"$T/.err"
	RC=$?
	OUT=$(cat "$T/.out")
	ERR=$(cat "$T/.err")
}

# A sanitizer report (ASan, LSan, UBSan) in ERR is always a failure of its own
no_sanitizer_report() {
	unlike "$ERR" '(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:)' "$1: no sanitizer report"
}

# json_check JSON PYTHON_EXPR_ON_d: 0 when the expression is true for the
# parsed document d. Needs python3; returns 77 when there is none.
json_check() {
	command -v python3 >/dev/null 2>&1 || return 77
	printf '%s' "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if eval(sys.argv[1]) else 1)' "$2"
}

have_python3() { command -v python3 >/dev/null 2>&1; }

# Skips. A CI machine (.ci/run: root, scripts/install-tools.sh all) has every
# tool and every privilege the tests ask for, so there a test that cannot
# run is a failure, not a silent pass: under CI=true (as CI services set
# it; 1 and yes count too) skip and skip_all print "not ok" with the reason.
#
#   skip REASON         one test cannot run: a tool, root, a resource limit
#   skip_all REASON     the whole script cannot run (before any result)
#   skip_always REASON  a skip that is right on any machine, CI too: what
#                       the machine holds, not what it lacks (e.g. a real
#                       /etc/mls/mls.yaml where the test wants none)
in_ci() { case ${CI:-} in true | 1 | yes) return 0 ;; esac; return 1; }

# a reason as TAP text: '#' would start a directive
tap_reason() { printf '%s' "$1" | tr '\n' ' ' | sed 's/#/\\#/g'; }

skip() {
	if in_ci; then
		ok 1 "skipped under CI=true: $(tap_reason "$1")"
		return 0
	fi
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N # SKIP $(tap_reason "$1")"
}

skip_always() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N # SKIP $(tap_reason "$1")"
}

skip_all() {
	if in_ci; then
		echo "not ok 1 - skipped under CI=true: $(tap_reason "$1")"
		echo "1..1"
		exit 1
	fi
	echo "1..0 # SKIP $(tap_reason "$1")"
	exit 0
}

# ---- waiting on a condition, never on a fixed time

# poll TIMEOUT_S CMD...: until CMD succeeds (every 20 ms) or TIMEOUT_S passes;
# no TAP output
poll() {
	local timeout=$1
	shift
	local end=$((SECONDS + timeout))
	while :; do
		"$@" && return 0
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.02
	done
}

wait_for() {
	local desc=$1 timeout=$2
	shift 2
	local st=0
	poll "$timeout" "$@" || st=1
	ok $st "$desc" || diag "condition not met within ${timeout}s: $*"
	return $st
}

# never_within DESC TIMEOUT_S CMD...: a TAP result that CMD stays false for
# TIMEOUT_S (proving something does not happen is the one fixed wait)
never_within() {
	local desc=$1 timeout=$2
	shift 2
	local st=0
	poll "$timeout" "$@" && st=1
	ok $st "$desc" || diag "became true within ${timeout}s: $*"
	return $st
}

done_testing() {
	echo "1..$TAP_N"
	if [ "$TAP_FAILED" -gt 0 ]; then
		diag "$TAP_FAILED of $TAP_N failed"
		exit 1
	fi
	exit 0
}
