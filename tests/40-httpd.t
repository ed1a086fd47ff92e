#!/usr/bin/env bash
# mls httpd over plain HTTP on loopback (docs/api.md), against the real
# binary, real services and real sockets: the instance mls-httpd in status,
# restarted when killed while the services keep their pids, stopped last;
# privileges dropped (nobody, no_new_privs, few fds; http.user); every
# endpoint and status code (healthz, readyz with its culprit, metrics
# through promtool, status, one service, start/stop/restart answering
# after the effect, ?wait=0, signal, reload 200/422, shutdown 403 then
# allowed); auth (401 + WWW-Authenticate, the bad-token log line, 403 for
# the read token and for what http.allow lacks, 429 after 10 failures,
# login cookie with Origin check, logout; no token = read-only); SSE
# events with ids, Last-Event-ID replay, log tails; limits (431, 413, 411,
# 408, max_connections 503, a non-reading SSE client dropped with httpd's
# RSS bounded, 300 slow clients and 1,000 connection attempts while
# `mls ctl status` stays fast); pipelining. The main flow runs again on the
# ASan/UBSan build ($MLS_DEV) with no sanitizer report.
# Needs: MLS, TESTS_DIR, python3, curl, promtool, root (privilege drop).
. "${TESTS_DIR:?}/lib.sh"
. "$TESTS_DIR/sv.sh"

have_python3 || skip_all "needs python3"
command -v curl >/dev/null 2>&1 || skip_all "needs curl"
export T
HC="python3 $TESTS_DIR/httpc.py"
ROOT=0
[ "$(id -u)" = 0 ] && ROOT=1

# background helpers of ours, killed on exit (with the supervisor)
BG=
bg_cleanup() {
	for p in $BG; do kill -KILL "$p" 2>/dev/null; done
	sv_cleanup
}
trap bg_cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }
has() { grep -Eq -- "$2" "$1" 2>/dev/null; }
gone() { ! kill -0 "$1" 2>/dev/null; }

ADMIN=admin-token-0123456789abcdef
READ=read-token-0123456789abcdef
printf '%s\n' "$ADMIN" >"$T/admin.token"
chmod 600 "$T/admin.token"
AA=(-H "Authorization: Bearer $ADMIN")
RA=(-H "Authorization: Bearer $READ")

# hc ARGS... URL: one curl; sets HS (status), HB (body), HH (headers)
hc() {
	HS=$(curl -s -o "$T/hb" -D "$T/hh" -w '%{http_code}' --max-time 60 "$@" 2>/dev/null)
	HB=$(cat "$T/hb" 2>/dev/null)
	HH=$(tr -d '\r' <"$T/hh" 2>/dev/null)
}
jbody() { json_check "$HB" "$1"; }
status_ok() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" 2>/dev/null | grep -qx 200; }
hpid() { pid_of mls-httpd.1; }
running_new() { local p; p=$(pid_of "$1"); [ "$(state_of "$1")" = running ] && [ -n "$p" ] && [ "$p" != null ] && [ "$p" != "$2" ]; }
# SSE frames of a file as "id event name state" lines
sse_lines() {
	python3 -c '
import json, sys
ev = {}
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    line = line.rstrip("\n").rstrip("\r")
    if not line:
        if "event" in ev:
            d = {}
            try: d = json.loads(ev.get("data", "{}"))
            except Exception: pass
            print(ev.get("id", "-"), ev["event"], d.get("name", "-"), d.get("state", "-"))
        ev = {}
        continue
    if line.startswith(":"): continue
    k, _, v = line.partition(":")
    ev[k] = v[1:] if v.startswith(" ") else v
' "$1"
}

# ---------------------------------------------------------------- config
# write_cfg HTTP_EXTRA SERVICES_EXTRA: the test config in $CFG
write_cfg() {
	cat >"$CFG" <<EOF
state_dir: $SD
log_dir: $LD
http:
  listen: ["127.0.0.1:$PORT"]
  token_file: $T/admin.token
  read_token: "$READ"
$1
services:
  web:
    command: ["sleep", "1000"]
  hup:
    command: ["sh", "-c", "echo line one; echo line two; echo line three; trap 'echo got HUP' HUP; while :; do sleep 0.2; done"]
  crashy:
    command: ["sh", "-c", "while [ ! -e $T/crash ]; do sleep 0.1; done; echo crashing; exit 3"]
    restart_backoff: {initial: 60s, max: 60s}
  spam:
    command: ["sh", "-c", "while [ ! -e $T/spam ]; do sleep 0.1; done; exec python3 -c 'import sys,time\nl=\"x\"*300+\"\\\\n\"\nwhile 1:\n  sys.stdout.write(l*500); sys.stdout.flush(); time.sleep(0.1)'"]
$2
EOF
}

