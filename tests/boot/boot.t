#!/usr/bin/env bash
# mls supervise as the init of a real kernel (issue 13 §2, docs/init.md):
# Debian's kernel booted in qemu (TCG, no KVM) with an initramfs holding
# the static mls as /init, a config and busybox-static. Two boots per
# architecture, each asserted from the serial console's log:
#   poweroff  mounts, services in depends_on order, a crashing service
#             restarted, `mls ctl status` inside the VM, a job running
#             `mls ctl poweroff` -> every service stopped, the last steps,
#             "reboot: Power down", qemu exits 0, no kernel panic
#   reboot    a job running the `reboot` link (busybox's name) ->
#             "reboot: Restarting system" (-no-reboot makes qemu exit)
#   busybox   a job running busybox's own poweroff (SIGUSR2 to PID 1)
#   halt      a job running `mls ctl halt` -> "reboot: System halted"
#             (the guest stays up: qemu is stopped once the line shows)
# Needs: MLS (the binary of BOOT_ARCH), TESTS_DIR, BOOT_ARCH (x86_64 or
# aarch64), BOOT_DIR (the cache: kernels, busybox, logs); qemu-system-*,
# cpio, dpkg-deb, apt-get (scripts/install-tools.sh boot). Run by
# `make test-boot ARCH=...`, not by `make test` (about 20-60 s a boot).
. "${TESTS_DIR:?}/lib.sh"

ARCH=${BOOT_ARCH:-x86_64}
BOOT_DIR=${BOOT_DIR:?set BOOT_DIR (a cache directory, e.g. build/boot)}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-240} # s per boot (TCG; a boot takes 10-60 s)
case $ARCH in
x86_64) DEB_ARCH=amd64 QEMU=qemu-system-x86_64 CONSOLE=ttyS0
	QEMU_ARGS="-M pc -m 256 -nic none" ;;
aarch64) DEB_ARCH=arm64 QEMU=qemu-system-aarch64 CONSOLE=ttyAMA0
	QEMU_ARGS="-M virt -cpu cortex-a57 -m 256 -nic none" ;;
*) echo "Bail out! BOOT_ARCH must be x86_64 or aarch64, not $ARCH"; exit 1 ;;
esac
for t in $QEMU cpio dpkg-deb apt-get apt-cache gzip; do
	command -v $t >/dev/null 2>&1 || skip_all "needs $t (scripts/install-tools.sh boot)"
done
file -b "$MLS" 2>/dev/null | grep -q "statically linked" || skip_all "$MLS is not a static binary"

A=$BOOT_DIR/$ARCH
mkdir -p "$A" "$BOOT_DIR/cache"

# ---- the kernel and busybox, from Debian's archive (cached)

