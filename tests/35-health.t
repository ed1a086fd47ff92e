#!/usr/bin/env bash
# Health checks in mls supervise, against the real binary, real services
# and a real HTTP server (tests/hcserver.py, its answer set by a file):
# healthy -> unhealthy -> restarted (new pid, restart counted) -> failed
# when never healthy; retries and interval timing; expect_status; a server
# that never answers (timeout, the loop stays responsive); 1 MiB without a
# line end (bad response); tcp; exec (its output the message, its group
# killed at the timeout); ready: healthy and service_healthy ordering;
# critical + unhealthy ends the supervisor; a reload of the check keeps
# the process; the `health` request.
# Needs: MLS, TESTS_DIR, python3.
. "${TESTS_DIR:?}/lib.sh"
. "$TESTS_DIR/sv.sh"

have_python3 || skip_all "python3 is needed by the health tests"
export T
mkdir -p "$T/bin"

now_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }
err_has() { grep -Eq -- "$1" "$SV_ERR"; }
health_is() { [ "$(field_of "$1" health)" = "$2" ]; }
pid_changed() { local p; p=$(pid_of "$1"); [ -n "$p" ] && [ "$p" != null ] && [ "$p" != "$2" ]; }
msg_has() { field_of "$1" health_message | grep -Eq -- "$2"; }
raw() { python3 "$TESTS_DIR/sockreq.py" "$SV_SOCK" "$1"; }
gone() { ! kill -0 "$1" 2>/dev/null; }
sv_gone() { ! kill -0 "$SV_PID" 2>/dev/null || grep -q '^[0-9]* ([^)]*) Z' "/proc/$SV_PID/stat" 2>/dev/null; }

HC="python3 $TESTS_DIR/hcserver.py"

# ------------------------------------------------ http: the whole cycle
echo 200 >"$T/mode"
cat >"$T/h1.yaml" <<EOF
state_dir: $T/s1
services:
  web:
    command: ["python3", "$TESTS_DIR/hcserver.py", "\${PORT}", "$T/mode"]
    port: auto
    restart_backoff: {initial: 100ms, max: 200ms, reset_after: 60s}
    restart_limit: {count: 6, window: 60s}
    healthcheck:
      http: "http://127.0.0.1:\${PORT}/health"
      interval: 200ms
      timeout: 300ms
      retries: 2
EOF
sv_start "$T/h1.yaml"
wait_for "http: web.1 turns healthy" 10 health_is web.1 healthy
is "$(field_of web.1 health_message)" "HTTP 200" "... its message is the status"
P1=$(pid_of web.1)
is "$(field_of web.1 health_failures)" 0 "... no failures"

# the protocol's health log
R=$(raw "health web")
like "$R" '"results":\[\{"time":[0-9]+,"duration_ms":[0-9]+,"ok":true,"message":"HTTP 200"' "the health request lists the results"
N=$(printf '%s' "$R" | grep -o '"ok":true,"message"' | wc -l)
ok $((N >= 1 && N <= 5 ? 0 : 1)) "... at most 5 of them ($N)"

ctl health web
like "$OUT" 'web\.1: healthy \(0 failures in a row\)' "ctl health web: the health" || diag "$OUT $ERR"
like "$OUT" '[0-9:]+ +[0-9]+ms  ok    HTTP 200' "... and the results"
ctl status web
like "$OUT" 'web\.1: healthy' "ctl status web shows the health log too"

# unhealthy: restarted through the stop path, the restart counted
echo 503 >"$T/mode"
t0=$(now_ms)
wait_for "503: web.1 turns unhealthy" 10 err_has 'web\.1: unhealthy: HTTP 503'
t1=$(now_ms)
ok $((t1 - t0 >= 150 && t1 - t0 <= 4000 ? 0 : 1)) "... after retries x interval (2 failures 200 ms apart; took $((t1 - t0)) ms)"
wait_for "... and is restarted" 10 err_has 'web\.1: restarting: unhealthy'
echo 200 >"$T/mode"
wait_for "... a new process" 10 pid_changed web.1 "$P1"
wait_for "... healthy again" 10 health_is web.1 healthy
R1=$(field_of web.1 restarts)
ok $((R1 >= 1 ? 0 : 1)) "... the restart is counted ($R1)"

