#!/usr/bin/env bash
# ctl top shows the supervisor's per-instance figures (issue 8: the status
# reply's cpu_percent and rss_bytes, summed over the process group) when
# the reply has them, and reads /proc itself for the main process when it
# does not. The supervisor is a fake one (python3) that answers `events`
# and `status` with fixed replies, so the figures are known.
. "${TESTS_DIR:?}/lib.sh"
. "$TESTS_DIR/sv.sh"

have_python3 || skip_all "needs python3"

SV_SOCK=$T/fake.sock
cat >"$T/fake.py" <<'PY'
import json, os, socket, sys, threading
path = sys.argv[1]
me = os.getpid()
status = {"ok": True, "supervisor": {"pid": me, "uptime_s": 5}, "services": [
    # the supervisor's figures: 3 GiB and 142.5 % cannot come from /proc of the fake
    {"name": "web", "instance": 1, "state": "running", "pid": me, "uptime_s": 5, "restarts": 0,
     "cpu_percent": 142.5, "cpu_seconds": 12.5, "rss_bytes": 3 << 30, "threads": 7, "fds": 12},
    # none: ctl reads /proc/PID itself (the fake's own process)
    {"name": "db", "instance": 1, "state": "running", "pid": me, "uptime_s": 5, "restarts": 0},
    # a figure that is not a number: as if absent
    {"name": "odd", "instance": 1, "state": "running", "pid": me, "uptime_s": 5, "restarts": 0,
     "cpu_percent": None, "rss_bytes": "x"},
]}
def serve(c):
    f = c.makefile("rb")
    for line in f:
        words = line.split()
        if not words:
            continue
        if words[0] == b"status":
            c.sendall(json.dumps(status).encode() + b"\n")
        elif words[0] == b"events":
            c.sendall(b'{"ok":true}\n')   # then nothing: a quiet stream
        else:
            c.sendall(b'{"ok":false,"error":"unknown command"}\n')
    c.close()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(16)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
python3 "$T/fake.py" "$SV_SOCK" &
FAKE=$!
trap 'kill $FAKE 2>/dev/null; wait $FAKE 2>/dev/null; rm -rf "$T"' EXIT
poll 10 test -S "$SV_SOCK" || { echo "Bail out! the fake supervisor did not start"; exit 1; }

"$MLS" ctl -s "$SV_SOCK" top </dev/null >"$T/top.out" 2>"$T/top.err" &
TOP=$!
wait_for "ctl top against the fake supervisor: a table" 10 eval 'grep -q "^odd\.1 " "$T/top.out"'
kill -TERM "$TOP"
wait "$TOP"
is "$?" 0 "ctl top ends with exit 0 on SIGTERM"
TOPOUT=$(cat "$T/top.out")
like "$TOPOUT" '^NAME +STATE +PID +CPU% +RSS +PORT +UPTIME +RESTARTS +HEALTH +NOTE$' "the columns"
like "$TOPOUT" "^web\.1 +running +$FAKE +142\.5 +3\.00GiB " "web.1: the reply's cpu_percent and rss_bytes"
like "$TOPOUT" "^db\.1 +running +$FAKE +[-0-9.]+ +[0-9.]+[KM]iB " "db.1 (no figures in the reply): RSS read from /proc"
like "$TOPOUT" "^odd\.1 +running +$FAKE +[-0-9.]+ +[0-9.]+[KM]iB " "odd.1 (figures not numbers): RSS read from /proc"
is "$(cat "$T/top.err")" "" "nothing on stderr"
done_testing