# deb PACKAGE: the .deb's path in the cache (apt-get download when absent)
deb() {
	local f
	f=$(ls "$BOOT_DIR/cache/$1"_*_"$DEB_ARCH".deb 2>/dev/null | head -n 1)
	if [ -z "$f" ]; then
		(cd "$BOOT_DIR/cache" && apt-get download "$1:$DEB_ARCH" >/dev/null 2>&1) || return 1
		f=$(ls "$BOOT_DIR/cache/$1"_*_"$DEB_ARCH".deb 2>/dev/null | head -n 1)
	fi
	[ -n "$f" ] && echo "$f"
}
if [ ! -s "$A/vmlinuz" ]; then
	# linux-image-amd64 depends on the versioned image (linux-image-6.1.0-N-amd64)
	kpkg=$(apt-cache depends "linux-image-$DEB_ARCH:$DEB_ARCH" 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { sub(/:.*/, "", $2); print $2; exit }')
	kdeb=$( [ -n "$kpkg" ] && deb "$kpkg")
	[ -n "$kdeb" ] || skip_all "cannot download linux-image-$DEB_ARCH's kernel package ($kpkg)"
	rm -rf "$A/kx" && dpkg-deb -x "$kdeb" "$A/kx" && cp "$A"/kx/boot/vmlinuz-* "$A/vmlinuz" && rm -rf "$A/kx"
	echo "$kpkg" >"$A/kernel-package"
fi
if [ ! -x "$A/busybox" ]; then
	bdeb=$(deb busybox-static) || skip_all "cannot download busybox-static:$DEB_ARCH"
	rm -rf "$A/bx" && dpkg-deb -x "$bdeb" "$A/bx" && cp "$A/bx/bin/busybox" "$A/busybox" && rm -rf "$A/bx"
fi
ok 0 "kernel $(cat "$A/kernel-package" 2>/dev/null) and busybox-static for $DEB_ARCH are there"

# ---- the initramfs

# initramfs NAME STOPPER_COMMAND: $A/NAME.cpio.gz with mls as /init
initramfs() {
	local r=$A/root-$1
	rm -rf "$r"
	mkdir -p "$r"/bin "$r"/sbin "$r"/etc/mls "$r"/dev "$r"/proc "$r"/sys "$r"/run "$r"/tmp "$r"/var/lib/mls
	cp "$MLS" "$r/init"
	ln -s ../init "$r/bin/mls"
	for l in poweroff reboot halt; do ln -s ../init "$r/sbin/$l"; done
	cp "$A/busybox" "$r/bin/busybox"
	for l in sh sleep echo cat ls mount uname hostname ip grep wc setsid; do ln -s busybox "$r/bin/$l"; done
	mknod -m 600 "$r/dev/console" c 5 1
	echo "mls-$ARCH" >"$r/etc/hostname"
	head -c 512 /dev/urandom >"$r/var/lib/mls/random-seed"
	cat >"$r/etc/mls/mls.yaml" <<YAML
# the boot test's config (tests/boot/boot.t)
init:
  tmp: true
  modules: [loop]
  mounts:
    - {source: tmpfs, target: /mnt/scratch, type: tmpfs, options: "nosuid,size=1m,mode=0755"}
  sysctl:
    vm.swappiness: "10"
services:
  db:
    command: ["/bin/sh", "-c", "echo db up, uptime \$(cat /proc/uptime); exec sleep 100000"]
  web:
    command: ["/bin/sh", "-c", "echo web up after db; echo hostname \$(hostname); echo mounts: \$(grep -c . /proc/self/mounts); exec sleep 100000"]
    depends_on: [db]
  crasher:
    command: ["/bin/sh", "-c", "echo crasher run; exit 3"]
    restart: on-failure
    restart_backoff: {initial: 200ms, max: 200ms, jitter: 0%}
    restart_limit: {count: 3, window: 60s}
  status:
    command: ["/bin/sh", "-c", "sleep 3; echo STATUS-BEGIN; mls ctl status; echo STATUS-END"]
    runs: 1
    depends_on: [web]
  stopper:
    command: ["/bin/sh", "-c", "sleep ${STOP_AFTER:-6}; echo stopper: $2; $2"]
    runs: 1
    restart: "no"
    depends_on: [web]
YAML
	[ -z "${EXTRA:-}" ] || printf '%s\n' "$EXTRA" >>"$r/etc/mls/mls.yaml"
	(cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -1) >"$A/$1.cpio.gz"
}

# boot NAME: boots $A/NAME.cpio.gz; console in $A/NAME.log, qemu's status
# in BOOT_RC, the time it took in BOOT_S
boot() {
	local t0 t1
	t0=$(date +%s.%N)
	timeout "$BOOT_TIMEOUT" $QEMU $QEMU_ARGS -nographic -no-reboot -monitor none \
		-kernel "$A/vmlinuz" -initrd "$A/$1.cpio.gz" \
		-append "console=$CONSOLE panic=-1 quiet" </dev/null >"$A/$1.log" 2>&1
	BOOT_RC=$?
	t1=$(date +%s.%N)
	BOOT_S=$(echo "$t0 $t1" | awk '{ printf "%.1f", $2 - $1 }')
	tr -d '\r' <"$A/$1.log" >"$A/$1.txt"
}
has() { grep -Eq -- "$1" "$A/$2.txt"; }
# line_of ERE NAME: the first line number matching, or 999999
line_of() { grep -nE -- "$1" "$A/$2.txt" | head -n 1 | cut -d: -f1 | grep . || echo 999999; }
# in_order FIRST SECOND NAME DESC: both in NAME's log, FIRST's line first
in_order() {
	local a b
	a=$(line_of "$1" "$3")
	b=$(line_of "$2" "$3")
	ok $([ "$a" -lt "$b" ] && [ "$b" -lt 999999 ]; echo $?) "$4 (lines $a, $b)"
}

# ==================================================== poweroff

initramfs poweroff "mls ctl poweroff"
boot poweroff
diag "poweroff boot: qemu ran ${BOOT_S} s, status $BOOT_RC; console log $A/poweroff.log"
is "$BOOT_RC" 0 "poweroff: qemu exits 0 (the guest powered off; 124 = timed out)"
LOG=$(cat "$A/poweroff.txt")
unlike "$LOG" "Kernel panic|Attempted to kill init" "poweroff: no kernel panic"
like "$LOG" "init mode on: PID 1 with no /proc mounted yet" "poweroff: mls detects it is the system's init"
for m in /proc /dev /sys /dev/pts /dev/shm /run /sys/fs/cgroup /tmp /mnt/scratch; do
	like "$LOG" "init: mounted [a-z0-9]+ on $m( |$)" "poweroff: mls mounts $m"
done
like "$LOG" "init: stdin, stdout and stderr on /dev/console" "poweroff: the console for fds 0-2"
like "$LOG" "init: remounted / read-write" "poweroff: / read-write"
like "$LOG" "init: hostname set to 'mls-$ARCH'" "poweroff: the hostname from /etc/hostname"
like "$LOG" "web\.1 \| hostname mls-$ARCH" "poweroff: a service sees the hostname"
like "$LOG" "init: lo is up" "poweroff: lo up"
like "$LOG" "init: random seed: 512 bytes of /var/lib/mls/random-seed mixed into /dev/urandom" "poweroff: the seed loaded"
seedl=$(grep -A1 'init: random seed: 512 bytes of' "$A/poweroff.txt" | tail -n 1)
like "$seedl" "init: (random seed: 512 fresh bytes saved|skipped: random seed: the kernel's pool is not ready yet)" \
	"poweroff: the seed refreshed at boot, or left to the shutdown with the reason (the pool was not ready)"
like "$LOG" "init: sysctl vm.swappiness = 10" "poweroff: sysctl written"
like "$LOG" "init: skipped: module loop: no modprobe" "poweroff: modules: no modprobe in the initramfs, skipped, not fatal"
in_order 'mls: db\.1: running' 'mls: web\.1: (starting|running)' poweroff "poweroff: db starts before web (depends_on)"
runs=$(grep -c 'crasher\.1 | crasher run' "$A/poweroff.txt")
ok $([ "$runs" -ge 2 ]; echo $?) "poweroff: the crashing service was restarted (ran $runs times)"
st=$(sed -n '/status\.1 | STATUS-BEGIN/,/status\.1 | STATUS-END/p' "$A/poweroff.txt")
like "$st" "status\.1 \| .*db" "poweroff: mls ctl status ran inside the VM (db in it)"
like "$st" "status\.1 \| .*web.*running" "poweroff: mls ctl status shows web running"
like "$LOG" "stopper\.1 \| stopper: mls ctl poweroff" "poweroff: the job ran mls ctl poweroff"
like "$LOG" "poweroff \(requested over the control socket\): stopping every service" "poweroff: the supervisor took the request"
in_order 'mls: web\.1: stopped' 'mls: db\.1: stopped' poweroff "poweroff: web stops before db (reverse dependency order)"
like "$LOG" "all services stopped" "poweroff: every service stopped"
like "$LOG" "init: poweroff: SIGTERM to every process left" "poweroff: kill(-1)"
like "$LOG" "init: random seed: 512 fresh bytes saved to /var/lib/mls/random-seed" "poweroff: the seed saved at shutdown"
like "$LOG" "init: (unmounted|.* remounted read-only).*/mnt/scratch|init: unmounted /mnt/scratch" "poweroff: /mnt/scratch unmounted"
like "$LOG" "init: reboot\(2\): poweroff" "poweroff: reboot(RB_POWER_OFF)"
like "$LOG" "reboot: Power down" "poweroff: the kernel says Power down"
up=$(sed -n 's/.*db\.1 | db up, uptime \([0-9.]*\) .*/\1/p' "$A/poweroff.txt" | head -n 1)
diag "poweroff boot: the kernel's uptime when the first service started: ${up:-?} s; whole run (boot, 6 s of services, shutdown) ${BOOT_S} s"
echo "$ARCH poweroff: first service at uptime ${up:-?} s, qemu total ${BOOT_S} s" >>"$A/times"

# ==================================================== reboot (the link)

initramfs reboot "/sbin/reboot"
boot reboot
diag "reboot boot: qemu ran ${BOOT_S} s, status $BOOT_RC; console log $A/reboot.log"
is "$BOOT_RC" 0 "reboot: qemu exits 0 (-no-reboot: the guest's reboot ends it)"
LOG=$(cat "$A/reboot.txt")
unlike "$LOG" "Kernel panic|Attempted to kill init" "reboot: no kernel panic"
like "$LOG" "stopper\.1 \| stopper: /sbin/reboot" "reboot: the job ran the reboot link"
like "$LOG" "reboot \(requested over the control socket\): stopping every service" "reboot: the supervisor took the request"
like "$LOG" "all services stopped" "reboot: every service stopped"
like "$LOG" "init: reboot\(2\): reboot" "reboot: reboot(RB_AUTOBOOT)"
like "$LOG" "reboot: Restarting system" "reboot: the kernel says Restarting system"
up=$(sed -n 's/.*db\.1 | db up, uptime \([0-9.]*\) .*/\1/p' "$A/reboot.txt" | head -n 1)
echo "$ARCH reboot: first service at uptime ${up:-?} s, qemu total ${BOOT_S} s" >>"$A/times"

# ==================================================== busybox's poweroff (SIGUSR2)

# busybox's own poweroff applet signals PID 1 (SIGUSR2), as under busybox init
initramfs busybox "busybox poweroff"
boot busybox
diag "busybox boot: qemu ran ${BOOT_S} s, status $BOOT_RC; console log $A/busybox.log"
is "$BOOT_RC" 0 "busybox poweroff: qemu exits 0"
LOG=$(cat "$A/busybox.txt")
unlike "$LOG" "Kernel panic|Attempted to kill init" "busybox poweroff: no kernel panic"
like "$LOG" "poweroff \(SIGUSR2\): stopping every service" "busybox poweroff: SIGUSR2 is poweroff"
like "$LOG" "all services stopped" "busybox poweroff: every service stopped"
like "$LOG" "reboot: Power down" "busybox poweroff: the kernel says Power down"

# ==================================================== halt

# a halted guest stays up: wait for the kernel's line, then stop qemu
initramfs halt "mls ctl halt"
t0=$(date +%s.%N)
$QEMU $QEMU_ARGS -nographic -no-reboot -monitor none -kernel "$A/vmlinuz" -initrd "$A/halt.cpio.gz" \
	-append "console=$CONSOLE panic=-1 quiet" </dev/null >"$A/halt.log" 2>&1 &
QPID=$!
halted() { grep -q "reboot: System halted" "$A/halt.log"; }
poll "$BOOT_TIMEOUT" halted
kill "$QPID" 2>/dev/null
wait "$QPID" 2>/dev/null
diag "halt boot: $(echo "$t0 $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }') s until halted; console log $A/halt.log"
tr -d '\r' <"$A/halt.log" >"$A/halt.txt"
LOG=$(cat "$A/halt.txt")
unlike "$LOG" "Kernel panic|Attempted to kill init" "halt: no kernel panic"
like "$LOG" "halt \(requested over the control socket\): stopping every service" "halt: the supervisor took the request"
like "$LOG" "init: reboot\(2\): halt" "halt: reboot(RB_HALT_SYSTEM)"
like "$LOG" "reboot: System halted" "halt: the kernel says System halted"

