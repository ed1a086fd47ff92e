#!/usr/bin/env bash
# notify: webhooks sent by mls httpd (docs/config.md "notify", docs/api.md):
# a local receiver (tests/whreceiver.py) gets the right events in order
# with a valid X-Mls-Signature; slack format; https with a test CA; a
# receiver down then up gets the retried events; a receiver that hangs
# does not slow supervision and its queue drops with the counter in
# /metrics; heartbeat; notify: without http: binds nothing; a git service
# rolled back (tests/43 for the API) gives rolled_back in json and slack.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/sv.sh"

have_python3 || skip_all "python3 is needed (the webhook receiver)"

RX_PIDS=()
cleanup_all() {
	for p in "${RX_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	sv_cleanup
}
trap cleanup_all EXIT

# rx NAME [ARGS...]: a receiver on $T/NAME.log; sets RX_PORT, RX_PID
rx() {
	local name=$1
	shift
	rm -f "$T/$name.port"
	python3 "$TESTS_DIR/whreceiver.py" "$T/$name.port" "$T/$name.log" "$@" 2>"$T/$name.rxerr" &
	RX_PID=$!
	RX_PIDS+=("$RX_PID")
	poll 10 test -s "$T/$name.port" || { echo "Bail out! receiver $name did not start"; cat "$T/$name.rxerr"; exit 1; }
	RX_PORT=$(cat "$T/$name.port")
	touch "$T/$name.log"
}

# lines LOG: records in it
lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
has_lines() { [ "$(lines "$1")" -ge "$2" ]; }