# timeout: a server that accepts and never answers
echo hang >"$T/mode"
wait_for "hang: the check times out" 10 msg_has web.1 'timed out after 300ms'
t0=$(now_ms)
"$MLS" ctl -s "$SV_SOCK" status >/dev/null
t1=$(now_ms)
ok $((t1 - t0 < 200 ? 0 : 1)) "... ctl status answers meanwhile ($((t1 - t0)) ms, the ctl process included)"

# 1 MiB with no line end: bounded read
echo huge >"$T/mode"
wait_for "huge: bad response" 10 msg_has web.1 'bad response'
echo 200 >"$T/mode"
wait_for "... healthy again" 10 health_is web.1 healthy

# never healthy: failed at the restart limit, not a loop
echo 503 >"$T/mode"
wait_for "503 for good: web.1 ends failed" 30 state_is web.1 failed
like "$(field_of web.1 reason)" 'never healthy in [0-9]+ starts|restart limit reached' "... and says why ($(field_of web.1 reason))"
sv_stop
is "$SV_RC" 0 "supervisor exits 0"

# ----------------------------------------------------- expect_status, tcp
echo 503 >"$T/mode2"
echo 200 >"$T/mode-quick"
t_h2=$(now_ms)
cat >"$T/h2.yaml" <<EOF
state_dir: $T/s2
services:
  maint:
    command: ["python3", "$TESTS_DIR/hcserver.py", "\${PORT}", "$T/mode2"]
    port: auto
    healthcheck:
      http: "http://127.0.0.1:\${PORT}/"
      expect_status: [503]
      interval: 200ms
  tcp:
    command: ["python3", "$TESTS_DIR/hcserver.py", "\${PORT}", "$T/mode2"]
    port: auto
    healthcheck:
      tcp: "127.0.0.1:\${PORT}"
      interval: 200ms
  tls:
    command: ["python3", "$TESTS_DIR/hcserver.py", "\${PORT}", "$T/mode2"]
    port: auto
    healthcheck:
      http: "https://localhost:\${PORT}/"
      interval: 300ms
      timeout: 2s
      retries: 1
      restart: false
  quick:
    command: ["python3", "$TESTS_DIR/hcserver.py", "\${PORT}", "$T/mode-quick"]
    port: auto
    healthcheck:
      http: "http://127.0.0.1:\${PORT}/"
      interval: 30s
      start_period: 20s
      start_interval: 100ms
  closed:
    command: ["sleep", "1000"]
    restart_backoff: {initial: 5s}
    healthcheck:
      tcp: "127.0.0.1:1"
      interval: 200ms
      retries: 1
      restart: false
EOF
sv_start "$T/h2.yaml"
wait_for "expect_status [503]: a 503 is healthy" 10 health_is maint.1 healthy
wait_for "start_interval 100ms in start_period: healthy long before interval (30 s)" 8 health_is quick.1 healthy
t1=$(now_ms)
ok $((t1 - t_h2 < 8000 ? 0 : 1)) "... within $((t1 - t_h2)) ms of the start"
wait_for "https: checked by a child mls health (PID 1 parses no TLS): a plain HTTP server fails it" 15 health_is tls.1 unhealthy
like "$(field_of tls.1 health_message)" '^mls health: https://localhost:[0-9]+/: ' "... the child's one line is the message ($(field_of tls.1 health_message))"
wait_for "tcp: a listening port is healthy" 10 health_is tcp.1 healthy
is "$(field_of tcp.1 health_message)" "connected" "... message: connected"
wait_for "tcp: a closed port is unhealthy" 10 health_is closed.1 unhealthy
like "$(field_of closed.1 health_message)" 'connection refused' "... connection refused"
is "$(state_of closed.1)" running "... restart: false: it keeps running"
sv_stop

