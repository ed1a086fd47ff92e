#!/usr/bin/env bash
# mls supervise under systemd (Type=notify, dist/systemd/mls.service):
# READY=1 to mls's own NOTIFY_SOCKET once the first start round is over,
# RELOADING=1 + MONOTONIC_USEC= and READY=1 around `ctl reload`,
# STOPPING=1 at SIGTERM; services never see mls's socket (each one with
# ready: notify keeps its own). A python3 listener plays systemd, on a
# path socket and on an abstract one. Then `systemd-analyze verify` on the
# unit.
# Needs: MLS, TESTS_DIR, python3, systemd-analyze (package systemd).
. "${TESTS_DIR:?}/lib.sh"
. "$TESTS_DIR/sv.sh"

have_python3 || skip_all "needs python3"

L_PID=
cleanup56() {
	[ -n "$L_PID" ] && kill "$L_PID" 2>/dev/null
	sv_cleanup
}
trap cleanup56 EXIT

has() { grep -Eq -- "$2" "$1" 2>/dev/null; }

# one round: MODE path|abstract
round() {
	local mode=$1 addr rec
	if [ "$mode" = path ]; then
		addr=$T/$mode.notify
	else
		addr=@mls-test-$$-$RANDOM
	fi
	rec=$T/$mode.rec
	python3 "$TESTS_DIR/sdlistener.py" "$addr" "$rec" &
	L_PID=$!
	wait_for "$mode: the listener is bound" 10 test -e "$rec.up"
	: >>"$rec"
	rm -f "$T/go" "$T"/*.env
	cat >"$T/$mode.yaml" <<EOF
state_dir: $T/sd-$mode
services:
  slow:
    command: ["/bin/sh", "-c", "env >$T/slow.env; while [ ! -e $T/go ]; do sleep 0.02; done; echo ready >&3; exec sleep 1000"]
    ready: notify
  notif:
    command: ["python3", "$TESTS_DIR/notifier.py", "$T/notif.out"]
    ready: notify
  plain:
    command: ["/bin/sh", "-c", "env >$T/plain.env; exec sleep 1000"]
    environment: {ROUND: "1"}
  broken:
    command: ["/bin/sh", "-c", "exit 1"]
    restart: "no"
EOF
	NOTIFY_SOCKET=$addr sv_start "$T/$mode.yaml"
	wait_for "$mode: plain.1 running" 10 state_is plain.1 running
	wait_for "$mode: notif.1 running (READY=1 on its own socket)" 10 state_is notif.1 running
	is "$(state_of slow.1)" starting "$mode: slow.1 is still starting"
	never_within "$mode: no READY=1 while slow.1 is starting" 1 has "$rec" '^READY=1'
	touch "$T/go"
	wait_for "$mode: READY=1 once slow.1 is ready" 10 has "$rec" '^READY=1'
	is "$(state_of slow.1)" running "$mode: slow.1 is running when READY=1 came"
	like "$(head -1 "$rec")" '^READY=1\|STATUS=3 started, 0 waiting, 1 failed or backing off$' \
		"$mode: READY=1 is the first datagram, with a STATUS= count (broken.1 counts as failed)"

	# what the services saw
	unlike "$(cat "$T/plain.env")" '^NOTIFY_SOCKET=' "$mode: a service without ready: notify has no NOTIFY_SOCKET"
	unlike "$(cat "$T/slow.env")" "^NOTIFY_SOCKET=$addr\$" "$mode: a ready: notify service does not get mls's socket"
	like "$(cat "$T/slow.env")" '^NOTIFY_SOCKET=@mls/[0-9]+/slow\.1/[0-9]+$' "$mode: ... but its own per-instance one"

	# reload: a changed service restarts; RELOADING=1, then READY=1
	sed -i 's/ROUND: "1"/ROUND: "2"/' "$T/$mode.yaml"
	ctl reload
	is "$RC" 0 "$mode: ctl reload exits 0"
	rel_then_ready() { [ "$(sed -n '2p' "$rec" | cut -c1-12)" = RELOADING=1\| ] && sed -n '3p' "$rec" | grep -q '^READY=1|'; }
	wait_for "$mode: the 2nd datagram is RELOADING=1, the 3rd READY=1" 10 rel_then_ready
	like "$(sed -n 2p "$rec")" '^RELOADING=1\|MONOTONIC_USEC=[0-9]{4,}$' "$mode: RELOADING=1 carries MONOTONIC_USEC"
	mono=$(sed -n 's/.*MONOTONIC_USEC=//p' "$rec" | head -1)
	now=$(python3 -c 'import time; print(int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6))')
	ok $(((now - mono) < 60000000 && (now - mono) > -60000000 ? 0 : 1)) \
		"$mode: MONOTONIC_USEC is CLOCK_MONOTONIC (${mono}, now ${now})"
	wait_for "$mode: plain.1 restarted with the new config" 10 has "$T/plain.env" '^ROUND=2$'

	sv_stop
	is "$SV_RC" 0 "$mode: SIGTERM: exit 0"
	like "$(tail -1 "$rec")" '^STOPPING=1' "$mode: the last datagram is STOPPING=1"
	# (the edit may also be seen by mls's inotify watch: a second reload,
	# then a second RELOADING/READY pair)
	shape=$(sed 's/|.*//' "$rec" | tr '\n' ' ')
	like "$shape" '^READY=1 (RELOADING=1 READY=1 )+STOPPING=1 $' \
		"$mode: the datagrams: READY, then RELOADING and READY per reload, then STOPPING"
	kill "$L_PID" 2>/dev/null
	wait "$L_PID" 2>/dev/null
	L_PID=
	unlike "$(cat "$SV_ERR")" '(ERROR: AddressSanitizer|runtime error:|NOTIFY_SOCKET)' "$mode: nothing about NOTIFY_SOCKET on stderr"
}

round path
round abstract

# a value that is neither a path nor @name: said, and mls runs without
cat >"$T/bad.yaml" <<EOF
state_dir: $T/sd-bad
services:
  idle:
    command: ["sleep", "1000"]
EOF
NOTIFY_SOCKET=relative/sock sv_start "$T/bad.yaml"
wait_for "a bad NOTIFY_SOCKET: mls runs anyway" 10 state_is idle.1 running
like "$(cat "$SV_ERR")" 'NOTIFY_SOCKET=relative/sock cannot be used' "a bad NOTIFY_SOCKET: said on stderr"
sv_stop
is "$SV_RC" 0 "a bad NOTIFY_SOCKET: SIGTERM, exit 0"

# the unit itself (with this binary in place of /usr/local/bin/mls:
# verify checks that the executables exist)
UNIT=$TESTS_DIR/../dist/systemd/mls.service
if ! command -v systemd-analyze >/dev/null 2>&1; then
	skip "systemd-analyze is not installed (package systemd; scripts/install-tools.sh test)"
else
	sed "s|/usr/local/bin/mls|$MLS|g" "$UNIT" >"$T/mls.service"
	run systemd-analyze verify "$T/mls.service"
	is "$RC" 0 "systemd-analyze verify: the unit is valid"
	is "$OUT$ERR" "" "systemd-analyze verify: no warning"
fi
for line in Type=notify Delegate=yes KillMode=mixed 'ExecReload=/usr/local/bin/mls ctl reload'; do
	grep -qx -- "$line" "$UNIT"
	ok $? "the unit says $line"
done

done_testing