# ==================================================== cgroup v2 (docs/cgroups.md)

# the kernel's cgroup v2 controllers, which the development host lacks:
# memory.max and the OOM killer, cpu.max throttling (measured from
# cpu.stat over 2 s), pids.max refusing forks, a double-forked daemon
# that ignores SIGTERM stopped with its service (cgroup.kill)
EXTRA=$(cat <<'YAML'
  oom:
    command: ["/bin/sh", "-c", "echo oom: allocating; x=0123456789abcdef; while :; do x=$x$x; done"]
    limits: {memory: 24MiB}
    restart: "no"
  spin:
    command: ["/bin/sh", "-c", "while :; do :; done"]
    limits: {cpu: 0.2}
  forky:
    command: ["/bin/sh", "-c", "for i in 1 2 3 4 5 6; do sleep 1000 & done; wait"]
    limits: {pids: 4}
  dbl:
    command: ["/bin/sh", "-c", "setsid sh -c 'trap \"\" TERM; exec sleep 7771' </dev/null >/dev/null 2>&1 & echo $! >/run/dbl.pid; exec sleep 7770"]
    stop_grace_period: 1s
  probe:
    runs: 1
    depends_on: [web]
    command: ["/bin/sh", "-c", "sleep 1; c=/sys/fs/cgroup/mls; a=$(grep usage_usec $c/spin.1/cpu.stat); sleep 2; b=$(grep usage_usec $c/spin.1/cpu.stat); echo CG spin $a $b; echo CG cpu.max $(cat $c/spin.1/cpu.max); echo CG pids $(cat $c/forky.1/pids.current) max $(cat $c/forky.1/pids.max) $(cat $c/forky.1/pids.events); p=$(cat /run/dbl.pid); echo CG dbl before $(grep -c 'State:.*[RSD]' /proc/$p/status 2>/dev/null); mls ctl stop dbl; echo CG dbl left $(grep -c 'State:.*[RSD]' /proc/$p/status 2>/dev/null || echo 0); echo CG oom $(mls ctl --json status oom | grep -o '.oom.:[a-z]*'); echo CG-END"]
YAML
)
STOP_AFTER=9 initramfs cgroup "mls ctl poweroff"
EXTRA=
boot cgroup
diag "cgroup boot: qemu ran ${BOOT_S} s, status $BOOT_RC; console log $A/cgroup.log"
is "$BOOT_RC" 0 "cgroup: qemu exits 0"
LOG=$(cat "$A/cgroup.txt")
unlike "$LOG" "Kernel panic|Attempted to kill init" "cgroup: no kernel panic"
like "$LOG" "cgroups: each instance in /sys/fs/cgroup/mls/NAME\.N \(controllers: [a-z ]*memory cpu pids" \
	"cgroup: every instance in /sys/fs/cgroup/mls/NAME.N, with the memory, cpu and pids controllers"
