#!/usr/bin/env bash
# Init mode from outside a VM (issue 13 §1, docs/init.md): only what is
# safe on a host. As a plain process, and as PID 1 of a PID namespace
# (unshare: a container as far as mls can tell), mls must do no init step,
# refuse poweroff/reboot/halt with a clear error, keep SIGTERM's meaning,
# and warn that init: applies only in init mode. --init is never given
# to a PID 1 here: it would mount on this host (tests/boot/boot.t runs
# init mode for real, in qemu). The pure parts (detection, mountinfo,
# the plan) are tests/unit/test_initmode.c.
# Needs: MLS, TESTS_DIR, python3; root and unshare for the namespace part.
. "${TESTS_DIR:?}/lib.sh"
. "$TESTS_DIR/sv.sh"

have_python3 || skip_all "needs python3"
U_PID= NS_INIT=
cleanup37() {
	[ -n "$NS_INIT" ] && kill -KILL "$NS_INIT" 2>/dev/null
	[ -n "$U_PID" ] && wait "$U_PID" 2>/dev/null
	sv_cleanup
}
trap cleanup37 EXIT

config() {
	cat <<EOF2
state_dir: $T/$1
init:
  tmp: true
  sysctl: {vm.swappiness: "10"}
services:
  idle:
    command: ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.05; done"]
EOF2
}

# ---- a plain process (not PID 1), --init given: ignored

config plain >"$T/plain.yaml"
run "$MLS" validate "$T/plain.yaml"
is "$RC" 0 "validate: init: is valid"
like "$ERR" "warning: init: applies only when mls supervise is the system's init" "validate: init: applies only in init mode (a warning)"

sv_start "$T/plain.yaml" --init
wait_for "plain: idle runs" 10 eval '[ "$(state_of idle.1)" = running ]'
like "$(cat "$SV_ERR")" "warn(ing)?: .*init: applies only when mls supervise is the system's init" "plain: supervise warns that init: applies only in init mode"
like "$(cat "$SV_ERR")" "--init: ignored: init mode is for PID 1 only" "plain: --init as a non-PID-1 is ignored, said so"
unlike "$(cat "$SV_ERR")" "init: (mounted|remounted|hostname|lo is)" "plain: no init step ran"
for req in poweroff reboot halt; do
	ctl "$req"
	is "$RC" 1 "plain: ctl $req fails (exit 1)"
	like "$ERR" "$req: mls supervise is not the system's init" "plain: ctl $req says why"
done
ctl poweroff extra
like "$ERR" "poweroff takes no arguments|unknown option" "plain: ctl poweroff with an argument is refused"
is "$(state_of idle.1)" running "plain: idle still runs after the refused requests"
# the links: poweroff / reboot / halt dispatch (never -f here)
ln -s "$MLS" "$T/poweroff"
ln -s "$MLS" "$T/halt"
run "$T/poweroff" -s "$SV_SOCK"
is "$RC" 1 "plain: the poweroff link asks the supervisor, which refuses (exit 1)"
like "$ERR" "poweroff: mls supervise is not the system's init" "plain: the poweroff link prints the supervisor's reason"
run "$T/halt" --bogus
is "$RC" 2 "the halt link: an unknown option is a usage error (exit 2)"
like "$ERR" "usage: halt \[-f\]" "the halt link: its usage"
sv_stop TERM
is "$SV_RC" 0 "plain: SIGTERM still stops the supervisor (exit 0)"

# ---- PID 1 of a PID namespace: a container, no init step

if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
	skip "PID namespace: unshare --pid --fork --mount-proc fails here (not root?)"
else
	config ns >"$T/ns.yaml"
	unshare --pid --fork --mount-proc "$MLS" supervise -c "$T/ns.yaml" >"$T/ns.out" 2>"$T/ns.err" &
	U_PID=$!
	SV_SOCK=$T/ns/mls.sock
	wait_for "namespace: mls answers on its socket" 10 test -S "$SV_SOCK"
	NS_INIT=$(tr -d ' \n' <"/proc/$U_PID/task/$U_PID/children" 2>/dev/null)
	ctl --json version
	json_check "$OUT" 'd["pid"] == 1'
	ok $? "namespace: mls is PID 1 there"
	# (this host may itself be a container: then /.dockerenv, $container or
	# /proc/1/cgroup decide before the PID namespace test)
	like "$(cat "$T/ns.err")" "init mode off: (PID 1 of a PID namespace \(no kthreadd as PID 2\)|.container is|/.dockerenv or|/proc/1/cgroup names)" "namespace: detected as a container, said so"
	unlike "$(cat "$T/ns.err")" "init: (mounted|remounted|hostname|lo is|random seed|sysctl)" "namespace: no init step ran"
	like "$(cat "$T/ns.err")" "init: applies only when mls supervise is the system's init" "namespace: init: gets the warning"
	ctl poweroff
	is "$RC" 1 "namespace: ctl poweroff refused (exit 1)"
	like "$ERR" "poweroff: mls supervise is not the system's init" "namespace: ctl poweroff says why"
	ctl reboot
	is "$RC" 1 "namespace: ctl reboot refused"
	kill -USR1 "$NS_INIT"  # still its own meaning (reopen logs)
	alive() { kill -0 "$1" 2>/dev/null; }
	alive "$NS_INIT"
	ok $? "namespace: mls still runs after the refused requests"
	kill -TERM "$NS_INIT"
	wait "$U_PID"
	is "$?" 0 "namespace: SIGTERM stops it as before (exit 0), no reboot"
	U_PID=
	NS_INIT=
	like "$(cat "$T/ns.err")" "all services stopped, exiting with status 0" "namespace: the normal shutdown path"
	unlike "$(cat "$T/ns.err")" "init: (poweroff|reboot|halt):" "namespace: no init shutdown step"
fi

done_testing
