#!/usr/bin/env bash
# mls supervise as PID 1 (issue 3 §3): orphan reaping in a PID namespace
# and as a child subreaper, SIGTERM to the namespace's PID 1, a scratch
# root holding only the binary, a config, /proc and /dev/null (what a
# FROM scratch image gives), and daemon mode (-d).
# Needs: MLS, TESTS_DIR, python3; root and unshare (util-linux) for the
# namespace and scratch-root cases, which are skipped without them.
. "${TESTS_DIR:?}/lib.sh"
. "$TESTS_DIR/sv.sh"

have_python3 || skip_all "needs python3"

U_PID= NS_INIT= DAEMON=
cleanup32() {
	# SIGKILL to a namespace's init kills everything in the namespace
	[ -n "$NS_INIT" ] && kill -KILL "$NS_INIT" 2>/dev/null
	[ -n "$U_PID" ] && wait "$U_PID" 2>/dev/null
	[ -n "$DAEMON" ] && kill -KILL "$DAEMON" 2>/dev/null
	sv_cleanup
}
trap cleanup32 EXIT

alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! kill -0 "$1" 2>/dev/null; }
has() { grep -Eq -- "$2" "$1" 2>/dev/null; }

# procs_where KEY VALUE: "pid state ppid comm" of every process whose KEY
# matches: KEY ns = /proc/PID/ns/pid link (a PID namespace), KEY ppid
procs_where() {
	local p n line
	for p in /proc/[0-9]*; do
		if [ "$1" = ns ]; then
			n=$(readlink "$p/ns/pid" 2>/dev/null) || continue
			[ "$n" = "$2" ] || continue
		fi
		line=$(sed -n 's/^\([0-9]*\) (\(.*\)) \([A-Z]\) \([0-9]*\) .*/\1 \3 \4 \2/p' "$p/stat" 2>/dev/null) || continue
		[ -n "$line" ] || continue
		if [ "$1" = ppid ]; then
			set -- "$1" "$2" $line
			[ "$5" = "$2" ] || { set -- "$1" "$2"; continue; }
			echo "$3 $4 $5 $6"
			set -- "$1" "$2"
			continue
		fi
		echo "$line"
	done
}
# count_gc LIST: how many lines of LIST are gc.sh processes
count_gc() { printf '%s\n' "$1" | grep -c ' gc\.sh$'; }

# The orphan maker: three grandchildren in sessions of their own (so the
# group kill when the main process exits does not reach them), each
# waiting for $T/gc.go, then exiting 3; the main process exits 0 once all
# three run. And a grandchild left in the group, killed with it.
cat >"$T/gc.sh" <<EOF
#!/bin/sh
touch "$T/gc.\$1.up"
while [ ! -e "$T/gc.go" ]; do sleep 0.02; done
exit 3
EOF
chmod +x "$T/gc.sh"
orphan_services() {
	cat <<EOF
  orphans:
    command: ["/bin/sh", "-c", "for i in 1 2 3; do (setsid $T/gc.sh \$i &); done; while [ \$(ls $T/gc.*.up 2>/dev/null | wc -l) -lt 3 ]; do sleep 0.02; done; echo pid1=\$(cat /proc/1/comm); exit 0"]
    restart: "no"
  grp:
    command: ["/bin/sh", "-c", "(sleep 1000 &); exit 0"]
    restart: "no"
  idle:
    command: ["/bin/sh", "-c", "trap 'echo idle-got-term; exit 0' TERM; while :; do sleep 0.05; done"]
EOF
}
three_up() { [ "$(ls "$T"/gc.*.up 2>/dev/null | wc -l)" -eq 3 ]; }

# ======================================================= as PID 1 in a PID namespace

if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
	skip "PID namespace: unshare --pid --fork --mount-proc fails here (not root?)"
else
	cat >"$T/ns.yaml" <<EOF
