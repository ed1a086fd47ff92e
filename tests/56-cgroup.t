#!/usr/bin/env bash
# mls supervise with cgroup v2 (issue 13 §3, docs/cgroups.md), what can run
# on this host: it has only an empty cgroup2 hierarchy (no controllers: they
# are all on cgroup v1), mounted at /sys/fs/cgroup/unified, so placement,
# cgroup.kill and cgroup.events are tested here, and the limits
# (memory.max, cpu.max, pids.max) in the VM (make test-boot). mls is told
# where the mount is with MLS_CGROUP_MOUNT (a test hook; by default it
# looks at /sys/fs/cgroup) and runs in a cgroup of its own made by the test.
# Needs: MLS, TESTS_DIR, root, a writable cgroup2 mount.
. "${TESTS_DIR:?}/lib.sh"
. "$TESTS_DIR/sv.sh"

have_python3 || skip_all "needs python3"
[ "$(id -u)" = 0 ] || skip_all "needs root (cgroups)"
MNT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$MNT" ] && [ -w "$MNT/cgroup.procs" ] || skip_all "no writable cgroup2 mount"
export MLS_CGROUP_MOUNT=$MNT

CG=$MNT/mls-test-$$
mkdir "$CG" || skip_all "cannot make a cgroup in $MNT"
cg_cleanup() {
	echo $$ >"$MNT/cgroup.procs" 2>/dev/null
	sv_cleanup
	# instances' cgroups left by a failed run: kill what is in them, remove them
	find "$CG" -depth -type d 2>/dev/null | while read -r d; do
		echo 1 >"$d/cgroup.kill" 2>/dev/null
		rmdir "$d" 2>/dev/null || { sleep 0.2; rmdir "$d" 2>/dev/null; }
	done
}
trap cg_cleanup EXIT
echo $$ >"$CG/cgroup.procs" # this shell, so the supervisor it starts, in $CG

procs() { cat "$1/cgroup.procs" 2>/dev/null | tr '\n' ' '; }
alive() { kill -0 "$1" 2>/dev/null; }
# the pid of a process whose command line is exactly "sleep N"
pid_by() { pgrep -xf "sleep $1" | head -1; }

# dbl: its main process, and a daemon it double-forks into a session of
# its own that ignores SIGTERM (out of its process group: only the cgroup
# holds it); crash: the same, but the main process exits 3 after 1 s
cat >"$T/c.yaml" <<EOF
state_dir: $T/s
services:
  dbl:
    command: ["sh", "-c", "setsid sh -c 'trap \"\" TERM; sleep 7771 & wait' </dev/null >/dev/null 2>&1 & exec sleep 7770"]
    stop_grace_period: 1s
  crash:
    command: ["sh", "-c", "setsid sh -c 'trap \"\" TERM; exec sleep 7781' </dev/null >/dev/null 2>&1 & sleep 1; exit 3"]
    restart_backoff: {initial: 30s}
EOF
sv_start "$T/c.yaml"
wait_for "dbl.1 runs" 10 state_is dbl.1 running
like "$(cat "$SV_ERR")" "cgroups: each instance in $CG/mls/NAME\.N \(controllers: none\)" \
	"supervise says where the instances' cgroups are, and which controllers it has"
wait_for "the double-forked daemon of dbl.1 is there" 10 test -n "$(pid_by 7771)"
M=$(pid_of dbl.1)
D=$(pid_by 7771)
like " $(procs "$CG/mls/dbl.1")" " $M .*" "dbl.1's main process is in $CG/mls/dbl.1"
like " $(procs "$CG/mls/dbl.1")" " $D " "... and its daemon in another session too"
unlike " $(procs "$CG")" " $M " "... not in the supervisor's cgroup"
is "$(cat "$CG/mls/dbl.1/cgroup.events" | awk '/populated/ { print $2 }')" 1 "cgroup.events: populated 1"

# ---------------------------------------------------------------- a stop
ctl stop dbl
is "$RC" 0 "ctl stop dbl: exit 0"
ok "$(! alive "$M"; echo $?)" "the main process is gone"
ok "$(! alive "$D"; echo $?)" "the daemon that ignores SIGTERM and left the process group is gone too (cgroup.kill)"
is "$(state_of dbl.1)" stopped "dbl.1 stopped"
is "$(procs "$CG/mls/dbl.1")" "" "its cgroup is empty"

# -------------------------------------------------------- a crash, its daemon
wait_for "crash.1 exited (status 3) and waits to restart" 10 state_is crash.1 backoff
ok "$( [ -z "$(pid_by 7781)" ]; echo $?)" "the daemon crash.1 left behind was killed with it (no leftover before its restart)"
is "$(procs "$CG/mls/crash.1")" "" "crash.1's cgroup is empty"
is "$(field_of crash.1 oom)" false "status: oom false (an exit 3, not the OOM killer)"

# ------------------------------------------------------ limits.cpu, no controller
cat >"$T/cpu.yaml" <<EOF
state_dir: $T/s2
services:
  spin:
    command: ["sleep", "1000"]
    limits: {cpu: 0.5}
EOF
run timeout 10 "$MLS" supervise -c "$T/cpu.yaml"
is "$RC" 1 "limits.cpu when the cgroup has no cpu controller: refused (exit 1)"
like "$ERR" "error: services\.spin\.limits\.cpu: needs the cgroup v2 cpu controller, and this mls has not that one: $CG/mls" \
	"... saying which controller and where"
# memory and pids without their controllers: rlimits, as without cgroups
cat >"$T/mem.yaml" <<EOF
state_dir: $T/s3
services:
  m:
    command: ["sh", "-c", "ulimit -v; exec sleep 7790"]
    limits: {memory: 64MiB}
EOF
sv_stop
sv_start "$T/mem.yaml"
wait_for "m.1 runs" 10 state_is m.1 running
wait_for "m.1 printed its RLIMIT_AS" 10 grep -q "m.1 | 65536" "$SV_OUT"
like "$(cat "$SV_OUT")" "m\.1 \| 65536" "limits.memory without the memory controller is RLIMIT_AS (64 MiB = 65536 KiB)"
like " $(procs "$CG/mls/m.1")" " $(pid_of m.1) " "... and the instance is in its cgroup all the same"

# --------------------------------------------------------------- shutdown
sv_stop
is "$SV_RC" 0 "the supervisor exits 0"
ok "$( [ ! -d "$CG/mls" ]; echo $?)" "its cgroups are removed at exit ($CG/mls and the instances')"

done_testing
