# tests/sv.sh: helpers for tests that run `mls supervise` (source after lib.sh).
#
#   sv_start CONFIG [ARGS...]   start a supervisor in the background on CONFIG
#                               (its state_dir must be under $T); sets SV_PID,
#                               SV_SOCK (STATE_DIR/mls.sock, read from the
#                               config's state_dir line), SV_ERR (its stderr
#                               file), SV_OUT (its stdout file); waits for the
#                               socket (10 s) or fails the script
#   ctl ARGS...                 mls ctl -s $SV_SOCK ARGS (sets OUT ERR RC via run)
#   (poll, wait_for and never_within are lib.sh's)
#   state_of NAME.N             the instance's state from `ctl --json status`
#   pid_of NAME.N               its pid ("null" when none)
#   field_of NAME.N FIELD       any field of its status entry
#   sv_stop [SIG]               SIGTERM (or SIG) to the supervisor, waits for
#                               it (20 s), sets SV_RC to its exit status
#
# Nothing sleeps for a fixed time: every wait is a poll on a condition with
# a timeout. The supervisor is killed on exit if still running.

SV_PID=
SV_RC=
sv_cleanup() {
	if [ -n "$SV_PID" ] && kill -0 "$SV_PID" 2>/dev/null; then
		kill -KILL "$SV_PID" 2>/dev/null
		wait "$SV_PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap sv_cleanup EXIT

sv_start() {
	local cfg=$1
	shift
	local sd
	sd=$(sed -n 's/^state_dir: *//p' "$cfg" | head -1)
	case $sd in /*) ;; *) sd=$(cd "$(dirname "$cfg")" && pwd)/$sd ;; esac
	SV_SOCK=$sd/mls.sock
	SV_ERR=$T/sv.$RANDOM.err
	SV_OUT=${SV_ERR%.err}.out
	"$MLS" supervise -c "$cfg" "$@" >"$SV_OUT" 2>"$SV_ERR" &
	SV_PID=$!
	if ! poll 10 test -S "$SV_SOCK"; then
		echo "Bail out! supervisor did not create $SV_SOCK; its stderr:"
		sed 's/^/# /' "$SV_ERR"
		exit 1
	fi
}

ctl() { run "$MLS" ctl -s "$SV_SOCK" "$@"; }

# status JSON of one instance, via python3 (the tests need it already)
field_of() {
	"$MLS" ctl -s "$SV_SOCK" --json status 2>/dev/null | python3 -c '
import json, sys
name, field = sys.argv[1], sys.argv[2]
d = json.load(sys.stdin)
for s in d["services"]:
    if "%s.%d" % (s["name"], s["instance"]) == name:
        v = s.get(field)
        print("null" if v is None else (str(v).lower() if isinstance(v, bool) else v))
        break
' "$1" "$2"
}
state_of() { field_of "$1" state; }
pid_of() { field_of "$1" pid; }
state_is() { [ "$(state_of "$1")" = "$2" ]; }

sv_stop() {
	local sig=${1:-TERM} rc
	SV_RC=
	kill -"$sig" "$SV_PID" 2>/dev/null
	local end=$((SECONDS + 20))
	while kill -0 "$SV_PID" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do sleep 0.02; done
	if kill -0 "$SV_PID" 2>/dev/null; then
		SV_RC=timeout
		kill -KILL "$SV_PID"
	fi
	wait "$SV_PID" 2>/dev/null
	rc=$?
	[ "$SV_RC" = timeout ] || SV_RC=$rc
	SV_PID=
}