# py LOG EXPR: EXPR over recs (the receiver's records), printed
py() {
	python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
print(eval(sys.argv[2]))' "$1" "$2"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ---------------------------------------------------------------- in order

rx main --secret 's3cr3t!' ; MAIN=$RX_PORT
rx slack ; SLACK=$RX_PORT
mkdir -p "$T/a"
cat >"$T/a/mls.yaml" <<EOF
state_dir: $T/a/state
notify:
  - url: "http://127.0.0.1:$MAIN/hook?x=1"
    events: [crash, restart, started, stopped, failed]
    services: ["w*"]
    secret: 's3cr3t!'
    headers: {X-Test: yes}
  - url: "http://127.0.0.1:$SLACK/slack"
    format: slack
    events: crash
services:
  web:
    command: ["sh", "-c", "read x <\$0; exit 3", "$T/a/gate"]
    restart_backoff: {initial: 10ms}
    restart_limit: {count: 2, window: 1m}
  other:
    command: ["sh", "-c", "read x <\$0; exit 1", "$T/a/gate2"]
    restart: no
EOF
mkfifo "$T/a/gate" "$T/a/gate2"
sv_start "$T/a/mls.yaml"
wait_for "mls-httpd runs for notify: alone" 10 state_is mls-httpd.1 running
# httpd subscribes to the events when it starts: wait until it has, then
# let web crash twice (the gate is a FIFO: each start blocks on it)
wait_for "httpd logs its target" 10 grep -q "notify 1: http://127.0.0.1:$MAIN" "$SV_OUT"
wait_for "httpd logs its second target (it is subscribed)" 10 grep -q "notify 2:" "$SV_OUT"
wait_for "web runs" 10 state_is web.1 running
echo x >"$T/a/gate"
wait_for "web crashed, restarted and runs: 3 webhooks" 10 has_lines "$T/main.log" 3
echo x >"$T/a/gate"
echo x >"$T/a/gate2"
wait_for "web fails (restart limit)" 10 state_is web.1 failed
wait_for "the receiver got 5 webhooks" 10 has_lines "$T/main.log" 5
is "$(py "$T/main.log" '" ".join(r["body"]["event"] for r in recs)')" "crash restart started crash failed" \
	"events in order: crash, restart, started, crash, failed"
is "$(py "$T/main.log" 'sorted(r["body"]["seq"] for r in recs) == [r["body"]["seq"] for r in recs]')" True "seq increases"
is "$(py "$T/main.log" 'set(r["sig"] for r in recs)')" "{'ok'}" "every X-Mls-Signature is a valid HMAC-SHA256 of the body"
is "$(py "$T/main.log" 'set((r["path"], r["ctype"], r["x_test"], r["ua"].startswith("mls/")) for r in recs)')" \
	"{('/hook?x=1', 'application/json', 'yes', True)}" "path and query, Content-Type, the target's header, User-Agent"
is "$(py "$T/main.log" 'set(r["body"]["service"] for r in recs)')" "{'web'}" "services: [\"w*\"]: other's crash is not sent"
is "$(py "$T/main.log" '(recs[0]["body"]["engine_event"], recs[0]["body"]["exit_code"], recs[0]["body"]["name"], bool(recs[0]["body"]["host"]), "version" in recs[0]["body"]["mls"])')" \
	"('exit', 3, 'web.1', True, True)" "json: the engine event's fields, host and mls"
wait_for "the slack receiver got the crashes (web twice, other once)" 10 has_lines "$T/slack.log" 3
like "$(py "$T/slack.log" '[r["body"] for r in recs]')" "\{'text': '\[[^]]+\] web.1 crashed: exited with status 3 after [0-9.]+s'\}" \
	"slack: {\"text\": \"[HOST] web.1 crashed: exited with status 3 after ...s\"}"
is "$(py "$T/slack.log" 'set(r["sig"] for r in recs)')" "{'none'}" "no secret: no signature"
unlike "$(cat "$SV_OUT")" "mls httpd: listening" "notify: without http: listens nowhere"
sv_stop
is "$SV_RC" 0 "supervise exits 0"

# ------------------------------------------------------------------ https

if command -v openssl >/dev/null 2>&1; then
	mkdir -p "$T/ca"
	(
		cd "$T/ca" &&
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
			-days 2 -subj "/CN=mls test CA" -addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key -out srv.csr \
			-subj "/CN=localhost" &&
		printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >ext &&
		openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext
	) >"$T/ca/log" 2>&1
	ok $? "openssl makes a test CA and a certificate for localhost" || cat "$T/ca/log" | sed 's/^/# /'
	rx tls --secret k --tls "$T/ca/srv.pem" "$T/ca/srv.key"
	TLSP=$RX_PORT
	rx tlsbad --tls "$T/ca/srv.pem" "$T/ca/srv.key"
	BADP=$RX_PORT
	mkdir -p "$T/b"
	cat >"$T/b/mls.yaml" <<EOF
state_dir: $T/b/state
notify:
  - url: "https://localhost:$TLSP/tls"
    events: [started, stopped]
    ca_file: $T/ca/ca.pem
    secret: k
  # the same server, but the certificate does not name 127.0.0.1: refused
  - url: "https://127.0.0.1:$BADP/bad"
    events: [started, stopped]
    ca_file: $T/ca/ca.pem
services:
  web:
    command: ["sleep", "1000"]
EOF
	sv_start "$T/b/mls.yaml"
	wait_for "web runs" 10 state_is web.1 running
	wait_for "httpd is up" 10 grep -q "notify 2:" "$SV_OUT"
	ctl stop web
	wait_for "web stopped" 10 state_is web.1 stopped
	ctl start web
	wait_for "https: the receiver got stopped and started" 15 has_lines "$T/tls.log" 2
	is "$(py "$T/tls.log" '" ".join(r["body"]["event"] for r in recs[-2:]) + " " + str(set(r["sig"] for r in recs))')" \
		"stopped started {'ok'}" "https with the test CA: events and signature"
	wait_for "a certificate for another name: refused and logged" 10 \
		grep -q "notify 2 (127.0.0.1): .*certificate does not match the host name" "$SV_OUT"
	is "$(lines "$T/tlsbad.log")" 0 "nothing was sent to the server with the wrong name"
	sv_stop
else
	skip "openssl is needed for the https test"
fi

# ------------------------------------------------------ down, then up

DOWN=$(free_port)
mkdir -p "$T/c"
cat >"$T/c/mls.yaml" <<EOF
state_dir: $T/c/state
notify: {url: "http://127.0.0.1:$DOWN/late", events: [stopped, started]}
services:
  web:
    command: ["sleep", "1000"]
EOF
sv_start "$T/c/mls.yaml"
wait_for "web runs" 10 state_is web.1 running
wait_for "httpd is up" 10 grep -q "notify 1:" "$SV_OUT"
ctl stop web
wait_for "the receiver is down: httpd says it retries" 10 grep -q "notify 1 (127.0.0.1): .*retrying in" "$SV_OUT"
rx late --port "$DOWN"
wait_for "the receiver is up: the retried event arrives" 40 has_lines "$T/late.log" 1
is "$(py "$T/late.log" 'recs[0]["body"]["event"]')" stopped "the retried event is the stop"
wait_for "later events follow at once" 10 bash -c "cd '$T' && '$MLS' ctl -s '$SV_SOCK' start web >/dev/null && until [ \$(wc -l <late.log) -ge 2 ]; do sleep 0.05; done"
sv_stop

# --------------------------------------------------- a receiver that hangs

echo hang >"$T/hang.mode"
rx hang --mode "$T/hang.mode"
HANG=$RX_PORT
HB=$RX_PORT
rx hb ; HBP=$RX_PORT
HTTP=$(free_port)
mkdir -p "$T/d"
cat >"$T/d/mls.yaml" <<EOF
state_dir: $T/d/state
http: {listen: "127.0.0.1:$HTTP"}
notify:
  - url: "http://127.0.0.1:$HANG/hang"
    events: [crash, restart, started]
    timeout: 30s
  - url: "http://127.0.0.1:$HBP/hb"
    events: [reload]
    heartbeat: 1s
services:
  loop:
    command: ["false"]
    replicas: 4
    restart_backoff: {initial: 1ms, max: 1ms, factor: 1, jitter: 0%}
    restart_limit: {count: 1000000, window: 1s}
  web:
    command: ["sleep", "1000"]
EOF
sv_start "$T/d/mls.yaml"
metrics() { python3 -c 'import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "http://127.0.0.1:$HTTP/metrics" 2>/dev/null; }
dropped() { metrics | sed -n 's/^mls_notify_dropped_total{target="1",host="127.0.0.1"} //p'; }
has_dropped() { local d; d=$(dropped); [ -n "$d" ] && [ "$d" -gt 0 ]; }
wait_for "the hanging receiver's queue fills and drops (mls_notify_dropped_total > 0)" 60 has_dropped
# supervision is not slowed: status answers fast while webhooks pile up
worst=$(python3 - "$MLS" "$SV_SOCK" <<'PY'
import subprocess, sys, time
worst = 0
for _ in range(10):
    t = time.monotonic()
    subprocess.run([sys.argv[1], "ctl", "-s", sys.argv[2], "status"], stdout=subprocess.DEVNULL, check=True)
    worst = max(worst, time.monotonic() - t)
print(int(worst * 1000))
PY
)
ok $([ "$worst" -lt 50 ] && echo 0 || echo 1) "ctl status answers within 50 ms while a receiver hangs (worst of 10: ${worst} ms)"
M=$(metrics)
like "$M" 'mls_notify_queued\{target="1",host="127.0.0.1"\} 100[0-4]' "the queue holds its 1,000 events plus those in flight"
like "$M" '# TYPE mls_notify_sent_total counter' "mls_notify_sent_total is there"
like "$M" 'mls_notify_failed_total\{target="1",host="127.0.0.1"\} 0' "nothing failed yet (the requests hang)"
like "$(cat "$SV_OUT")" "notify 1 \(127.0.0.1\): queue full \(1000 events\): the oldest dropped" "the drop is logged"
if command -v promtool >/dev/null 2>&1; then
	run bash -c 'printf "%s\n" "$1" | promtool check metrics' _ "$M"
	is "$RC" 0 "promtool check metrics accepts the notify families" || diag "$OUT $ERR"
else
	skip "promtool is not installed"
fi
wait_for "a heartbeat arrives" 10 has_lines "$T/hb.log" 1
is "$(py "$T/hb.log" '(recs[0]["body"]["event"], recs[0]["body"]["summary"]["instances"] >= 5, "load" in recs[0]["body"], "memory" in recs[0]["body"])')" \
	"('heartbeat', True, True, True)" "heartbeat: the status summary and the host's load and memory"
like "$(field_of web.1 state)" running "web is still running"
sv_stop
is "$SV_RC" 0 "supervise exits 0 with a hanging receiver"

# ------------------------------- a name that does not resolve: retried later
# (the failed lookup is synchronous: the event must wait for its 1 s retry,
# not go through every retry in the same instant and be given up)
HTTP=$(free_port)
NOHOST=mls-test-no-such-host.invalid
mkdir -p "$T/e"
cat >"$T/e/mls.yaml" <<EOF
state_dir: $T/e/state
http: {listen: "127.0.0.1:$HTTP"}
notify: {url: "http://$NOHOST:9/x", events: [stopped, started]}
services:
  web:
    command: ["sleep", "1000"]
EOF
sv_start "$T/e/mls.yaml"
wait_for "web runs" 10 state_is web.1 running
wait_for "httpd is up" 10 grep -q "notify 1:" "$SV_OUT"
has_metrics() { metrics | grep -q mls_notify_queued; }
wait_for "httpd answers /metrics" 10 has_metrics
ctl stop web
wait_for "web stopped" 10 state_is web.1 stopped
queued() { metrics | grep -q "mls_notify_queued{target=\"1\",host=\"$NOHOST\"} 1"; }
wait_for "the stop event is queued for its retry" 10 queued
M=$(metrics)
like "$M" "mls_notify_failed_total\\{target=\"1\",host=\"$NOHOST\"\\} 0" "an unresolvable name: the event is not given up at once"
like "$M" "mls_notify_queued\\{target=\"1\",host=\"$NOHOST\"\\} 1" "... it waits in the queue for its retry"
sv_stop

# ------------------------- a git service rolled back: rolled_back, json and slack
if ! command -v git >/dev/null 2>&1; then
	skip "a git service: needs git"
elif "$MLS" --version | grep -q -- '-git'; then
	skip_always "a git service: this build has no git (NO_GIT=1)"
else
	chmod 755 "$T" # gitwatch reads the repository as nobody when the test is root
	export GIT_CONFIG_NOSYSTEM=1 HOME=$T GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.org \
		GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.org
	R=$T/g/app.git W=$T/g/work
	git init -q --bare -b main "$R" && git init -q -b main "$W"
	echo app.sh >"$W/autoexec.txt"
	printf 'exec sleep 1000\n' >"$W/app.sh"
	git -C "$W" add -A && git -C "$W" commit -qm good && git -C "$W" push -q "$R" HEAD:main 2>/dev/null
	GOOD=$(git -C "$W" rev-parse HEAD)
	rx gj ; GJ=$RX_PORT
	rx gs ; GS=$RX_PORT
	cat >"$T/g/mls.yaml" <<EOF
state_dir: $T/g/state
notify:
  - url: "http://127.0.0.1:$GJ/hook"
    events: [deployed, rolled_back, deploy_failed]
  - url: "http://127.0.0.1:$GS/slack"
    format: slack
services:
  app:
    git: {url: "$R", interval: 0, verify_window: 2s}
EOF
	sv_start "$T/g/mls.yaml"
	wait_for "git: httpd is up" 10 grep -q "notify 2:" "$SV_OUT"
	wait_for "git: the first revision is deployed, webhook deployed" 20 has_lines "$T/gj.log" 1
	is "$(py "$T/gj.log" '[(r["body"]["event"], r["body"]["service"], r["body"]["revision"]) for r in recs]')" \
		"[('deployed', 'app', '$GOOD')]" "git: json deployed with service and revision"
	printf 'exit 1\n' >"$W/app.sh"
	git -C "$W" commit -qam bad && git -C "$W" push -q "$R" HEAD:main 2>/dev/null
	BAD=$(git -C "$W" rev-parse HEAD)
	ctl deploy app
	is "$RC" 1 "git: ctl deploy of a commit that exits 1: rolled back (exit 1)"
	wait_for "git: the json target gets rolled_back" 20 has_lines "$T/gj.log" 2
	is "$(py "$T/gj.log" '[(r["body"]["event"], r["body"]["engine_event"], r["body"]["revision"], r["body"]["from"], r["body"]["message"]) for r in recs[1:]]')" \
		"[('rolled_back', 'rolled_back', '$GOOD', '$BAD', 'crashed twice: exited with status 1')]" "git: ... with both commits and the reason"
	slack_rb() { grep -q 'rolled back' "$T/gs.log"; }
	wait_for "git: the slack target (default events) gets it too" 20 slack_rb
	is "$(py "$T/gs.log" '[r["body"]["text"] for r in recs if "app.1 crashed" not in r["body"]["text"]]')" \
		"['[$(hostname)] app rolled back from ${BAD:0:7} to ${GOOD:0:7}: crashed twice: exited with status 1']" \
		"git: ... as one sentence, after the crashes (deployed is not in the default events)"
	sv_stop
fi

# supervise's and httpd's output, every run above (MLS may be the ASan build)
ERR=$(cat "$T"/sv.*.err "$T"/sv.*.out)
no_sanitizer_report "supervise and mls httpd"

done_testing