# ------------------------------------------------------------------ exec
cat >"$T/bin/slowcheck" <<'EOF'
#!/bin/sh
echo $$ >>"$T/check.pids"
sleep 100 &
echo $! >>"$T/check.pids"
wait
EOF
chmod +x "$T/bin/slowcheck"
cat >"$T/h3.yaml" <<EOF
state_dir: $T/s3
services:
  ok:
    command: ["sleep", "1000"]
    healthcheck:
      exec: 'echo all good; echo "second line"'
      interval: 200ms
  slow:
    command: ["sleep", "1000"]
    environment: {T: "$T"}
    healthcheck:
      exec: ["$T/bin/slowcheck"]
      interval: 5s
      timeout: 300ms
      restart: false
EOF
sv_start "$T/h3.yaml"
wait_for "exec: exit 0 is healthy" 10 health_is ok.1 healthy
like "$(raw 'health ok')" '"message":"all good\\nsecond line"' "... its output is the message"
wait_for "exec: the slow check times out" 10 msg_has slow.1 'timed out after 300ms'
P=$(cat "$T/check.pids" 2>/dev/null | tr '\n' ' ')
ok $([ -n "$P" ] && echo 0 || echo 1) "... its processes were recorded ($P)"
allgone() { for p in $P; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
wait_for "... and its whole group is killed" 5 allgone
sv_stop

# ---------------------------------------- ready: healthy, service_healthy
cat >"$T/bin/late" <<EOF
#!/bin/sh
# listens only after a while: starting, then healthy
while [ ! -f "$T/go" ]; do sleep 0.05; done
exec python3 "$TESTS_DIR/hcserver.py" "\$PORT" "$T/mode4"
EOF
chmod +x "$T/bin/late"
echo 200 >"$T/mode4"
cat >"$T/h4.yaml" <<EOF
state_dir: $T/s4
services:
  db:
    command: ["$T/bin/late"]
    port: auto
    ready: healthy
    healthcheck:
      tcp: "127.0.0.1:\${PORT}"
      interval: 100ms
  app:
    command: ["sleep", "1000"]
    depends_on:
      db: {condition: service_healthy}
EOF
sv_start "$T/h4.yaml"
wait_for "ready: healthy: db is starting while it does not listen" 10 state_is db.1 starting
wait_for "service_healthy: app waits for db" 10 state_is app.1 waiting
like "$(field_of app.1 reason)" 'waiting for db \(service_healthy\)' "... and says so ($(field_of app.1 reason))"
touch "$T/go"
wait_for "db turns running once healthy" 10 state_is db.1 running
wait_for "... then app starts" 10 state_is app.1 running
sv_stop

# ------------------------------------------------ reload keeps the process
cat >"$T/h5.yaml" <<EOF
state_dir: $T/s5
services:
  web:
    command: ["python3", "$TESTS_DIR/hcserver.py", "\${PORT}", "$T/mode4"]
    port: auto
    healthcheck:
      http: "http://127.0.0.1:\${PORT}/"
      interval: 200ms
EOF
sv_start "$T/h5.yaml"
wait_for "reload: web healthy" 10 health_is web.1 healthy
P5=$(pid_of web.1)
cat >"$T/h5.yaml" <<EOF
state_dir: $T/s5
services:
  web:
    command: ["python3", "$TESTS_DIR/hcserver.py", "\${PORT}", "$T/mode4"]
    port: auto
    healthcheck:
      http: "http://127.0.0.1:\${PORT}/x"
      expect_status: 404
      interval: 200ms
EOF
echo 404 >"$T/mode4"
ctl reload
is "$RC" 0 "reload of a changed healthcheck" || diag "$OUT $ERR"
wait_for "... the new check runs (expect_status 404 healthy)" 10 msg_has web.1 'HTTP 404'
is "$(pid_of web.1)" "$P5" "... the process is the same"
is "$(health_is web.1 healthy && echo y)" y "... and healthy under the new check"
sv_stop

# ------------------------------------------ critical + unhealthy: exit != 0
cat >"$T/h6.yaml" <<EOF
state_dir: $T/s6
services:
  bystander:
    command: ["sleep", "1000"]
  core:
    command: ["sleep", "1000"]
    critical: true
    restart_limit: {count: 1, window: 60s}
    healthcheck:
      tcp: "127.0.0.1:1"
      interval: 100ms
      retries: 1
EOF
sv_start "$T/h6.yaml"
wait_for "critical and never healthy: the supervisor exits by itself" 20 sv_gone
sv_stop
ok $([ "$SV_RC" != 0 ] && [ "$SV_RC" != timeout ] && echo 0 || echo 1) "... with a non-zero status ($SV_RC)"
grep -q 'critical service failed' "$SV_ERR"
ok $? "... and says why"

# ------------------------------------------------ sd_notify and watchdog
cat >"$T/h7.yaml" <<EOF
state_dir: $T/s7
services:
  daemon:
    command: ["python3", "$TESTS_DIR/notifier.py", "$T/daemon.out"]
    ready: notify
  dog:
    command: ["python3", "$TESTS_DIR/notifier.py", "$T/dog.out", "10"]
    watchdog: 500ms
    restart_backoff: {initial: 100ms}
EOF
sv_start "$T/h7.yaml"
wait_for "notify: the daemon is running after READY=1" 10 state_is daemon.1 running
wait_for "... its STATUS= is its note" 10 eval '[ "$(field_of daemon.1 note)" = "Ready to accept connections" ]'
wait_for "watchdog: WATCHDOG_USEC is set" 10 eval 'grep -qx 500000 "$T/dog.out.watchdog"'
wait_for "watchdog: WATCHDOG_PID is the service's own pid" 10 eval 'grep -qx "pid ok" "$T/dog.out.watchdog"' || diag "$(cat "$T/dog.out.watchdog")"
D1=$(pid_of dog.1)
wait_for "watchdog: the service that stops pinging is restarted" 15 err_has 'dog\.1: restarting: unhealthy: watchdog timeout'
wait_for "... a new process" 10 pid_changed dog.1 "$D1"
ok $(( $(field_of dog.1 restarts) >= 1 ? 0 : 1 )) "... the restart is counted"
ctl stop daemon
wait_for "the daemon's STOPPING=1 at SIGTERM reaches mls (the socket is still open)" 10 eval 'grep -qx "stopping sent" "$T/daemon.out"'
sv_stop

# ------------------------- a real daemon written for systemd: redis-server
if command -v redis-server >/dev/null 2>&1; then
	cat >"$T/h8.yaml" <<EOF
state_dir: $T/s8
services:
  redis:
    command: ["redis-server", "--port", "\${PORT}", "--bind", "127.0.0.1", "--supervised", "systemd",
              "--save", "", "--appendonly", "no", "--dir", "$T", "--daemonize", "no"]
    port: auto
    ready: notify
EOF
	sv_start "$T/h8.yaml"
	wait_for "redis-server --supervised systemd: running after its READY=1" 10 state_is redis.1 running
	wait_for "... its STATUS= is the note" 10 eval '[ "$(field_of redis.1 note)" = "Ready to accept connections" ]'
	ctl status redis
	like "$OUT" 'running .*Ready to accept connections' "... ctl status shows it" || diag "$OUT"
	sv_stop
	is "$SV_RC" 0 "... the supervisor stops it and exits 0"
	grep -Eq 'sd_notify|supervision error' "$SV_OUT" "$SV_ERR"
	ok $((! $?)) "... redis logs no sd_notify error at its stop (the socket stays open)" || diag "$(grep -E 'sd_notify|supervision' "$SV_OUT" "$SV_ERR")"
else
	skip "redis-server is not installed (scripts/install-tools.sh test installs it)"
fi

done_testing
