#!/usr/bin/env bash
# mls supervise: output capture and logs (issue 3 §4), hot reload (§6) and
# the state journal. Real supervisors, real processes; every wait is a poll
# on a condition with a timeout.
# Needs: MLS, TESTS_DIR, python3; root for the full-disk case (tmpfs).
. "${TESTS_DIR:?}/lib.sh"
. "$TESTS_DIR/sv.sh"

have_python3 || skip_all "needs python3"

TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'
SMALL=

cleanup31() {
	[ -n "${FPID:-}" ] && kill "$FPID" 2>/dev/null
	if [ -n "$SV_PID" ] && kill -0 "$SV_PID" 2>/dev/null; then
		kill -KILL "$SV_PID" 2>/dev/null
		wait "$SV_PID" 2>/dev/null
	fi
	[ -n "$SMALL" ] && umount -l "$SMALL" 2>/dev/null
	sv_cleanup
}
trap cleanup31 EXIT

# has FILE ERE: FILE has a line matching ERE
has() { grep -Eq -- "$2" "$1" 2>/dev/null; }
# count FILE ERE: how many lines of FILE match
count() { grep -Ec -- "$2" "$1" 2>/dev/null; }
alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! kill -0 "$1" 2>/dev/null; }
# absent NAME.N: the instance is not in `ctl status` any more
absent() { [ -z "$(field_of "$1" state)" ]; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ======================================================= log files

L=$T/l1
cat >"$T/logs.yaml" <<EOF
state_dir: $T/s1
log_dir: $L
services:
  talk:
    command: ["/bin/sh", "-c", "echo out-line; echo err-line >&2; printf partial-line; exit 0"]
    restart: "no"
  long:
    command: ["/bin/sh", "-c", 'head -c 70000 /dev/zero | tr "\\0" x; echo; echo after-long; exit 0']
    restart: "no"
  gen:
    command: ["/bin/sh", "-c", "seq 1 20000 | sed 's/^/n-/'; echo gen-done; exec sleep 1000"]
    log: {max_size: 64KiB, keep: 20}
  gen2:
    command: ["/bin/sh", "-c", "seq 1 20000 | sed 's/^/n-/'; echo gen-done; exec sleep 1000"]
    log: {max_size: 64KiB, keep: 2}
  rep:
    replicas: 2
    command: ["/bin/sh", "-c", "for i in 1 2 3 4 5; do echo \"\$MLS_INSTANCE line \$i\"; done; trap 'echo got-usr1' USR1; while :; do sleep 0.05; done"]
EOF
sv_start "$T/logs.yaml"

wait_for "talk.1 runs and exits" 10 state_is talk.1 exited
wait_for "talk.1's output lands in LOG_DIR/talk.1.log" 5 has "$L/talk.1.log" 'partial-line'
f=$(cat "$L/talk.1.log" 2>/dev/null)
like "$f" "^$TS out-line\$" "log file: stdout line with an ISO-8601 timestamp"
like "$f" "^$TS err-line\$" "log file: stderr line captured too"
like "$f" "^$TS partial-line\$" "log file: a partial last line (no newline, then exit) is flushed"
is "$(wc -l <"$L/talk.1.log")" 3 "log file: exactly the three lines"
unlike "$(cat "$SV_OUT")" '(out-line|err-line|partial-line)' "with log_dir: nothing of the output on mls's stdout"
unlike "$(cat "$SV_ERR")" '(out-line|err-line|partial-line)' "with log_dir: nothing of the output on mls's stderr"

# A 70,000-byte line: split at 64 KiB
wait_for "long.1 exits" 10 state_is long.1 exited
wait_for "long.1.log holds the line after the long one" 5 has "$L/long.1.log" ' after-long$'
got=$(awk '{ sub(/^[^ ]+ /, ""); if ($0 ~ /^x+$/) print "x*" length($0); else print $0 }' "$L/long.1.log")
is "$got" "x*65536
x*4464
after-long" "a line longer than 64 KiB is split at 64 KiB, nothing lost"

# Rotation: 20,000 numbered lines, max_size 64KiB, keep 20 (no file is
# deleted: ~700 KB in all), every number exactly once, no line cut
wait_for "gen wrote its 20,000 lines (gen-done in the current file)" 20 has "$L/gen.1.log" ' gen-done$'
rot=$(cd "$L" && python3 - <<'PY'
import os, re
ts = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (n-(\d+)|gen-done)$')
files = ["gen.1.log"] + sorted([f for f in os.listdir(".") if f.startswith("gen.1.log.")],
                               key=lambda f: int(f.rsplit(".", 1)[1]))
seen, bad, big, ranges = {}, 0, 0, []
for f in files:
    data = open(f, "rb").read()
    if len(data) > 65536:
        big += 1
    nums = []
    if data and not data.endswith(b"\n"):
        bad += 1
    for line in data.decode("latin-1").splitlines():
        m = ts.match(line)
        if not m:
            bad += 1
            continue
        if m.group(2):
            n = int(m.group(2))
            seen[n] = seen.get(n, 0) + 1
            nums.append(n)
    ranges.append((min(nums), max(nums)) if nums else None)
missing = sum(1 for n in range(1, 20001) if n not in seen)
dups = sum(1 for n, c in seen.items() if c > 1)
# newest first: gen.1.log, .1, .2, ... each older than the one before
order = all(a and b and b[1] < a[0] for a, b in zip(ranges, ranges[1:]))
print("files=%d missing=%d dups=%d extra=%d bad=%d big=%d order=%s" % (
    len(files), missing, dups, len(seen) - (20000 - missing), bad, big, order))
PY
)
diag "rotation: $rot"
like "$rot" 'missing=0 dups=0 extra=0 ' "rotation: each of the 20,000 numbers appears exactly once across the files"
like "$rot" 'bad=0 ' "rotation: every line whole (timestamp + 'n-NUMBER'), every file ends with a newline"
like "$rot" 'big=0 ' "rotation: no file passes max_size (64 KiB)"
like "$rot" 'order=True' "rotation: NAME.N.log.1 is the newest rotated file, .2 older, and so on"
nf=$(printf '%s' "$rot" | sed -n 's/^files=\([0-9]*\).*/\1/p')
ok $(( ${nf:-0} >= 8 ? 0 : 1 )) "rotation: the 700 KB went into several files (got ${nf:-0})"
is "$(field_of gen.1 dropped_lines)" 0 "rotation: dropped_lines 0"

# keep: 2 with the same 20,000 lines: only the oldest whole files go; what
# is left is the newest lines, each once, none cut, in 3 files
wait_for "gen2 wrote its 20,000 lines" 20 has "$L/gen2.1.log" ' gen-done$'
rot2=$(cd "$L" && ls gen2.1.log* | tr '\n' ' ' && cat gen2.1.log.2 gen2.1.log.1 gen2.1.log | awk '
	/^[0-9-]+T[0-9:.]+Z n-[0-9]+$/ { n = substr($2, 3) + 0; if (!first) first = n; if (n != prev + 1 && prev) gap++; prev = n; c++; next }
	/^[0-9-]+T[0-9:.]+Z gen-done$/ { next }
	{ bad++ }
	END { printf "first>1:%d last:%d count_ok:%d gaps:%d bad:%d", (first > 1), prev, (c == prev - first + 1), gap, bad }')
is "$rot2" "gen2.1.log gen2.1.log.1 gen2.1.log.2 first>1:1 last:20000 count_ok:1 gaps:0 bad:0" \
	"rotation with keep 2: three files left, holding the newest lines in order, whole, each once"

# ctl logs: the last lines from the in-memory ring, with instance prefixes
ctl logs -n 3 gen
is "$RC" 0 "ctl logs -n 3 gen: exit 0"
is "$OUT" "gen.1 | n-19999
gen.1 | n-20000
gen.1 | gen-done" "ctl logs -n 3 gen: the last three lines, prefixed"
ctl logs gen
is "$(printf '%s\n' "$OUT" | grep -c '^gen\.1 | n-[0-9]*$')" 99 "ctl logs gen: 100 lines by default (99 numbered + gen-done)"
wait_for "both rep instances wrote their 5 lines" 10 has "$L/rep.2.log" ' 2 line 5$'
wait_for "rep.1 wrote its 5 lines" 5 has "$L/rep.1.log" ' 1 line 5$'
ctl logs rep
like "$OUT" '^rep\.1 \| 1 line 1$' "ctl logs rep: rep.1's lines prefixed rep.1"
like "$OUT" '^rep\.2 \| 2 line 5$' "ctl logs rep: rep.2's lines prefixed rep.2"
is "$(printf '%s\n' "$OUT" | wc -l)" 10 "ctl logs rep: the 10 lines of both instances"
ctl logs -n 2 rep.1
is "$OUT" "rep.1 | 1 line 4
rep.1 | 1 line 5" "ctl logs -n 2 rep.1: the last two lines of that instance only"
ctl logs -n 2 nosuch
is "$RC" 1 "ctl logs of an unknown service: exit 1"

# logs -f follows
"$MLS" ctl -s "$SV_SOCK" logs -f -n 1 rep.1 >"$T/follow.txt" 2>&1 &
FPID=$!
wait_for "ctl logs -f: prints the last line first" 5 has "$T/follow.txt" '^rep\.1 \| 1 line 5$'
ctl signal USR1 rep.1
wait_for "ctl logs -f: a new line arrives (the service's got-usr1)" 5 has "$T/follow.txt" '^rep\.1 \| got-usr1$'
alive "$FPID"
ok $? "ctl logs -f keeps following"
kill "$FPID" 2>/dev/null
wait "$FPID" 2>/dev/null
FPID=

# SIGUSR1: reopen the log files (after an external logrotate)
wait_for "got-usr1 is in rep.1.log" 5 has "$L/rep.1.log" ' got-usr1$'
mv "$L/rep.1.log" "$L/rep.1.log.moved"
kill -USR1 "$SV_PID"
wait_for "SIGUSR1: mls opens a new rep.1.log" 5 test -e "$L/rep.1.log"
ctl signal USR1 rep.1
wait_for "SIGUSR1: new lines go to the new file" 5 has "$L/rep.1.log" "^$TS got-usr1\$"
is "$(count "$L/rep.1.log.moved" 'got-usr1')" 1 "SIGUSR1: the renamed file gets no new line"
alive "$SV_PID"
ok $? "SIGUSR1 does not kill mls"

sv_stop
is "$SV_RC" 0 "log_dir supervisor: SIGTERM, exit 0"

# ======================================================= to mls's stdout

cat >"$T/out.yaml" <<EOF
state_dir: $T/s2
services:
  talk:
    replicas: 2
    command: ["/bin/sh", "-c", "echo to-stdout-\$MLS_INSTANCE; echo to-stderr-\$MLS_INSTANCE >&2; printf no-newline-\$MLS_INSTANCE; exit 0"]
    restart: "no"
EOF
sv_start "$T/out.yaml"
wait_for "no log_dir: talk.2 exits" 10 state_is talk.2 exited
wait_for "no log_dir: the partial line of talk.2 reaches mls's stdout" 5 has "$SV_OUT" '^talk\.2 \| no-newline-2$'
o=$(cat "$SV_OUT")
like "$o" '^talk\.1 \| to-stdout-1$' "no log_dir: stdout on mls's stdout as 'NAME.N | line'"
like "$o" '^talk\.1 \| to-stderr-1$' "no log_dir: stderr too"
like "$o" '^talk\.1 \| no-newline-1$' "no log_dir: the partial last line is flushed"
like "$o" '^talk\.2 \| to-stdout-2$' "no log_dir: each instance with its own prefix"
is "$(printf '%s\n' "$o" | grep -c '^talk\.[12] | ')" 6 "no log_dir: six lines, no more"
unlike "$(cat "$SV_ERR")" 'to-stdout' "no log_dir: service output is not on mls's stderr"
test ! -e "$T/s2/talk.1.log"
ok $? "no log_dir: no log file"
sv_stop
is "$SV_RC" 0 "stdout supervisor: exit 0"

# mls's stdout a pipe nobody reads: lines are dropped (counted), mls
# never blocks
cat >"$T/stall.yaml" <<EOF
state_dir: $T/s2b
services:
  chatty:
    command: ["yes"]
  calm:
    command: ["sleep", "1000"]
EOF
mkfifo "$T/stall.fifo"
exec 8<>"$T/stall.fifo" # held open, never read
SV_SOCK=$T/s2b/mls.sock SV_ERR=$T/sv.stall.err
"$MLS" supervise -c "$T/stall.yaml" >"$T/stall.fifo" 2>"$SV_ERR" &
SV_PID=$!
wait_for "stalled stdout: mls answers" 10 test -S "$SV_SOCK"
dropped_chatty() { local d; d=$(field_of chatty.1 dropped_lines); [ -n "$d" ] && [ "$d" != null ] && [ "$d" -gt 0 ]; }
wait_for "stalled stdout: dropped_lines > 0" 10 dropped_chatty
t0=$(now_ms)
ctl restart calm
t1=$(now_ms)
is "$RC" 0 "stalled stdout: ctl restart calm works"
ok $((t1 - t0 < 3000 ? 0 : 1)) "stalled stdout: ... in < 3 s ($((t1 - t0)) ms)"
sv_stop
is "$SV_RC" 0 "stalled stdout: SIGTERM, exit 0"
exec 8<&-

# ======================================================= a flood of output

cat >"$T/flood.yaml" <<EOF
state_dir: $T/s3
log_dir: $T/l3
services:
  yes:
    command: ["yes"]
    log: {max_size: 4MiB, keep: 1}
  zero:
    command: ["/bin/sh", "-c", "tr '\\\\000' z </dev/zero"]
    log: {max_size: 4MiB, keep: 1}
  calm:
    command: ["sleep", "1000"]
EOF
sv_start "$T/flood.yaml"
wait_for "flood: yes.1 running" 10 state_is yes.1 running
wait_for "flood: zero.1 running" 10 state_is zero.1 running
wait_for "flood: yes.1.log rotated at least once (4 MiB written)" 20 test -e "$T/l3/yes.1.log.1"
wait_for "flood: zero.1.log rotated at least once" 20 test -e "$T/l3/zero.1.log.1"
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$SV_PID/status"; }
rss0=$(rss)
ypid=$(pid_of yes.1)
wchar() { sed -n 's/^wchar: //p' "/proc/$ypid/io" 2>/dev/null; }
w0=$(wchar)
# ctl status answers quickly, 20 times in a row, under the flood
worst=0
for k in $(seq 20); do
	t0=$(now_ms)
	"$MLS" ctl -s "$SV_SOCK" status >/dev/null 2>&1 || worst=99999
	t1=$(now_ms)
	[ $((t1 - t0)) -gt "$worst" ] && worst=$((t1 - t0))
done
diag "flood: slowest ctl status of 20: ${worst} ms"
ok $((worst < 1000 ? 0 : 1)) "flood: ctl status answers in < 1 s (slowest of 20: ${worst} ms)"
# another service is served too: a restart completes
cpid=$(pid_of calm.1)
t0=$(now_ms)
ctl restart calm
t1=$(now_ms)
is "$RC" 0 "flood: ctl restart calm succeeds"
ok $((t1 - t0 < 3000 ? 0 : 1)) "flood: the restart takes < 3 s ($((t1 - t0)) ms)"
npid=$(pid_of calm.1)
ok $([ "$npid" != null ] && [ "$npid" != "$cpid" ] && echo 0 || echo 1) "flood: calm.1 has a new pid"
# a few hundred MB through mls, then its memory again
big_written() { local w; w=$(wchar); [ -n "$w" ] && [ $((w - w0)) -ge $((64 << 20)) ]; }
wait_for "flood: yes wrote 64 MB more through mls" 30 big_written
rss1=$(rss)
diag "flood: mls VmRSS ${rss0} kB -> ${rss1} kB; yes wrote $((($(wchar) - w0) >> 20)) MB meanwhile"
ok $((rss1 < 8192 ? 0 : 1)) "flood: mls's RSS stays < 8 MB (${rss1} kB)"
ok $((rss1 - rss0 < 2048 ? 0 : 1)) "flood: mls's RSS does not grow (+$((rss1 - rss0)) kB; < 2 MiB, the biggest transient buffer)"
sv_stop
is "$SV_RC" 0 "flood supervisor: SIGTERM stops it, exit 0"
# (read once mls is gone: while it rotates every few ms, the current file
# is missing for an instant between the rename and the new open)
zl=$(awk '{ n[$0 ~ /^[0-9-]+T[0-9:.]+Z z+$/ ? length($0) - 25 : "bad"]++ } END { for (k in n) print k ":" n[k] }' "$T/l3/zero.1.log.1")
like "$zl" '^65536:[0-9]+$' "flood: newline-less output is cut into whole 64 KiB lines (got $(printf '%s' "$zl" | tr '\n' ' '))"

# ======================================================= a full disk

SMALL=$T/small
mkdir -p "$SMALL"
if ! mount -t tmpfs -o size=256k tmpfs "$SMALL" 2>/dev/null; then
	SMALL=
	skip "full disk: cannot mount a tmpfs (not root?)"
else
	cat >"$T/full.yaml" <<EOF
state_dir: $T/s4
log_dir: $SMALL
services:
  full:
    command: ["/bin/sh", "-c", "seq 1 100000; exec sleep 1000"]
EOF
	sv_start "$T/full.yaml"
	dropped() { local d; d=$(field_of full.1 dropped_lines); [ -n "$d" ] && [ "$d" != null ] && [ "$d" -gt 0 ]; }
	wait_for "full disk: dropped_lines > 0 in status" 10 dropped
	d1=$(field_of full.1 dropped_lines)
	diag "full disk: dropped_lines $d1"
	ok $((d1 <= 100000 ? 0 : 1)) "full disk: dropped_lines counts lines (${d1} of 100000)"
	alive "$SV_PID"
	ok $? "full disk: mls keeps running"
	is "$(state_of full.1)" running "full disk: the service keeps running"
	ctl status
	like "$OUT" 'full\.1 .*dropped' "full disk: ctl status's NOTE mentions the dropped lines"
	first=$(head -1 "$SMALL/full.1.log" | sed 's/^[^ ]* //')
	is "$first" 1 "full disk: the lines that fit were written, from the first"
	sv_stop
	is "$SV_RC" 0 "full disk supervisor: exit 0"
	umount "$SMALL" && SMALL=
fi

# ======================================================= hot reload

# From here on (reload, journal), the ASan/UBSan build when there is one:
# a use-after-free in a config swap does not always crash a release build
if [ -n "${MLS_DEV:-}" ] && [ -x "$MLS_DEV" ]; then
	MLS=$MLS_DEV
	diag "reload and journal cases run $MLS_DEV"
fi

RD=$T/rl
mkdir -p "$RD"
CFG=$RD/mls.yaml
# hold_write FILE: write stdin to FILE and keep it open on fd 7, so the
# IN_CLOSE_WRITE that starts an inotify reload comes only at release_write;
# the reload under test is then the one the test asks for
hold_write() { exec 7>"$1" && cat >&7; }
release_write() { exec 7>&-; }
nlog() { grep -c -- "$1" "$SV_ERR"; }
log_count_is() { [ "$(nlog "$1")" -ge "$2" ]; }

cat >"$CFG" <<EOF
state_dir: $T/s5
services:
  keep:
    command: ["sleep", "1000"]
  change:
    command: ["/bin/sh", "-c", "echo X=\$X; exec sleep 1000"]
    environment: {X: "1"}
  gone:
    command: ["sleep", "1000"]
  web:
    replicas: 2
    command: ["sleep", "1000"]
EOF
sv_start "$CFG"
for n in keep.1 change.1 gone.1 web.1 web.2; do
	wait_for "reload: $n running" 10 state_is $n running
done
p_keep=$(pid_of keep.1) p_change=$(pid_of change.1) p_gone=$(pid_of gone.1)
p_web1=$(pid_of web.1) p_web2=$(pid_of web.2)

# 1. ctl reload: add, remove, change, grow replicas 2 -> 3
hold_write "$CFG" <<EOF
state_dir: $T/s5
services:
  keep:
    command: ["sleep", "1000"]
  change:
    command: ["/bin/sh", "-c", "echo X=\$X; exec sleep 1000"]
    environment: {X: "2"}
  web:
    replicas: 3
    command: ["sleep", "1000"]
  added:
    command: ["sleep", "1000"]
EOF
ctl --json reload
is "$RC" 0 "ctl reload: exit 0"
json_check "$OUT" 'd["ok"] and d["added"] == ["added"] and d["removed"] == ["gone"] and sorted(d["changed"]) == ["change", "web"] and d["unchanged"] == 1'
ok $? "ctl reload: reply lists added [added], removed [gone], changed [change, web], 1 unchanged" || diag "$OUT"
wait_for "reload: the added service starts" 10 state_is added.1 running
wait_for "reload: the removed service's process is stopped" 10 dead "$p_gone"
wait_for "reload: the removed service leaves the status" 10 absent gone.1
chg_new() { local p; p=$(pid_of change.1); [ "$p" != null ] && [ -n "$p" ] && [ "$p" != "$p_change" ] && state_is change.1 running; }
wait_for "reload: the changed service is restarted (new pid, running)" 10 chg_new
ok $(dead "$p_change" && echo 0 || echo 1) "reload: the changed service's old process is gone"
wait_for "reload: the changed service runs with the new environment" 5 has "$SV_OUT" '^change\.1 \| X=2$'
is "$(pid_of keep.1)" "$p_keep" "reload: the unchanged service is untouched (same pid)"
wait_for "reload: replicas 2 -> 3 starts web.3" 10 state_is web.3 running
is "$(pid_of web.1) $(pid_of web.2)" "$p_web1 $p_web2" "reload: replicas 2 -> 3 leaves web.1 and web.2 running (same pids)"
n_ino=$(nlog 'config files changed')
release_write
wait_for "reload: closing the file makes the inotify reload too" 5 log_count_is 'config files changed' $((n_ino + 1))
wait_for "reload: ... which applies (a no-op)" 5 log_count_is 'config reloaded' 2
is "$(pid_of keep.1) $(pid_of web.1) $(pid_of web.3)" "$p_keep $p_web1 $(pid_of web.3)" "reload: a reload of the same config restarts nothing"
p_web3=$(pid_of web.3)
p_change=$(pid_of change.1)
p_added=$(pid_of added.1)

# 2. SIGHUP: replicas 3 -> 1
hold_write "$CFG" <<EOF
state_dir: $T/s5
services:
  keep:
    command: ["sleep", "1000"]
  change:
    command: ["/bin/sh", "-c", "echo X=\$X; exec sleep 1000"]
    environment: {X: "2"}
  web:
    replicas: 1
    command: ["sleep", "1000"]
  added:
    command: ["sleep", "1000"]
EOF
kill -HUP "$SV_PID"
wait_for "SIGHUP: reloads (its log line)" 5 has "$SV_ERR" 'SIGHUP: reloading'
wait_for "SIGHUP: replicas 3 -> 1 removes web.3" 10 absent web.3
wait_for "SIGHUP: ... and web.2" 10 absent web.2
ok $(dead "$p_web2" && dead "$p_web3" && echo 0 || echo 1) "SIGHUP: the processes of web.2 and web.3 are stopped"
is "$(pid_of web.1) $(state_of web.1)" "$p_web1 running" "SIGHUP: web.1 untouched"
is "$(pid_of keep.1) $(pid_of change.1) $(pid_of added.1)" "$p_keep $p_change $p_added" "SIGHUP: the other services untouched"
n_rel=$(nlog 'config reloaded')
release_write
wait_for "SIGHUP: the inotify no-op reload after it" 5 log_count_is 'config reloaded' $((n_rel + 1))

# 3. an editor's save: write a new file, rename it over the config
cat >"$RD/.mls.yaml.swp" <<EOF
state_dir: $T/s5
services:
  keep:
    command: ["sleep", "1000"]
  change:
    command: ["/bin/sh", "-c", "echo X=\$X; exec sleep 1000"]
    environment: {X: "2"}
  web:
    replicas: 1
    command: ["sleep", "1000"]
  added:
    command: ["sleep", "1000"]
  late:
    command: ["sleep", "1000"]
EOF
mv "$RD/.mls.yaml.swp" "$CFG"
wait_for "inotify: an editor's write-then-rename reloads; the new service starts" 10 state_is late.1 running
is "$(nlog 'config reloaded')" $((n_rel + 2)) "inotify: one reload for the save (debounced)"
is "$(pid_of keep.1) $(pid_of web.1) $(pid_of change.1) $(pid_of added.1)" "$p_keep $p_web1 $p_change $p_added" "inotify: the others untouched"
p_late=$(pid_of late.1)

# 4. an invalid config changes nothing
n_bad=$(nlog 'the new config is invalid')
hold_write "$CFG" <<EOF
state_dir: $T/s5
services:
  keep:
    command: ["sleep", "1000"]
  web:
    replicas: 0
    command: ["sleep", "1000"]
EOF
ctl reload
is "$RC" 1 "invalid config: ctl reload exits 1"
like "$OUT$ERR" 'mls\.yaml:6:15: error: services\.web\.replicas' "invalid config: ctl reload prints the error with file:line:col"
release_write
wait_for "invalid config: the inotify reload refuses it too" 5 log_count_is 'the new config is invalid' $((n_bad + 2))
is "$(pid_of keep.1) $(pid_of web.1) $(pid_of change.1) $(pid_of added.1) $(pid_of late.1)" \
	"$p_keep $p_web1 $p_change $p_added $p_late" "invalid config: nothing changed (same pids)"
ctl status
is "$(printf '%s\n' "$OUT" | sed 1d | awk '{print $1, $2}' | sort | tr '\n' ' ')" \
	"added.1 running change.1 running keep.1 running late.1 running web.1 running " "invalid config: the same instances, all running"
alive "$SV_PID"
ok $? "invalid config: mls keeps running"
sv_stop
is "$SV_RC" 0 "reload supervisor: exit 0"

# 5. include: a file added to an include glob's directory, one removed
mkdir -p "$T/inc/conf.d"
cat >"$T/inc/mls.yaml" <<EOF
state_dir: $T/s5b
include: conf.d/*.yaml
services:
  main:
    command: ["sleep", "1000"]
EOF
cat >"$T/inc/conf.d/a.yaml" <<'EOF'
services:
  a:
    command: ["sleep", "1000"]
EOF
sv_start "$T/inc/mls.yaml"
wait_for "include: a.1 running" 10 state_is a.1 running
p_main=$(pid_of main.1) p_a=$(pid_of a.1)
cat >"$T/inc/conf.d/.b.yaml.tmp" <<'EOF'
services:
  b:
    command: ["sleep", "1000"]
EOF
mv "$T/inc/conf.d/.b.yaml.tmp" "$T/inc/conf.d/b.yaml"
wait_for "include: a new file in the glob's directory is picked up (b.1 starts)" 10 state_is b.1 running
rm "$T/inc/conf.d/a.yaml"
wait_for "include: a removed included file stops its service" 10 absent a.1
ok $(dead "$p_a" && echo 0 || echo 1) "include: a.1's process is gone"
is "$(pid_of main.1)" "$p_main" "include: main.1 untouched"
sv_stop
is "$SV_RC" 0 "include supervisor: exit 0"

# 6. dependencies across a reload: the name an instance waits for lived in
# the old config (freed by the reload: a status right after read freed
# memory); a replicas shrink of a service others depend on
cat >"$T/dep.yaml" <<EOF
state_dir: $T/s5c
services:
  db:
    command: ["sleep", "1000"]
    ready: notify
  app:
    command: ["sleep", "1000"]
    depends_on: [db]
  web:
    replicas: 2
    command: ["sleep", "1000"]
  api:
    command: ["sleep", "1000"]
    depends_on: [web]
EOF
sv_start "$T/dep.yaml"
wait_for "deps: app.1 waits for db (never ready)" 10 eval '[ "$(field_of app.1 waiting_for)" = db ]'
wait_for "deps: api.1 runs (after web)" 10 state_is api.1 running
p_web2=$(pid_of web.2) p_api=$(pid_of api.1)
# (a service added, nothing removed: the reload frees the old config)
hold_write "$T/dep.yaml" <<EOF
state_dir: $T/s5c
services:
  db:
    command: ["sleep", "1000"]
    ready: notify
  app:
    command: ["sleep", "1000"]
    depends_on: [db]
  web:
    replicas: 2
    command: ["sleep", "1000"]
  api:
    command: ["sleep", "1000"]
    depends_on: [web]
  extra:
    command: ["sleep", "1000"]
EOF
# reload and status in one request batch: both handled in one loop round
got=$(python3 - "$SV_SOCK" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b"reload\nstatus app\n")
buf = b""
try:
    while buf.count(b"\n") < 2:
        d = s.recv(65536)
        if not d:
            break
        buf += d
except OSError:
    pass
print(buf.decode().split("\n")[1] if buf.count(b"\n") >= 2 else "")
PY
)
json_check "$got" 'd["ok"] and d["services"][0]["state"] == "waiting" and d["services"][0]["waiting_for"] == "db"'
ok $? "deps: a status in the reload's batch says app.1 still waits for db" || diag "$got"
alive "$SV_PID"
ok $? "deps: ... and the supervisor is alive"
n_rel=$(nlog 'config reloaded')
release_write
wait_for "deps: the inotify no-op reload after it" 5 log_count_is 'config reloaded' $((n_rel + 1))
hold_write "$T/dep.yaml" <<EOF
state_dir: $T/s5c
services:
  db:
    command: ["sleep", "1000"]
    ready: notify
  app:
    command: ["sleep", "1000"]
    depends_on: [db]
  web:
    replicas: 1
    command: ["sleep", "1000"]
  api:
    command: ["sleep", "1000"]
    depends_on: [web]
  extra:
    command: ["sleep", "1000"]
EOF
ctl reload
is "$RC" 0 "deps: ctl reload of web's replicas 2 -> 1"
wait_for "deps: replicas 2 -> 1 of web, which api depends on: web.2's process is stopped" 10 dead "$p_web2"
wait_for "deps: ... web.2 leaves the status" 10 absent web.2
is "$(pid_of api.1) $(field_of app.1 waiting_for)" "$p_api db" "deps: api.1 untouched, app.1 still waits for db"
release_write
sv_stop
is "$SV_RC" 0 "deps supervisor: exit 0"

# ======================================================= the journal

cat >"$T/journal.yaml" <<EOF
state_dir: $T/s6
services:
  flaky:
    command: ["/bin/sh", "-c", "test -e $T/flaky-ok && exec sleep 1000; exit 7"]
    restart_backoff: {initial: 10ms, max: 20ms, jitter: 0%}
    restart_limit: {count: 100, window: 60s}
EOF
sv_start "$T/journal.yaml"
restarts_ge() { local r; r=$(field_of flaky.1 restarts); [ -n "$r" ] && [ "$r" -ge "$1" ]; }
wait_for "journal: flaky crashes and restarts 3 times" 10 restarts_ge 3
touch "$T/flaky-ok"
wait_for "journal: flaky then runs" 10 state_is flaky.1 running
r1=$(field_of flaky.1 restarts)
ctl --json history flaky
h1=$OUT
n7=$(printf '%s' "$h1" | python3 -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin)["history"] if e["exit_code"] == 7))')
ok $((n7 >= 4 ? 0 : 1)) "journal: history shows the crashes (exit 7: $n7)"
sv_stop
is "$SV_RC" 0 "journal: first supervisor exits 0"
test -s "$T/s6/journal"
ok $? "journal: STATE_DIR/journal written"
sv_start "$T/journal.yaml"
wait_for "journal: a new supervisor on the same state_dir runs flaky" 10 state_is flaky.1 running
is "$(field_of flaky.1 restarts)" "$r1" "journal: ctl status shows the restart count from before ($r1)"
ctl --json history flaky
h2=$OUT
json_check "$h2" "[e['exit_code'] for e in d['history']].count(7) == min($n7, 9) and d['history'][-1]['signal'] == 'SIGTERM'"
ok $? "journal: ctl history shows the earlier exits (the crashes, then the SIGTERM of the shutdown)" || diag "$h2"
old_pids=$(printf '%s' "$h1" | python3 -c 'import json,sys; print(" ".join(str(e["pid"]) for e in json.load(sys.stdin)["history"][-3:]))')
ctl history flaky
st=0
for p in $old_pids; do printf '%s\n' "$OUT" | grep -q " $p " || st=1; done
ok $st "journal: ctl history (text) lists the earlier pids ($old_pids)" || diag "$OUT"
sv_stop
is "$SV_RC" 0 "journal: second supervisor exits 0"

unlike "$(cat "$T"/sv.*.err)" '(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:)' "no sanitizer report from any supervisor"

done_testing