state_dir: $T/sn
services:
$(orphan_services)
EOF
	rm -f "$T"/gc.*.up "$T/gc.go"
	unshare --pid --fork --mount-proc "$MLS" supervise -c "$T/ns.yaml" >"$T/ns.out" 2>"$T/ns.err" &
	U_PID=$!
	SV_SOCK=$T/sn/mls.sock
	wait_for "namespace: mls answers on its socket" 10 test -S "$SV_SOCK"
	NS_INIT=$(tr -d ' \n' <"/proc/$U_PID/task/$U_PID/children" 2>/dev/null)
	NS=$(readlink "/proc/$NS_INIT/ns/pid" 2>/dev/null)
	is "$(sed -n 's/^NSpid:[[:space:]]*[0-9]*[[:space:]]*//p' "/proc/$NS_INIT/status" 2>/dev/null)" 1 "namespace: mls is PID 1 there"
	is "$(cat "/proc/$NS_INIT/comm" 2>/dev/null)" mls "namespace: PID 1 is mls"
	ctl --json version
	json_check "$OUT" 'd["pid"] == 1'
	ok $? "namespace: ctl version says pid 1"

	wait_for "namespace: the orphan maker's three grandchildren run" 10 three_up
	wait_for "namespace: the orphan maker exits 0" 10 state_is orphans.1 exited
	has "$T/ns.out" '^orphans\.1 \| pid1=mls$'
	ok $? "namespace: a service sees mls as /proc/1"
	adopted() { [ "$(count_gc "$(procs_where ns "$NS" | awk -v p="$NS_INIT" '$3 == p')")" -eq 3 ]; }
	wait_for "namespace: the three orphans are adopted by mls (PID 1)" 5 adopted
	wait_for "namespace: grp exits" 10 state_is grp.1 exited
	touch "$T/gc.go"
	gc_gone() { [ "$(count_gc "$(procs_where ns "$NS")")" -eq 0 ]; }
	wait_for "namespace: the orphans exit and are reaped (no gc.sh left, not even a zombie)" 10 gc_gone
	no_zombie() { ! procs_where ns "$NS" | awk '$2 == "Z"' | grep -q .; }
	wait_for "namespace: no zombie in the namespace" 5 no_zombie
	procs_where ns "$NS" | awk '$2 == "Z"' | sed 's/^/# zombie: /'
	no_sleep1000() { ! procs_where ns "$NS" | awk -v p="$NS_INIT" '$3 == p && $4 == "sleep"' | grep -q .; }
	wait_for "namespace: grp's orphaned sleep went with its group" 5 no_sleep1000
	alive "$NS_INIT"
	ok $? "namespace: mls still runs"
	is "$(state_of idle.1)" running "namespace: idle.1 running"

	# SIGTERM to the namespace's PID 1
	kill -TERM "$NS_INIT"
	wait_for "namespace: SIGTERM to PID 1 ends it" 20 dead "$NS_INIT"
	wait "$U_PID"
	is "$?" 0 "namespace: exit status 0 (through unshare)"
	U_PID= NS_INIT=
	like "$(cat "$T/ns.out")" '^idle\.1 \| idle-got-term$' "namespace: idle got the SIGTERM (a graceful stop, not the kernel's SIGKILL)"
	like "$(cat "$T/ns.err")" 'all services stopped, exiting with status 0' "namespace: mls stopped every service itself"
	unlike "$(cat "$T/ns.err")" 'SIGKILL' "namespace: no SIGKILL needed"
	ns_left() { [ -z "$(procs_where ns "$NS")" ]; }
	wait_for "namespace: nothing left in the namespace" 5 ns_left
fi

# ======================================================= not PID 1: child subreaper

cat >"$T/sub.yaml" <<EOF
state_dir: $T/ss
services:
$(orphan_services)
EOF
rm -f "$T"/gc.*.up "$T/gc.go"
sv_start "$T/sub.yaml"
wait_for "subreaper: the three grandchildren run" 10 three_up
wait_for "subreaper: the orphan maker exits" 10 state_is orphans.1 exited
adopted_sub() { [ "$(count_gc "$(procs_where ppid "$SV_PID")")" -eq 3 ]; }
wait_for "subreaper: the orphans are adopted by mls (not by init)" 5 adopted_sub
touch "$T/gc.go"
gc_gone_sub() { [ "$(count_gc "$(procs_where ppid "$SV_PID")")" -eq 0 ]; }
wait_for "subreaper: they exit and are reaped" 10 gc_gone_sub
no_zombie_sub() { ! procs_where ppid "$SV_PID" | awk '$2 == "Z"' | grep -q .; }
ok $(no_zombie_sub && echo 0 || echo 1) "subreaper: no zombie child of mls"
sv_stop
is "$SV_RC" 0 "subreaper: SIGTERM, exit 0"

# ======================================================= a scratch root

R=$T/root
scratch_ok=1
mkdir -p "$R/proc" "$R/dev" && cp "$MLS" "$R/mls" || scratch_ok=0
if [ $scratch_ok = 1 ] && ! mknod "$R/dev/null" c 1 3 2>/dev/null; then
	scratch_ok=0
fi
if [ $scratch_ok = 1 ] && ! unshare --pid --fork --mount --mount-proc --root "$R" /mls --version >/dev/null 2>&1; then
	scratch_ok=0
fi
if [ $scratch_ok = 0 ]; then
	skip "scratch root: cannot build it or unshare --root into it (not root?)"
else
	is "$(ls -A "$R" | tr '\n' ' ')" "dev mls proc " "scratch root: holds only /mls, /dev/null and /proc"
	# a job, then a job asking mls to shut down (no shell, no /run, no /etc)
	cat >"$R/mls.yaml" <<'EOF'
services:
  ver:
    command: ["/mls", "--version"]
    runs: 1
  bye:
    command: ["/mls", "ctl", "shutdown"]
    runs: 1
    depends_on:
      ver: {condition: service_completed_successfully}