like "$LOG" "oom\.1: pid [0-9]+ killed by the OOM killer \(its cgroup's memory\.max\)" \
	"cgroup: memory.max 24MiB: the allocating service is killed by the OOM killer, and the log says so"
like "$LOG" "probe\.1 \| CG oom .oom.:true" "cgroup: ... ctl status says oom: true"
like "$LOG" "probe\.1 \| CG cpu\.max 20000 100000" "cgroup: limits.cpu 0.2 -> cpu.max 20000 100000"
spin=$(sed -n 's/.*CG spin usage_usec \([0-9]*\) usage_usec \([0-9]*\).*/\1 \2/p' "$A/cgroup.txt" | head -n 1)
used=$(echo "$spin" | awk '{ print $2 - $1 }')
diag "cgroup: the spinning service used ${used:-?} us of CPU in 2 s with cpu.max 0.2 (unthrottled: 2000000)"
ok $([ -n "$used" ] && [ "$used" -ge 150000 ] && [ "$used" -le 600000 ]; echo $?) \
	"cgroup: cpu.max throttles a spinning service to about 0.2 CPU (${used:-?} us in 2 s; 150000-600000 allowed)"
like "$LOG" "probe\.1 \| CG pids [0-9]+ max 4 max [1-9]" "cgroup: pids.max 4 refused forks (pids.events max > 0)"
like "$LOG" "probe\.1 \| CG dbl before 1" "cgroup: the double-forked daemon ran (in another session, ignoring SIGTERM)"
like "$LOG" "probe\.1 \| CG dbl left 0" "cgroup: ctl stop dbl killed it too, at the end of the 1 s grace (cgroup.kill)"
like "$LOG" "reboot: Power down" "cgroup: then powered off"

done_testing