# ======================================================= the main flow
# main_flow BIN LABEL: endpoints, auth, SSE, small limits, pipelining
main_flow() {
	local BIN=$1 L=$2
	MLS=$BIN
	RUN=$((RUN + 1))
	SD=$T/s$RUN LD=$T/logs$RUN CFG=$T/m$RUN.yaml
	PORT=$(free_port)
	U=http://127.0.0.1:$PORT
	HLOG=$LD/mls-httpd.1.log
	rm -f "$T/crash" "$T/spam"
	write_cfg "  public: [healthz, metrics]" ""

	run "$BIN" validate -c "$CFG"
	is "$RC" 0 "$L: validate accepts the config with http:"
	unlike "$OUT$ERR" 'warning:' "$L: ... and warns about nothing (http: is active)"
	like "$OUT$ERR" ' 0 warnings' "$L: ... 0 warnings"

	sv_start "$CFG"
	wait_for "$L: mls-httpd.1 is running" 15 state_is mls-httpd.1 running
	wait_for "$L: /healthz answers" 15 status_ok "$U/healthz"
	ctl status
	like "$OUT" 'mls-httpd\.1 +running +[0-9]+' "$L: ctl status shows mls-httpd running with a pid"
	HP=$(hpid)

	# --- privileges
	if [ "$ROOT" = 1 ]; then
		is "$(awk '/^Uid:/{print $2,$3,$4,$5}' "/proc/$HP/status")" "65534 65534 65534 65534" "$L: httpd runs as uid 65534 (nobody), every uid"
		is "$(awk '/^Gid:/{print $2,$3,$4,$5}' "/proc/$HP/status")" "65534 65534 65534 65534" "$L: ... gid 65534, every gid"
		is "$(awk '/^Groups:/{print $2}' "/proc/$HP/status")" "65534" "$L: ... supplementary groups: only 65534"
	else
		skip "privilege drop to nobody needs mls to run as root"
	fi
	is "$(awk '/^NoNewPrivs:/{print $2}' "/proc/$HP/status")" 1 "$L: NoNewPrivs: 1"
	FDS=$(for f in /proc/"$HP"/fd/*; do readlink "$f"; done | sort)
	NFD=$(printf '%s\n' "$FDS" | wc -l)
	ok $((NFD <= 8 ? 0 : 1)) "$L: httpd holds $NFD fds (stdio, control, events, listener, signalfd)" || diag "$FDS"
	unlike "$FDS" "^/($|[^d]|d[^e])|$T|\\.yaml|\\.sock|token" "$L: ... no file but /dev/null: no config, no token file, no socket path" || diag "$FDS"
	like "$FDS" '^socket:' "$L: ... its sockets"

	# --- public endpoints
	hc "$U/healthz"
	is "$HS $HB" "200 ok" "$L: GET /healthz without a token: 200 ok"
	hc "$U/readyz" "${RA[@]}"
	is "$HS" 200 "$L: GET /readyz: 200 while every service runs"
	jbody 'd["ready"] is True and d["not_ready"] == []' && ok 0 "$L: ... ready: true, no culprit" || ok 1 "$L: ... ready: true, no culprit ($HB)"
	hc "$U/readyz"
	is "$HS" 401 "$L: /readyz is not public by default: 401 without a token"
	hc "$U/metrics"
	is "$HS" 200 "$L: /metrics is public when listed in public: 200 without a token"
	like "$(grep -i '^content-type' <<<"$HH")" 'text/plain; version=0\.0\.4' "$L: ... Content-Type text/plain; version=0.0.4"
	like "$HB" 'mls_service_up\{service="web",instance="1"\} 1' "$L: ... mls_service_up of web.1 is 1"
	like "$HB" 'mls_service_restarts_total\{service="hup",instance="1"\} 0' "$L: ... restarts_total of hup.1"
	printf '%s\n' "$HB" >"$T/metrics.txt"
	if command -v promtool >/dev/null 2>&1; then
		run promtool check metrics <"$T/metrics.txt"
		is "$RC" 0 "$L: ... promtool check metrics accepts it" || diag "$OUT $ERR"
	else
		skip "promtool (package prometheus) is not installed"
	fi

	# --- status
	hc "$U/api/v1/status" "${RA[@]}"
	is "$HS" 200 "$L: GET /api/v1/status with the read token: 200"
	like "$(grep -i '^cache-control' <<<"$HH")" 'no-store' "$L: ... Cache-Control: no-store"
	like "$(grep -i '^x-content-type-options' <<<"$HH")" 'nosniff' "$L: ... X-Content-Type-Options: nosniff"
	jbody 'd["ok"] and {"web","hup","crashy","spam","mls-httpd"} <= {s["name"] for s in d["services"]} and all(k in s for s in d["services"] for k in ("state","pid","restarts","uptime_s","instance"))' &&
		ok 0 "$L: ... every configured service with state, pid, restarts, uptime, instance" || ok 1 "$L: ... every configured service with fields ($HB)"
	WEBPID=$(pid_of web.1)
	jbody "[s['pid'] for s in d['services'] if s['name']=='web'] == [$WEBPID]" && ok 0 "$L: ... web's pid is ctl status's" || ok 1 "$L: ... web's pid is ctl status's"

	# --- one service
	hc "$U/api/v1/services/hup" "${RA[@]}"
	is "$HS" 200 "$L: GET /api/v1/services/hup: 200"
	jbody 'd["ok"] and d["service"]=="hup" and len(d["instances"])==1 and d["instances"][0]["state"]=="running" and isinstance(d["health"],list) and isinstance(d["history"],list)' &&
		ok 0 "$L: ... instances, health, history" || ok 1 "$L: ... instances, health, history ($HB)"
	hc "$U/api/v1/services/nosuch" "${RA[@]}"
	is "$HS" 404 "$L: an unknown service: 404"
	jbody 'd["ok"] is False and "no such" in d["error"]' && ok 0 "$L: ... JSON error" || ok 1 "$L: ... JSON error ($HB)"
	hc "$U/api/v1/nothing" "${RA[@]}"
	is "$HS" 404 "$L: a bad path: 404"
	hc "$U/api/v1/services/web/frobnicate" "${AA[@]}" -X POST
	is "$HS" 404 "$L: an unknown action: 404"
	hc "$U/api/v1/status" "${AA[@]}" -X POST
	is "$HS" 405 "$L: POST /api/v1/status: 405"
	like "$(grep -i '^allow:' <<<"$HH")" 'GET' "$L: ... with Allow: GET"
	hc "$U/api/v1/services/web/restart" "${AA[@]}"
	is "$HS" 405 "$L: GET of restart: 405"
	hc "$U/api/v1/services/web/logs?n=3" "${AA[@]}" -X DELETE
	is "$HS" 405 "$L: DELETE: 405 (refused by the server)"

	# --- logs
	for bad in 0 -1 abc 100001; do
		hc "$U/api/v1/services/hup/logs?n=$bad" "${RA[@]}"
		is "$HS" 400 "$L: GET logs?n=$bad: 400"
		like "$HB" 'n: expected a number of lines from 1 to 100000' "$L: ... says what n takes"
	done
	hc "$U/api/v1/services/hup/logs?n=3" "${RA[@]}"
	is "$HS" 200 "$L: GET logs?n=3: 200"
	jbody '[x["line"] for x in d["lines"]] == ["line one","line two","line three"] and all(x["instance"]=="hup.1" and x["time"] for x in d["lines"])' &&
		ok 0 "$L: ... the 3 last lines with instance and time" || ok 1 "$L: ... the 3 last lines ($HB)"

	# --- events (SSE): a restart through the API
	curl -s -N "${RA[@]}" "$U/api/v1/events" >"$T/$L.ev1" 2>/dev/null &
	EVP=$!
	BG="$BG $EVP"
	wait_for "$L: SSE /api/v1/events begins with a hello" 10 has "$T/$L.ev1" '^event: hello'
	like "$(sed -n 's/^data: //p' "$T/$L.ev1" | head -1)" '^\{"seq":[0-9]+,"backlog_from":[0-9]+\}$' "$L: ... hello's data: seq, backlog_from"
	P0=$(pid_of web.1)
	t0=$(now_ms)
	hc -X POST "${AA[@]}" "$U/api/v1/services/web/restart"
	t1=$(now_ms)
	is "$HS" 200 "$L: POST restart web: 200"
	P1=$(pid_of web.1)
	jbody "d['ok'] and d['instances'][0]['name']=='web.1' and d['instances'][0]['state']=='running' and d['instances'][0]['pid']==$P1 and $P1!=$P0" &&
		ok 0 "$L: ... answered running with the new pid ($P1, was $P0), ctl status's" || ok 1 "$L: ... new pid ($HB; ctl: $P1, was $P0)"
	ok $((t1 - t0 >= 450 ? 0 : 1)) "$L: ... after it ran 500 ms ($((t1 - t0)) ms)"
	wait_for "$L: SSE: the restart's running state arrives" 10 has "$T/$L.ev1" "\"name\":\"web.1\".*\"state\":\"running\""
	sse_lines "$T/$L.ev1" | grep ' web\.1 ' >"$T/$L.ev1.l"
	like "$(awk '{print $2":"$4}' "$T/$L.ev1.l" | tr '\n' ' ')" '^state:stopping exit:- (state:(stopped|starting) )*state:running $' "$L: ... state stopping, exit, then running, in order" || diag "$(cat "$T/$L.ev1.l")"
	IDS=$(awk '{print $1}' "$T/$L.ev1.l")
	printf '%s\n' "$IDS" | sort -n -c 2>/dev/null && [ "$(printf '%s\n' "$IDS" | sort -un | wc -l)" = "$(printf '%s\n' "$IDS" | wc -l)" ]
	ok $? "$L: ... with increasing id: ($(echo $IDS))"
	FIRST=$(head -1 <<<"$IDS")
	LAST=$(sse_lines "$T/$L.ev1" | awk '$1 != "-" {x=$1} END {print x}')
	kill "$EVP" 2>/dev/null
	# reconnect after the first: the backlog gives exactly the rest
	curl -s -N "${RA[@]}" -H "Last-Event-ID: $FIRST" "$U/api/v1/events" >"$T/$L.ev2" 2>/dev/null &
	EVP=$!
	BG="$BG $EVP"
	wait_for "$L: Last-Event-ID: $FIRST: the backlog is replayed up to $LAST" 10 has "$T/$L.ev2" "^id: $LAST\$"
	kill "$EVP" 2>/dev/null
	WANT=$(sse_lines "$T/$L.ev1" | awk -v f="$FIRST" '$1 != "-" && $1 > f+0 {print $1}' | tr '\n' ' ')
	GOT=$(sse_lines "$T/$L.ev2" | awk '$1 != "-" {print $1}' | tr '\n' ' ')
	is "$GOT" "$WANT" "$L: ... exactly the events after $FIRST, in order"
	# from the last one: nothing replayed, the next events come
	curl -s -N "${RA[@]}" "$U/api/v1/events?last_event_id=$LAST" >"$T/$L.ev3" 2>/dev/null &
	EVP=$!
	BG="$BG $EVP"
	wait_for "$L: ?last_event_id=$LAST (the last one): a hello" 10 has "$T/$L.ev3" '^event: hello'

	# --- stop, start, ?wait=0
	hc -X POST "${AA[@]}" "$U/api/v1/services/web/stop"
	is "$HS" 200 "$L: POST stop web: 200"
	wait_for "$L: ... the stream from $LAST shows the stop" 10 has "$T/$L.ev3" '"name":"web\.1".*"state":"stopped"'
	kill "$EVP" 2>/dev/null
	is "$(sse_lines "$T/$L.ev3" | awk '$1 != "-" {print $2 ":" $3 ":" $4}' | head -1)" "state:web.1:stopping" "$L: ... nothing replayed: the first event after hello is the stop's"
	ok $(($(sse_lines "$T/$L.ev3" | awk '$1 != "-" {print $1; exit}') > LAST ? 0 : 1)) "$L: ... with an id after $LAST"
	jbody 'd["instances"][0]["state"]=="stopped"' && ok 0 "$L: ... answered stopped" || ok 1 "$L: ... answered stopped ($HB)"
	is "$(state_of web.1)" stopped "$L: ... ctl status says stopped"
	hc -X POST "${AA[@]}" "$U/api/v1/services/web/start?wait=0"
	is "$HS" 200 "$L: POST start?wait=0: 200"
	jbody 'd["ok"] and "seq" in d' && ok 0 "$L: ... the control reply at once (seq)" || ok 1 "$L: ... the control reply ($HB)"
	wait_for "$L: ... web.1 runs again" 10 state_is web.1 running
	hc -X POST "${AA[@]}" "$U/api/v1/services/nosuch/restart"
	is "$HS" 404 "$L: POST restart of an unknown service: 404"

	# --- log tail + signal with a JSON body
	curl -s -N "${RA[@]}" "$U/api/v1/services/hup/logs?follow=1&n=2" >"$T/$L.lt" 2>/dev/null &
	LTP=$!
	BG="$BG $LTP"
	wait_for "$L: logs?follow=1&n=2: the last lines come first" 10 has "$T/$L.lt" '"line":"line three"\}$'
	is "$(sed -n 's/^data: //p' "$T/$L.lt" | python3 -c 'import json,sys; print(",".join(json.loads(l)["line"] for l in sys.stdin))' 2>&1)" "line two,line three" "$L: ... exactly the last 2" || diag "$(cat "$T/$L.lt")"
	like "$(grep -m1 '^event:' "$T/$L.lt")" '^event: log$' "$L: ... as event: log"
	hc -X POST "${AA[@]}" -H 'Content-Type: application/json' -d '{"signal":"HUP"}' "$U/api/v1/services/hup/signal"
	is "$HS" 200 "$L: POST signal {\"signal\":\"HUP\"}: 200"
	jbody '"hup.1" in d["signalled"]' && ok 0 "$L: ... signalled hup.1" || ok 1 "$L: ... signalled hup.1 ($HB)"
	wait_for "$L: ... the service logs 'got HUP', and the tail shows it" 10 has "$T/$L.lt" '"line":"got HUP"'
	wait_for "$L: ... in its log file" 10 has "$LD/hup.1.log" 'got HUP'
	kill "$LTP" 2>/dev/null
	hc -X POST "${AA[@]}" -d '{"sig":"HUP"}' "$U/api/v1/services/hup/signal"
	is "$HS" 400 "$L: signal without a signal in the body: 400"
	hc -X POST "${AA[@]}" -d '{"signal":"NOPE"}' "$U/api/v1/services/hup/signal"
	is "$HS" 400 "$L: an unknown signal: 400"

	# --- readyz with a culprit
	touch "$T/crash"
	wait_for "$L: crashy.1 crashes into backoff" 10 state_is crashy.1 backoff
	hc "$U/readyz" "${RA[@]}"
	is "$HS" 503 "$L: /readyz: 503 after a crash"
	jbody 'd["ready"] is False and any(x["name"]=="crashy.1" and x["state"]=="backoff" and "status 3" in (x.get("reason") or "") for x in d["not_ready"])' &&
		ok 0 "$L: ... crashy.1 in backoff is the culprit, with the reason" || ok 1 "$L: ... the culprit ($HB)"
	ctl stop crashy
	hc "$U/readyz" "${RA[@]}"
	is "$HS" 200 "$L: ... 200 once it is stopped by request"

	# --- auth
	hc "$U/api/v1/status"
	is "$HS" 401 "$L: no token: 401"
	like "$(grep -i '^www-authenticate' <<<"$HH")" '^[Ww][Ww][Ww]-[Aa]uthenticate: Bearer' "$L: ... WWW-Authenticate: Bearer"
	hc "$U/api/v1/status" -H "Authorization: Bearer wrong-token-0123456789"
	is "$HS" 401 "$L: a wrong token: 401"
	wait_for "$L: ... logged with the peer address" 10 has "$HLOG" 'bad token from 127\.0\.0\.1 for /api/v1/status'
	hc -X POST "${RA[@]}" "$U/api/v1/services/web/restart"
	is "$HS" 403 "$L: the read token on a mutation: 403"
	jbody '"read-only" in d["error"]' && ok 0 "$L: ... says read-only" || ok 1 "$L: ... says read-only ($HB)"
	hc -X POST "${AA[@]}" "$U/api/v1/shutdown"
	is "$HS" 403 "$L: shutdown, not in http.allow: 403"
	jbody 'd["error"]=="not allowed: shutdown (not in http.allow)"' && ok 0 "$L: ... not allowed: shutdown (not in http.allow)" || ok 1 "$L: ... the error ($HB)"
	# 11 wrong tokens from one address (127.0.0.2: the others stay usable)
	local codes="" k
	for k in $(seq 11); do
		codes="$codes $(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 -H "Authorization: Bearer bad-$k-0123456789abcdef" "$U/api/v1/status")"
	done
	is "$codes" " 401 401 401 401 401 401 401 401 401 401 429" "$L: 10 wrong tokens from 127.0.0.2: 401 each, the 11th: 429"
	hc --interface 127.0.0.2 -H "Authorization: Bearer bad-12-0123456789abcdef" "$U/api/v1/status"
	like "$HS $(grep -i '^retry-after' <<<"$HH")" '^429 [Rr]etry-[Aa]fter: [0-9]+$' "$L: ... with Retry-After"
	hc "$U/api/v1/status" "${RA[@]}"
	is "$HS" 200 "$L: ... 127.0.0.1 is not blocked"

	# login, cookie, Origin, logout
	hc -X POST -H 'Content-Type: application/json' -H 'Origin: http://evil.example' -d "{\"token\":\"$ADMIN\"}" "$U/api/v1/login"
	is "$HS" 403 "$L: POST /api/v1/login from another site's page (Origin): 403"
	hc -X POST -H 'Content-Type: application/json' -d "{\"token\":\"$ADMIN\"}" "$U/api/v1/login"
	is "$HS" 200 "$L: POST /api/v1/login with the admin token: 200"
	SC=$(grep -i '^set-cookie:' <<<"$HH")
	like "$SC" '^[Ss]et-[Cc]ookie: mls_session=[^;]+;' "$L: ... Set-Cookie mls_session"
	like "$SC" 'HttpOnly' "$L: ... HttpOnly"
	like "$SC" 'SameSite=Strict' "$L: ... SameSite=Strict"
	CK=$(sed -n 's/^[Ss]et-[Cc]ookie: \(mls_session=[^;]*\);.*/\1/p' <<<"$SC")
	hc -H "Cookie: $CK" "$U/api/v1/status"
	is "$HS" 200 "$L: the cookie reads the status"
	hc -X POST -H "Cookie: $CK" "$U/api/v1/services/web/restart?wait=0"
	is "$HS" 403 "$L: a POST with the cookie and no Origin: 403"
	hc -X POST -H "Cookie: $CK" -H "Origin: http://evil.example" "$U/api/v1/services/web/restart?wait=0"
	is "$HS" 403 "$L: ... with a foreign Origin: 403"
	jbody '"Origin" in d["error"]' && ok 0 "$L: ... says why (Origin)" || ok 1 "$L: ... says why ($HB)"
	hc -X POST -H "Cookie: $CK" -H "Origin: http://127.0.0.1:$PORT" "$U/api/v1/services/web/restart?wait=0"
	is "$HS" 200 "$L: ... with the matching Origin: 200"
	hc -X POST -H 'Content-Type: application/json' -d '{"token":"not-the-token-0123456789"}' "$U/api/v1/login"
	is "$HS" 401 "$L: login with a wrong token: 401"
	hc -X POST -H "Cookie: $CK" "$U/api/v1/logout"
	is "$HS" 200 "$L: logout: 200"
	like "$(grep -i '^set-cookie:' <<<"$HH")" 'mls_session=; .*Max-Age=0' "$L: ... the cookie expires (Max-Age=0)"
	hc -X POST -H "Cookie: mls_session=forged.value" "$U/api/v1/services/web/restart"
	is "$HS" 401 "$L: a forged cookie: 401"

	# --- limits on one request, pipelining
	python3 -c 'import sys; sys.stdout.write("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + "a"*9000 + "\r\n\r\n")' | $HC raw 127.0.0.1 "$PORT" >"$T/r431"
	like "$(head -1 "$T/r431")" '^HTTP/1\.1 431 ' "$L: a request head over 8 KiB: 431"
	python3 -c 'import sys; b="x"*70000; sys.stdout.write("POST /api/v1/reload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer '"$ADMIN"'\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))' | $HC raw 127.0.0.1 "$PORT" >"$T/r413"
	like "$(head -1 "$T/r413")" '^HTTP/1\.1 413 ' "$L: a body over 64 KiB: 413"
	printf 'POST /api/v1/reload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' | $HC raw 127.0.0.1 "$PORT" >"$T/r411"
	like "$(head -1 "$T/r411")" '^HTTP/1\.1 411 ' "$L: Transfer-Encoding: chunked: 411"
	printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /api/v1/nothing HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n' "$READ" |
		$HC raw 127.0.0.1 "$PORT" >"$T/pipe"
	is "$(grep -a '^HTTP/1\.1' "$T/pipe" | tr -d '\r' | tr '\n' ' ')" "HTTP/1.1 200 OK HTTP/1.1 404 Not Found " "$L: two pipelined requests in one write: two answers in order"
	like "$(tr -d '\r' <"$T/pipe" | tr '\n' ' ')" '^HTTP/1\.1 200 .* ok HTTP/1\.1 404 .*"not found"' "$L: ... each with its own body"
}

# ------------------------------------------------------------- run it
RUN=0
main_flow "$MLS" rel

# ================================================== release-only: httpd's life
# kill httpd: restarted, the services untouched
HP=$(hpid)
WP=$(pid_of web.1)
UP=$(pid_of hup.1)
kill -KILL "$HP"
wait_for "SIGKILL to httpd: mls-httpd.1 is running again with a new pid" 20 running_new mls-httpd.1 "$HP"
wait_for "... and answers" 15 status_ok "$U/healthz"
is "$(pid_of web.1) $(pid_of hup.1)" "$WP $UP" "... web and hup keep their pids (supervision untouched)"
ok $(($(field_of mls-httpd.1 restarts) >= 1 ? 0 : 1)) "... its restart is counted"
like "$(cat "$SV_ERR")" "mls-httpd\\.1: pid $HP killed by SIGKILL" "... supervise logged its death"

# bad tokens from 30 addresses (127.0.0.10-39) within a second: one log
# line a second in all, not one per address
B0=$(grep -c 'bad token from' "$HLOG")
python3 - "$PORT" <<'PY'
import socket, sys
for i in range(10, 40):
    s = socket.socket()
    s.bind(("127.0.0.%d" % i, 0))
    s.connect(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong-token-0123456789\r\nConnection: close\r\n\r\n")
    while s.recv(4096):
        pass
    s.close()
PY
# the clients got their 401s, so every line httpd wrote is on its way to the log
logged() { [ "$(grep -c 'bad token from' "$HLOG")" -gt "$B0" ]; }
wait_for "a bad-token line is logged" 10 logged
B1=$(grep -c 'bad token from' "$HLOG")
ok $((B1 - B0 <= 2 ? 0 : 1)) "bad tokens from 30 addresses at once: $((B1 - B0)) log lines (one a second in all)"

# --- limits under load: the 408 client runs meanwhile (one 10 s wait)
$HC half 127.0.0.1 "$PORT" >"$T/half" 2>&1 &
HALFP=$!
BG="$BG $HALFP"

# a non-reading SSE client of a spamming log: dropped, httpd's RSS bounded
HP=$(hpid)
RSS0=$(awk '/^VmRSS:/{print $2}' "/proc/$HP/status")
$HC noread 127.0.0.1 "$PORT" "/api/v1/services/spam/logs?follow=1&n=1" "$READ" >"$T/noread" 2>&1 &
NRP=$!
BG="$BG $NRP"
wait_for "a non-reading log tail client is connected" 10 has "$T/noread" sent
touch "$T/spam"
RSSMAX=$RSS0
rss_track() {
	local r
	r=$(awk '/^VmRSS:/{print $2}' "/proc/$HP/status" 2>/dev/null)
	[ -n "$r" ] && [ "$r" -gt "$RSSMAX" ] && RSSMAX=$r
	has "$HLOG" 'event stream client \(spam\) did not read: dropped'
}
wait_for "... it is dropped, and the log says so" 60 rss_track
ctl stop spam
rm -f "$T/spam"
kill "$NRP" 2>/dev/null
ok $((RSSMAX - RSS0 < 4096 ? 0 : 1)) "... httpd's RSS stayed bounded: $RSS0 -> max $RSSMAX KiB (< +4 MiB)"
is "$(hpid)" "$HP" "... httpd did not restart"

# log tails are capped (each holds one of supervise's 1,024 control
# connections): the 129th gets 503; closed ones free their place
python3 - 127.0.0.1 "$PORT" "$READ" >"$T/tails" 2>&1 <<'PY'
import socket, sys, time
host, port, tok = sys.argv[1], int(sys.argv[2]), sys.argv[3]
req = ("GET /api/v1/services/hup/logs?follow=1&n=1 HTTP/1.1\r\nHost: x\r\n"
       "Authorization: Bearer %s\r\n\r\n" % tok).encode()
def status(s):
    s.settimeout(10)
    b = b""
    while b"\r\n" not in b:
        d = s.recv(4096)
        if not d:
            break
        b += d
    p = b.split(b" ")
    return p[1].decode() if len(p) > 1 else "none"
def tail():
    s = socket.create_connection((host, port))
    s.sendall(req)
    return s, status(s)
socks, codes = [], []
for i in range(129):
    s, c = tail()
    socks.append(s)
    codes.append(c)
print("first 128:", " ".join(sorted(set(codes[:128]))), "the 129th:", codes[128])
for s in socks:
    s.close()
time.sleep(1)
print("after closing them:", tail()[1])
PY
is "$(cat "$T/tails")" "first 128: 200 the 129th: 503
after closing them: 200" "log tails: at most 128 at once (503 past it), free again once closed"

# 300 slow clients and 1,000 connection attempts; ctl status stays fast
$HC load 127.0.0.1 "$PORT" 300 1000 4 >"$T/load" 2>"$T/load.err" &
LOADP=$!
BG="$BG $LOADP"
wait_for "load: 300 slow clients open, the attempts begin" 20 has "$T/load" '^ready '
python3 "$TESTS_DIR/httpc.py" measure 40 50 "$MLS" ctl -s "$SV_SOCK" status >"$T/meas"
poll 60 has "$T/load" '^\{'
wait "$LOADP"
LOAD=$(grep '^{' "$T/load")
diag "load: $LOAD"
json_check "$LOAD" 'd["conn_ok"] + d["conn_503"] == 1000 and d["conn_error"] == 0 and d["conn_other"] == 0'
ok $? "load: every one of the 1,000 attempts got an answer (200 or 503)" || diag "$(cat "$T/load.err")"
json_check "$LOAD" 'd["slow_held"] >= 200 and d["slow_refused"] >= 1'
ok $? "load: the slow clients filled max_connections (held, the rest refused with 503)"
M=$(python3 -c '
import json, sys, statistics
m = json.load(open(sys.argv[1])); l = json.loads(open(sys.argv[2]).read().split("\n")[-2] if False else [x for x in open(sys.argv[2]) if x.startswith("{")][0])
inside = [ms for ms, t in zip(m["ms"], m["t"]) if l["t_start"] <= t <= l["t_end"]]
print(len(inside), "%.1f" % max(inside or [999]), "%.1f" % statistics.median(inside or [999]))' "$T/meas" "$T/load")
read -r NIN MAXMS MEDMS <<<"$M"
ok $((NIN >= 10 ? 0 : 1)) "load: $NIN ctl status samples taken during the attempts"
diag "ctl status during the load: max $MAXMS ms, median $MEDMS ms ($(nproc) CPUs)"
if python3 -c "import sys; sys.exit(0 if $MAXMS < 50 else 1)"; then
	ok 0 "load: mls ctl status stays under 50 ms (max $MAXMS ms)"
else
	diag "the max is over 50 ms on this machine (noisy): judging the median"
	python3 -c "import sys; sys.exit(0 if $MEDMS < 50 else 1)"
	ok $? "load: mls ctl status stays under 50 ms (median $MEDMS ms; max $MAXMS ms)"
fi
wait_for "after the load: /healthz answers" 15 status_ok "$U/healthz"
is "$(hpid)" "$HP" "... the same httpd"

poll 30 has "$T/half" ' [0-9]+$'
read -r _ CODE _ HALFMS <<<"$(awk '{print $1, $2, $3, $NF}' "$T/half")"
is "$CODE" 408 "a client that sends half a request line gets 408"
ok $((HALFMS >= 9000 && HALFMS <= 25000 ? 0 : 1)) "... after the 10 s header deadline ($HALFMS ms)"

# --- reload through the API: valid (a service added), then invalid (422)
write_cfg "  public: [healthz, metrics]" "  added:
    command: [\"sleep\", \"1000\"]"
hc -X POST "${AA[@]}" "$U/api/v1/reload"
is "$HS" 200 "POST /api/v1/reload with a valid config: 200"
wait_for "... the added service appears and runs" 10 state_is added.1 running
cp "$CFG" "$T/good.yaml"
printf 'services:\n  web:\n    command: ["sleep", "1000"]\n    restart: sometimes\n' >>"$CFG"
hc -X POST "${AA[@]}" "$U/api/v1/reload"
is "$HS" 422 "reload with an invalid config: 422"
jbody 'd["ok"] is False and any(__import__("re").search(r"m1\.yaml:[0-9]+:[0-9]+: error", e) for e in d["errors"])' &&
	ok 0 "... errors with file:line:col" || ok 1 "... errors with file:line:col ($HB)"
ctl status
like "$OUT" 'added\.1 +running' "... nothing changed: added still runs"
is "$(hpid)" "$HP" "... and httpd was not restarted"
cp "$T/good.yaml" "$CFG"

# --- a reload of http: restarts httpd with the new settings
if [ "$ROOT" = 1 ] && getent passwd daemon >/dev/null; then
	DUID=$(id -u daemon)
	write_cfg "  public: [healthz]
  allow: [restart]
  max_connections: 5
  user: daemon" ""
	ctl reload
	is "$RC" 0 "ctl reload with a new http: (allow, public, max_connections, user)" || diag "$OUT $ERR"
	wait_for "... httpd is restarted" 20 running_new mls-httpd.1 "$HP"
	wait_for "... and answers" 15 status_ok "$U/healthz"
	HP=$(hpid)
	is "$(awk '/^Uid:/{print $2,$3,$4,$5}' "/proc/$HP/status")" "$DUID $DUID $DUID $DUID" "http.user: daemon: httpd runs as daemon ($DUID)"
	is "$(awk '/^NoNewPrivs:/{print $2}' "/proc/$HP/status")" 1 "... NoNewPrivs: 1"
	wait_for "... the service removed from the config is gone" 10 sh -c "! '$MLS' ctl -s '$SV_SOCK' status added >/dev/null 2>&1"
	hc "$U/metrics"
	is "$HS" 401 "/metrics not in public: 401 without a token"
	hc "$U/metrics" "${RA[@]}"
	is "$HS" 200 "... 200 with the read token"
	hc -X POST "${AA[@]}" "$U/api/v1/services/web/stop"
	is "$HS" 403 "allow: [restart]: the admin token's stop: 403"
	jbody 'd["error"]=="not allowed: stop (not in http.allow)"' && ok 0 "... not allowed: stop (not in http.allow)" || ok 1 "... the error ($HB)"
	is "$(state_of web.1)" running "... web still runs"
	hc -X POST "${AA[@]}" "$U/api/v1/services/web/restart?wait=0"
	is "$HS" 200 "... its restart: 200"
	$HC maxconn 127.0.0.1 "$PORT" 5 >"$T/maxc"
	is "$(sed -n 1p "$T/maxc" | tr -d '\r')" "HTTP/1.1 503 Service Unavailable" "max_connections: 5: the 6th connection gets 503"
	like "$(sed -n 2p "$T/maxc")" '^[Rr]etry-[Aa]fter: 1' "... with Retry-After: 1"
	like "$(sed -n 3p "$T/maxc")" '^HTTP/1\.1 200 ' "... while the 5 others are served"
else
	skip "http.user: needs root and a 'daemon' user"
fi

# --- shutdown: allowed once http.allow lists it; mls exits
write_cfg "  allow: [restart, shutdown]" ""
HP=$(hpid)
ctl reload
wait_for "allow: [restart, shutdown]: httpd restarted" 20 running_new mls-httpd.1 "$HP"
wait_for "... and answers" 15 status_ok "$U/healthz"
hc -X POST "${RA[@]}" "$U/api/v1/shutdown"
is "$HS" 403 "shutdown with the read token: 403"
hc -X POST "${AA[@]}" "$U/api/v1/shutdown"
is "$HS" 200 "POST /api/v1/shutdown with the admin token: 200"
sv_gone() { ! kill -0 "$SV_PID" 2>/dev/null; }
wait_for "... mls exits" 30 sv_gone
wait "$SV_PID"
is "$?" 0 "... with status 0"
SV_PID=

# ====================================== no token: loopback read-only; stop order
RUN=$((RUN + 1))
SD=$T/s$RUN LD=$T/logs$RUN CFG=$T/m$RUN.yaml
PORT=$(free_port)
U=http://127.0.0.1:$PORT
cat >"$CFG" <<EOF
state_dir: $SD
log_dir: $LD
http:
  listen: ["127.0.0.1:$PORT"]
services:
  a:
    command: ["sleep", "1000"]
  b:
    command: ["sh", "-c", "trap 'sleep 0.3; exit 0' TERM; while :; do sleep 0.1; done"]
EOF
sv_start "$CFG"
wait_for "no token: /healthz answers" 15 status_ok "$U/healthz"
hc "$U/api/v1/status"
is "$HS" 200 "no token configured: the status without a token: 200"
hc "$U/metrics"
is "$HS" 200 "... /metrics too (everyone reads)"
hc -X POST "$U/api/v1/services/a/restart"
is "$HS" 403 "... a mutation: 403 (read-only)"
hc -X POST -d '{"token":"whatever-0123456789"}' "$U/api/v1/login"
is "$HS" 400 "... login: 400 (nothing to log in to)"
# DNS rebinding: a web page whose name resolves to 127.0.0.1 sends its name
hc -H "Host: evil.example:$PORT" "$U/api/v1/status"
is "$HS" 403 "... Host a DNS name: 403 (no token: DNS rebinding)"
hc -H "Host: evil.example:$PORT" "$U/api/v1/services/a/logs"
is "$HS" 403 "... the logs too"
hc -H "Host: localhost:$PORT" "$U/api/v1/status"
is "$HS" 200 "... Host localhost: 200"
hc -H "Host: [::1]:$PORT" "$U/api/v1/status"
is "$HS" 200 "... Host [::1]: 200"
wait_for "b.1 runs" 10 state_is b.1 running
sv_stop
is "$SV_RC" 0 "SIGTERM: supervise exits 0"
ORDER=$(grep -E ': (a|b|mls-httpd)\.1: stopped$' "$SV_ERR" | sed 's/.*: \([a-z-]*\)\.1: stopped$/\1/' | tr '\n' ' ')
like "$ORDER" '^(a b|b a) mls-httpd $' "... mls-httpd stops after every other service ($ORDER)"
like "$(grep -n 'mls-httpd.1: stopping' "$SV_ERR" | cut -d: -f1) $(grep -n 'b.1: stopped' "$SV_ERR" | cut -d: -f1)" '^[0-9]+ [0-9]+$' "... both logged"
SL=$(grep -n 'mls-httpd.1: stopping' "$SV_ERR" | cut -d: -f1)
BL=$(grep -n 'b.1: stopped' "$SV_ERR" | cut -d: -f1)
ok $((SL > BL ? 0 : 1)) "... it is asked to stop only once b (0.3 s to stop) has stopped"

# ============================================ the main flow on the ASan build
if [ -n "${MLS_DEV:-}" ] && [ -x "$MLS_DEV" ]; then
	REL=$MLS
	main_flow "$MLS_DEV" dev
	sv_stop
	is "$SV_RC" 0 "dev: supervise exits 0"
	ERR=$(cat "$SV_ERR" "$LD"/*.log 2>/dev/null)
	no_sanitizer_report "dev: supervise and mls-httpd"
	MLS=$REL
else
	skip "MLS_DEV (the ASan/UBSan build) is not set or not built"
fi

done_testing