EOF
	run timeout 20 unshare --pid --fork --mount --mount-proc --root "$R" /mls supervise -c /mls.yaml
	is "$RC" 0 "scratch root: the job runs, the shutdown request ends mls, exit 0"
	like "$OUT" '^ver\.1 \| mls [^ ]+ \([a-z0-9_]+\)$' "scratch root: the job's output on mls's stdout"
	like "$ERR" 'supervise starting, pid 1,' "scratch root: mls ran as PID 1"
	like "$ERR" 'ver\.1: exited' "scratch root: the job exited"
	test -d "$R/run/mls" && test -s "$R/run/mls/journal"
	ok $? "scratch root: mls created its state_dir /run/mls (journal written)"
	test ! -e "$R/run/mls/mls.sock"
	ok $? "scratch root: the socket is removed at exit"

	# a critical job that fails ends mls with its status
	cat >"$R/mls.yaml" <<'EOF'
services:
  idle:
    command: ["/mls", "ctl", "events"]
  boom:
    command: ["/mls", "nosuch"]
    restart: "no"
    critical: true
EOF
	run timeout 20 unshare --pid --fork --mount --mount-proc --root "$R" /mls supervise -c /mls.yaml
	is "$RC" 127 "scratch root: a critical service that fails ends mls with its status (127)"
	like "$ERR" 'critical service failed' "scratch root: says so"
	like "$ERR" 'idle\.1: stopped' "scratch root: the other service was stopped first"
fi

# ======================================================= daemon mode

cat >"$T/d.yaml" <<EOF
state_dir: $T/sd
services:
  idle:
    command: ["/bin/sh", "-c", "echo daemon-hello; exec sleep 1000"]
EOF
SV_SOCK=$T/sd/mls.sock
t0=$(date +%s%N)
run timeout 10 "$MLS" supervise -d -c "$T/d.yaml"
t1=$(date +%s%N)
is "$RC" 0 "daemon: supervise -d exits 0"
ms=$(((t1 - t0) / 1000000))
ok $((ms < 2000 ? 0 : 1)) "daemon: returns at once (${ms} ms)"
is "$OUT$ERR" "" "daemon: prints nothing"
DAEMON=$(cat "$T/sd/mls.pid" 2>/dev/null)
like "$DAEMON" '^[0-9]+$' "daemon: STATE_DIR/mls.pid holds a pid"
alive "${DAEMON:-0}"
ok $? "daemon: that process runs"
# ready when -d returns: no wait for the socket
ctl --json version
is "$RC" 0 "daemon: ctl works as soon as -d returned"
json_check "$OUT" "d['pid'] == ${DAEMON:-0}"
ok $? "daemon: the pid file's pid is the supervisor's"
sess=$(awk '{print $6}' "/proc/${DAEMON:-0}/stat" 2>/dev/null)
mysess=$(awk '{print $6}' /proc/$$/stat)
ok $([ -n "$sess" ] && [ "$sess" != "$mysess" ] && echo 0 || echo 1) "daemon: detached into a session of its own"
wait_for "daemon: idle.1 running" 10 state_is idle.1 running
ipid=$(pid_of idle.1)
ctl status
like "$OUT" '^idle\.1 +running ' "daemon: ctl status works"
wait_for "daemon: its output goes to STATE_DIR/mls.log" 5 has "$T/sd/mls.log" '^idle\.1 \| daemon-hello$'
like "$(cat "$T/sd/mls.log")" 'supervise starting' "daemon: its event log too"
run timeout 10 "$MLS" supervise -c "$T/d.yaml"
is "$RC" 1 "daemon: a second supervisor on the same state_dir is refused"
like "$ERR" "another supervisor \\(pid $DAEMON\\) runs with state_dir" "daemon: ... saying which"
run timeout 10 "$MLS" supervise -d -c "$T/d.yaml"
is "$RC" 1 "daemon: a second -d on the same state_dir is refused too"
alive "${DAEMON:-0}"
ok $? "daemon: the first one still runs"
ctl shutdown
is "$RC" 0 "daemon: ctl shutdown exits 0"
wait_for "daemon: the supervisor ends" 10 dead "${DAEMON:-0}"
wait_for "daemon: its service ends" 5 dead "${ipid:-0}"
test ! -e "$T/sd/mls.pid"
ok $? "daemon: the pid file is removed"
like "$(cat "$T/sd/mls.log")" 'exiting with status 0' "daemon: logged its exit"
DAEMON=

# a failure after detaching (here: a socket path too long for sun_path)
# is shown where the user looks, and -d exits 1
long=$T/$(printf 'd%.0s' $(seq 110))
cat >"$T/dlong.yaml" <<EOF
state_dir: $long
services:
  idle:
    command: ["sleep", "1000"]
EOF
run timeout 10 "$MLS" supervise -d -c "$T/dlong.yaml"
is "$RC" 1 "daemon: a setup failure after detaching: exit 1"
like "$ERR" 'cannot listen on .*mls\.sock' "daemon: ... and its message on the caller's stderr"
test ! -e "$long/mls.pid"
ok $? "daemon: ... and no stale pid file"

cat "$T"/sv.*.err "$T/ns.err" 2>/dev/null >"$T/all.err"
unlike "$(cat "$T/all.err" "$T/sd/mls.log" 2>/dev/null)" '(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:)' "no sanitizer report from any supervisor"

done_testing
