#!/usr/bin/env bash
# Live upgrade (issue 13 §5, docs/upgrade.md): `mls ctl upgrade [PATH]` and
# SIGUSR2 re-exec supervise with the same PID and adopt everything: under
# a flat-out writer no log line is lost or doubled; instances in every
# state (running, backoff, waiting on a dependency, a job between runs,
# failed) keep their states, PIDs and restart counts; the socket answers
# at the same path; broken new binaries (not executable, --version
# failing, a state refused before or after exec) leave the old one
# running with nothing restarted; release -> sanitizer build -> release;
# as PID 1 in a PID namespace. Prints the time an upgrade takes.
# Needs: MLS, TESTS_DIR, python3; MLS_DEV for the sanitizer round trip;
# root and unshare for the namespace case.
. "${TESTS_DIR:?}/lib.sh"
. "$TESTS_DIR/sv.sh"

have_python3 || skip_all "needs python3"

U_PID= NS_INIT=
cleanup56() {
	[ -n "$NS_INIT" ] && kill -KILL "$NS_INIT" 2>/dev/null
	[ -n "$U_PID" ] && wait "$U_PID" 2>/dev/null
	sv_cleanup
}
trap cleanup56 EXIT

# the numbers 1..N the writer printed, each once, none missing (across
# rotated files too)
lines_ok() {
	python3 - "$@" <<'EOF'
import re, sys, glob
nums = []
for f in sorted(glob.glob(sys.argv[1] + "*"), key=lambda f: -int(f.rsplit(".", 1)[1]) if f[-1].isdigit() else 0):
    for l in open(f, "rb"):
        m = re.search(rb" n (\d+)$", l.rstrip(b"\n"))
        if m:
            nums.append(int(m.group(1)))
        else:
            print("odd line in %s: %r" % (f, l[:80]))
            sys.exit(1)
if not nums:
    print("no lines"); sys.exit(1)
dup = len(nums) - len(set(nums))
missing = max(nums) - min(nums) + 1 - len(set(nums))
print("%d lines, %d..%d, %d doubled, %d missing" % (len(nums), min(nums), max(nums), dup, missing))
sys.exit(0 if dup == 0 and missing == 0 and min(nums) == 1 else 1)
EOF
}

snapshot() { # NAME.N per line: name state pid restarts
	"$MLS" ctl -s "$SV_SOCK" --json status | python3 -c '
import json, sys
for s in json.load(sys.stdin)["services"]:
    print("%s.%d %s %s %s" % (s["name"], s["instance"], s["state"], s.get("pid"), s.get("restarts")))'
}
sup_field() { "$MLS" ctl -s "$SV_SOCK" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["supervisor"][sys.argv[1]])' "$1"; }

cat >"$T/up.yaml" <<EOF
state_dir: $T/st
log_dir: $T/logs
services:
  load:
    command: [sh, -c, 'i=0; while [ \$i -lt 3000000 ]; do i=\$((i+1)); echo "n \$i"; done; exec sleep 1000']
    log: {max_size: 1GiB}
  idle:
    command: [sleep, "1000"]
  half:
    command: [sh, -c, 'echo first; printf half-; while [ ! -e $T/go ]; do sleep 0.05; done; echo line; exec sleep 1000']
  crashy:
    command: [sh, -c, 'exit 3']
    restart_backoff: {initial: 1h, max: 1h}
  waiter:
    command: [sleep, "1000"]
    depends_on: {crashy: {condition: service_completed_successfully}}
  job:
    command: [sh, -c, 'echo ran']
    schedule: "0 0 1 1 *"
  broken:
    command: [sh, -c, 'exit 1']
    restart: on-failure
    restart_limit: {count: 1, window: 1h}
EOF
sv_start "$T/up.yaml"
wait_for "crashy in backoff" 10 state_is crashy.1 backoff
wait_for "broken failed" 10 state_is broken.1 failed
wait_for "load running" 10 state_is load.1 running
wait_for "idle running" 10 state_is idle.1 running
poll 5 test -s "$T/logs/load.1.log"
wait_for "half wrote its first line" 10 grep -q ' first$' "$T/logs/half.1.log"
BEFORE=$(snapshot)
diag "before:" "$BEFORE"
like "$BEFORE" '^waiter\.1 waiting ' "waiter waits on its dependency"
like "$BEFORE" '^job\.1 waiting ' "the job waits for its next run"
sleep 1.1 # the supervisor's uptime must be >= 1 s to see it reset
UP0=$(sup_field uptime_s)

# ---- upgrade under load, three times, by request and by signal
ctl upgrade
is "$RC" 0 "ctl upgrade exits 0" || diag "$OUT $ERR"
like "$OUT" "upgraded: mls .* \(pid $SV_PID\), 7 instances adopted, 0 restarted" "the reply comes from the new process, same pid"
diag "$OUT"
ctl --json upgrade "$MLS"
json_check "$OUT" 'd["ok"] and d["pid"] == '"$SV_PID"
ok $? "ctl upgrade PATH: ok, same pid"
kill -USR2 "$SV_PID"
wait_for "SIGUSR2 upgrades too" 10 grep -q 'SIGUSR2: upgrading' "$SV_ERR"
poll 10 sh -c "grep -c 'upgrade: from mls' '$SV_ERR' | grep -qx 3"
is "$(grep -c 'upgrade: from mls' "$SV_ERR")" 3 "three upgrades adopted"
test -S "$SV_SOCK"
ok $? "the socket is still at $SV_SOCK"
kill -0 "$SV_PID"
ok $? "the supervisor runs (same PID $SV_PID)"
AFTER=$(snapshot)
is "$AFTER" "$BEFORE" "every instance: same state, pid and restart count"
UP1=$(sup_field uptime_s)
ok $([ "$UP1" -lt "$UP0" ] && echo 0 || echo 1) "the supervisor's uptime starts again (${UP0}s before, ${UP1}s after)"
wait_for "the writer finished its 3000000 lines" 60 sh -c "tail -c 200 '$T/logs/load.1.log' | grep -q ' n 3000000\$'"
R=$(lines_ok "$T/logs/load.1.log")
ok $? "every line of the writer is in the log exactly once: $R"
unlike "$(cat "$SV_ERR")" "dropped|NOT ADOPTED|LOST" "no line dropped, nothing lost"
touch "$T/go"
wait_for "a line half written before the upgrades is one line after" 10 grep -q ' half-line$' "$T/logs/half.1.log"
ctl logs -n 5 half
like "$OUT" 'first' "ctl logs: the lines kept in memory before the upgrade are there"

# ---- broken new binaries: the old keeps running, nothing restarted
B4=$(snapshot)
printf 'not a program\n' >"$T/notexec"
ctl upgrade "$T/notexec"
ok $([ "$RC" -ne 0 ] && echo 0 || echo 1) "a file that is not executable: refused"
like "$ERR$OUT" "Permission denied|not upgraded" "says why"
printf '#!/bin/sh\nexit 1\n' >"$T/fails"
chmod +x "$T/fails"
ctl upgrade "$T/fails"
like "$ERR$OUT" "--version: exit status 1: not upgraded" "--version exiting 1: refused"
printf '#!/bin/sh\nMLS_TEST_UPGRADE_REFUSE=1 exec "%s" "$@"\n' "$MLS" >"$T/refuses"
chmod +x "$T/refuses"
ctl upgrade "$T/refuses"
like "$ERR$OUT" "refused the state" "a binary that refuses the state version: refused before exec"
like "$(cat "$SV_ERR")" "state refused \(test hook" "its reason is in the log"
printf '#!/bin/sh\nMLS_TEST_UPGRADE_REFUSE=exec exec "%s" "$@"\n' "$MLS" >"$T/late"
chmod +x "$T/late"
ctl upgrade "$T/late"
wait_for "refused after exec: the old binary is exec'd back" 10 grep -q 'going back to the old binary' "$SV_ERR"
wait_for "... and adopts the state" 10 sh -c "grep -c 'upgrade: from mls' '$SV_ERR' | grep -qx 4"
kill -0 "$SV_PID"
ok $? "the supervisor still runs"
is "$(snapshot)" "$B4" "after the four broken binaries: same states, pids, restart counts"

# ---- release -> sanitizer build -> release
if [ -n "${MLS_DEV:-}" ] && [ -x "$MLS_DEV" ]; then
	ctl upgrade "$MLS_DEV"
	is "$RC" 0 "upgrade to the sanitizer build" || diag "$OUT $ERR"
	is "$(snapshot)" "$B4" "under the sanitizer build: same instances"
	ctl restart idle
	is "$RC" 0 "the sanitizer build restarts idle"
	ctl upgrade "$MLS"
	is "$RC" 0 "and back to the release build"
	unlike "$(cat "$SV_ERR")" "AddressSanitizer|LeakSanitizer|runtime error" "no sanitizer report"
else
	skip "MLS_DEV not set: no sanitizer round trip"
fi

# ---- the time an upgrade takes: request to the new process answering status
TIMES=
for k in 1 2 3 4 5; do
	t0=$(date +%s%N)
	"$MLS" ctl -s "$SV_SOCK" upgrade >/dev/null && "$MLS" ctl -s "$SV_SOCK" status >/dev/null
	t1=$(date +%s%N)
	TIMES="$TIMES $(((t1 - t0) / 1000000))"
done
diag "upgrade + status, ms:$TIMES (supervisor's own figures: $(grep -o 'in [0-9]* ms$' "$SV_ERR" | tail -5 | tr '\n' ' '))"
sv_stop
is "$SV_RC" 0 "after the upgrades, SIGTERM stops everything, exit 0"

# ---- as PID 1 in a PID namespace
if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
	skip "PID namespace: unshare --pid --fork --mount-proc fails here (not root?)"
else
	cat >"$T/ns.yaml" <<EOF
state_dir: $T/sn
services:
  idle:
    command: [sleep, "1000"]
  crashy:
    command: [sh, -c, 'exit 3']
    restart_backoff: {initial: 1h, max: 1h}
EOF
	unshare --pid --fork --mount-proc "$MLS" supervise -c "$T/ns.yaml" >"$T/ns.out" 2>"$T/ns.err" &
	U_PID=$!
	SV_SOCK=$T/sn/mls.sock
	wait_for "namespace: mls answers" 10 test -S "$SV_SOCK"
	NS_INIT=$(tr -d ' \n' <"/proc/$U_PID/task/$U_PID/children" 2>/dev/null)
	wait_for "namespace: crashy in backoff" 10 state_is crashy.1 backoff
	wait_for "namespace: idle running" 10 state_is idle.1 running
	NB=$(snapshot)
	ctl upgrade
	is "$RC" 0 "namespace: ctl upgrade" || diag "$OUT $ERR"
	ctl --json version
	json_check "$OUT" 'd["pid"] == 1'
	ok $? "namespace: the new process is PID 1"
	is "$(snapshot)" "$NB" "namespace: same states and pids"
	ctl upgrade "$T/fails"
	kill -0 "$NS_INIT"
	ok $? "namespace: a failing binary leaves PID 1 running"
	kill -TERM "$NS_INIT"
	wait_for "namespace: SIGTERM ends PID 1" 20 sh -c "! kill -0 $NS_INIT 2>/dev/null"
	wait "$U_PID"
	is "$?" 0 "namespace: exit status 0"
	U_PID= NS_INIT=
fi

done_testing
