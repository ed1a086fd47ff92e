#!/usr/bin/env bash
# mls health against real servers: HTTP (python3 -m http.server, and small
# servers answering 503, never answering, sending 1 MiB without a line end,
# garbage, or closing at once), TCP to a listening and a closed port, HTTPS
# against a python3 TLS server with a test CA made here by openssl (trusted
# with --ca, not trusted with the default CA file, --insecure), and the
# supervisor mode against a real `mls supervise`. Every exit code: 0
# healthy, 1 unhealthy, 2 usage, 3 supervisor not reachable.
# Needs: MLS, TESTS_DIR, python3; openssl for the HTTPS part.
. "${TESTS_DIR:?}/lib.sh"
. "$TESTS_DIR/sv.sh"

have_python3 || skip_all "needs python3"

# ---------------------------------------------------------------- servers

SRV_PIDS=
cleanup() {
	for p in $SRV_PIDS; do kill "$p" 2>/dev/null; done
	for p in $SRV_PIDS; do wait "$p" 2>/dev/null; done
	sv_cleanup
}
trap cleanup EXIT

# python3 $SRV MODE PORTFILE [CERT KEY]: serves on 127.0.0.1, a free port
# written to PORTFILE once it listens
SRV=$T/srv.py
cat >"$SRV" <<'EOF'
import os, socket, ssl, sys, threading

mode, portfile = sys.argv[1], sys.argv[2]
ctx = None
if len(sys.argv) > 4:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', 0))
s.listen(64)
with open(portfile + '.tmp', 'w') as f:
    f.write(str(s.getsockname()[1]))
os.rename(portfile + '.tmp', portfile)

held = []
def handle(c):
    if mode == 'hang':          # accept, never answer, never close
        held.append(c)
        return
    try:
        if ctx:
            c = ctx.wrap_socket(c, server_side=True)
        c.settimeout(10)
        req = b''
        while b'\r\n\r\n' not in req and len(req) < 65536:
            d = c.recv(4096)
            if not d:
                break
            req += d
        with open(portfile + '.req', 'wb') as f:
            f.write(req)
        if mode == 'close':       # the request read, then closed: no answer
            pass
        elif mode == 'ok':
            c.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
        elif mode == '503':
            c.sendall(b'HTTP/1.0 503 x\r\nContent-Length: 0\r\n\r\n')
        elif mode == 'bighdr':    # 1 MiB and the status line never ends
            c.sendall(b'HTTP/1.1 200 OK' + b'A' * (1 << 20))
        elif mode == 'bigafter':  # a status line, then 1 MiB of one header
            c.sendall(b'HTTP/1.1 200 OK\r\nX-Big: ' + b'A' * (1 << 20))
        elif mode == 'garbage':
            c.sendall(b'SSH-2.0-OpenSSH_9.2p1\r\n')
        c.close()
    except (OSError, ssl.SSLError):
        try:
            c.close()
        except OSError:
            pass

while True:
    c, _ = s.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
EOF

# serve MODE [CERT KEY]: starts a server; sets PORT
serve() {
	local mode=$1 pf=$T/port.$1.$RANDOM
	shift
	python3 "$SRV" "$mode" "$pf" "$@" 2>>"$T/srv.err" &
	SRV_PIDS="$SRV_PIDS $!"
	poll 10 test -s "$pf" || { echo "Bail out! server $mode did not start"; sed 's/^/# /' "$T/srv.err"; exit 1; }
	PORT=$(cat "$pf")
	REQ_FILE=$pf.req
}

# a port on 127.0.0.1 where nothing listens (bound, then closed)
closed_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# runs mls health and measures it: sets OUT ERR RC and MS (milliseconds)
timed() {
	local t0=${EPOCHREALTIME/./}
	run "$MLS" health "$@"
	MS=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
}

# -------------------------------------------------------------- usage: 2

run "$MLS" health --bogus http://127.0.0.1:1/
is "$RC" 2 "unknown option: exit 2"
like "$ERR" "^mls health: unknown option '--bogus'" "... says which"
like "$ERR" "usage: mls health" "... and prints the usage"
run "$MLS" health -t nope http://127.0.0.1:1/
is "$RC" 2 "-t nope: exit 2"
like "$ERR" "'nope' is not a duration" "... says why"
run "$MLS" health -t 0s http://127.0.0.1:1/
is "$RC" 2 "-t 0s: exit 2"
run "$MLS" health -t
is "$RC" 2 "-t without a value: exit 2"
run "$MLS" health ftp://127.0.0.1/
is "$RC" 2 "ftp:// URL: exit 2"
like "$ERR" "not an http:// or https:// URL" "... says why"
run "$MLS" health http://127.0.0.1:0/
is "$RC" 2 "port 0: exit 2"
run "$MLS" health 127.0.0.1:1 127.0.0.1:2
is "$RC" 2 "two targets: exit 2"
run "$MLS" health 127.0.0.1:1 web
is "$RC" 2 "a target and a NAME: exit 2"
run "$MLS" health -s "$T/x.sock" 127.0.0.1:1
is "$RC" 2 "a target and -s: exit 2"
run "$MLS" health --ca "$T/ca.pem" --insecure https://127.0.0.1:1/
is "$RC" 2 "--ca with --insecure: exit 2"
run "$MLS" health --insecure http://127.0.0.1:1/
is "$RC" 2 "--insecure on http://: exit 2"
run "$MLS" health --expect 200 127.0.0.1:1
is "$RC" 2 "--expect on HOST:PORT: exit 2"
run "$MLS" health --expect 99 http://127.0.0.1:1/
is "$RC" 2 "--expect 99: exit 2"
run "$MLS" health --expect 200,,204 http://127.0.0.1:1/
is "$RC" 2 "--expect 200,,204: exit 2"
run "$MLS" health --insecure
is "$RC" 2 "--insecure without a URL: exit 2"
run "$MLS" health --help
is "$RC" 0 "--help: exit 0"
like "$OUT" "^usage: mls health" "--help: usage on stdout"

# ------------------------------------------------------------------ HTTP

mkdir -p "$T/www"
echo hello >"$T/www/health"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$T/www" >"$T/hs.out" 2>&1 &
SRV_PIDS="$SRV_PIDS $!"
hs_port() { sed -n 's/.* port \([0-9][0-9]*\).*/\1/p' "$T/hs.out" | head -1; }
hs_up() { [ -n "$(hs_port)" ]; }
poll 10 hs_up || { echo "Bail out! python3 -m http.server did not start"; exit 1; }
HS=$(hs_port)

timed "http://127.0.0.1:$HS/health"
is "$RC" 0 "http.server /health: 200, exit 0"
is "$ERR" "" "... nothing on stderr"
is "$OUT" "" "... nothing on stdout"
run "$MLS" health "http://localhost:$HS/health"
is "$RC" 0 "a name (localhost) resolves: exit 0"
run "$MLS" health "http://127.0.0.1:$HS/nope"
is "$RC" 1 "http.server /nope: 404, exit 1"
is "$ERR" "mls health: http://127.0.0.1:$HS/nope: status 404" "... one line: status 404"
run "$MLS" health --expect 404,410 "http://127.0.0.1:$HS/nope"
is "$RC" 0 "--expect 404,410 and a 404: exit 0"
run "$MLS" health --expect 204 "http://127.0.0.1:$HS/health"
is "$RC" 1 "--expect 204 and a 200: exit 1"
like "$ERR" "status 200$" "... status 200"
run "$MLS" health "http://127.0.0.1:$HS"
is "$RC" 0 "no path: GET / (a directory listing, 200)"

serve ok
run "$MLS" health "http://127.0.0.1:$PORT/health?x=1"
is "$RC" 0 "own server, 200: exit 0"
want_req=$(printf 'GET /health?x=1 HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nUser-Agent: mls/' "$PORT")
req=$(cat "$REQ_FILE")
case $req in "$want_req"*) st=0 ;; *) st=1 ;; esac
ok $st "the request: GET PATH?QUERY, Host with the port, User-Agent mls/VERSION" || diag "got: $req"
python3 -c 'import sys; sys.exit(0 if open(sys.argv[1], "rb").read().endswith(b"\r\nConnection: close\r\n\r\n") else 1)' "$REQ_FILE"
ok $? "... and Connection: close, then the blank line"

serve 503
run "$MLS" health "http://127.0.0.1:$PORT/"
is "$RC" 1 "503 (HTTP/1.0 503 x): exit 1"
is "$ERR" "mls health: http://127.0.0.1:$PORT/: status 503" "... one line: status 503"

serve hang
timed -t 1s "http://127.0.0.1:$PORT/"
is "$RC" 1 "a server that never answers: exit 1"
is "$ERR" "mls health: http://127.0.0.1:$PORT/: timed out after 1s (no response)" "... timed out after 1s"
[ "$MS" -ge 900 ] && [ "$MS" -lt 5000 ]
ok $? "... after about 1 s (took ${MS} ms)"
timed -t 300ms "127.0.0.1:$PORT"
is "$RC" 0 "tcp to the same server (it accepts): exit 0 at once"

serve bighdr
timed "http://127.0.0.1:$PORT/"
is "$RC" 1 "1 MiB without a line end: exit 1"
is "$ERR" "mls health: http://127.0.0.1:$PORT/: bad response: no end of the status line within 1024 bytes" \
	"... bad response, bounded read"
[ "$MS" -lt 5000 ]
ok $? "... at once, not at the timeout (took ${MS} ms)"

serve bigafter
run "$MLS" health "http://127.0.0.1:$PORT/"
is "$RC" 0 "a status line, then 1 MiB of one header: healthy (headers are not read)"

serve garbage
run "$MLS" health "http://127.0.0.1:$PORT/"
is "$RC" 1 "garbage (an SSH banner): exit 1"
like "$ERR" ": bad response: not an HTTP/1.x status line$" "... bad response"

serve close
run "$MLS" health "http://127.0.0.1:$PORT/"
is "$RC" 1 "closed without a response: exit 1"
like "$ERR" ": connection closed without a response$" "... says so"

CP=$(closed_port)
run "$MLS" health "http://127.0.0.1:$CP/"
is "$RC" 1 "http to a closed port: exit 1"
is "$ERR" "mls health: http://127.0.0.1:$CP/: connection refused" "... connection refused"

run "$MLS" health "http://name-that-does-not-exist.invalid/"
is "$RC" 1 "a name that does not resolve: exit 1"
like "$ERR" "name not resolved: name-that-does-not-exist\.invalid$" "... name not resolved"

# ------------------------------------------------------------------- TCP

run "$MLS" health "127.0.0.1:$HS"
is "$RC" 0 "tcp to a listening port: exit 0"
is "$ERR" "" "... nothing on stderr"
run "$MLS" health "localhost:$HS"
is "$RC" 0 "tcp to localhost:PORT: exit 0"
run "$MLS" health "127.0.0.1:$CP"
is "$RC" 1 "tcp to a closed port: exit 1"
is "$ERR" "mls health: 127.0.0.1:$CP: connection refused" "... connection refused"

# ----------------------------------------------------------------- HTTPS

if ! command -v openssl >/dev/null 2>&1; then
	skip "HTTPS: needs openssl (scripts/install-tools.sh test installs it)"
elif "$MLS" --version | grep -q -- '-tls'; then
	skip_always "HTTPS: this build has no TLS"
else
	# a test CA, and a server certificate for localhost and 127.0.0.1 signed by it
	C=$T/certs
	mkdir -p "$C"
	ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
	# shellcheck disable=SC2086
	if openssl req -x509 $ec -keyout "$C/ca.key" -out "$C/ca.pem" -days 2 \
			-subj "/CN=mls test CA" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$C/err" &&
		openssl req $ec -keyout "$C/srv.key" -out "$C/srv.csr" \
			-subj "/CN=localhost" 2>>"$C/err" &&
		printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" \
			"basicConstraints=CA:FALSE" \
			"keyUsage=digitalSignature,keyEncipherment" \
			"extendedKeyUsage=serverAuth" >"$C/ext.cnf" &&
		openssl x509 -req -in "$C/srv.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" \
			-CAcreateserial -out "$C/srv.pem" -days 2 -extfile "$C/ext.cnf" 2>>"$C/err"
	then
		ok 0 "openssl made a test CA and a server certificate"
	else
		ok 1 "openssl made a test CA and a server certificate"
		sed 's/^/# /' "$C/err"
	fi

	serve ok "$C/srv.pem" "$C/srv.key"
	timed --ca "$C/ca.pem" "https://localhost:$PORT/health"
	is "$RC" 0 "https with --ca (the test CA): exit 0"
	is "$ERR" "" "... nothing on stderr"
	like "$(cat "$REQ_FILE")" "^GET /health HTTP/1.1" "... the request arrived through TLS"
	sed 's/$/\r/' "$C/ca.pem" >"$C/ca-crlf.pem"
	timed --ca "$C/ca-crlf.pem" "https://localhost:$PORT/health"
	is "$RC" 0 "https with --ca of CRLF lines (a bundle made on Windows): exit 0"

	run "$MLS" health "https://localhost:$PORT/health"
	is "$RC" 1 "https without --ca (the default CA file): exit 1"
	if [ -r /etc/ssl/certs/ca-certificates.crt ]; then
		is "$ERR" "mls health: https://localhost:$PORT/health: certificate not trusted (CA file /etc/ssl/certs/ca-certificates.crt)" \
			"... certificate not trusted"
	else
		like "$ERR" "cannot read the CA file /etc/ssl/certs/ca-certificates.crt" \
			"... (no default CA file here) says it cannot read it"
	fi

	run "$MLS" health --insecure "https://localhost:$PORT/health"
	is "$RC" 0 "https --insecure: exit 0"
	is "$ERR" "mls health: https://localhost:$PORT/health: --insecure: the server's certificate is not verified" \
		"... and says the certificate was not verified"

	# BearSSL matches DNS names only: an IP URL does not match IP:127.0.0.1
	run "$MLS" health --ca "$C/ca.pem" "https://127.0.0.1:$PORT/health"
	is "$RC" 1 "https to an IP address: exit 1 (BearSSL checks DNS names only)"
	like "$ERR" "certificate does not match the server name 127\.0\.0\.1 \(only DNS names" "... says so and what to do"

	run "$MLS" health --ca "$T/no-such-ca.pem" "https://localhost:$PORT/"
	is "$RC" 2 "--ca FILE that is not there: exit 2"
	like "$ERR" "cannot read the CA file $T/no-such-ca.pem" "... says so"

	run "$MLS" health --ca "$C/ext.cnf" "https://localhost:$PORT/"
	is "$RC" 2 "--ca FILE with no certificate: exit 2"
	like "$ERR" "no usable certificate" "... says so"

	serve 503 "$C/srv.pem" "$C/srv.key"
	run "$MLS" health --ca "$C/ca.pem" "https://localhost:$PORT/"
	is "$RC" 1 "https, 503: exit 1"
	like "$ERR" ": status 503$" "... status 503"

	serve hang
	timed -t 1s --ca "$C/ca.pem" "https://localhost:$PORT/"
	is "$RC" 1 "https to a server that never answers: exit 1"
	like "$ERR" "timed out after 1s" "... timed out after 1s"
	[ "$MS" -ge 900 ] && [ "$MS" -lt 5000 ]
	ok $? "... after about 1 s (took ${MS} ms)"

	run "$MLS" health --ca "$C/ca.pem" "https://localhost:$HS/"
	is "$RC" 1 "https to a plain HTTP server: exit 1"
	like "$ERR" "TLS" "... a TLS failure"
fi

# ------------------------------------------- the ASan/UBSan build (dev)

if [ -n "${MLS_DEV:-}" ] && [ -x "$MLS_DEV" ] && [ "$MLS_DEV" != "$MLS" ]; then
	dev() { run "$MLS_DEV" health "$@"; }
	serve ok
	dev "http://127.0.0.1:$PORT/"
	is "$RC" 0 "dev build: http 200"
	no_sanitizer_report "dev build: http 200"
	serve bighdr
	dev "http://127.0.0.1:$PORT/"
	is "$RC" 1 "dev build: 1 MiB without a line end"
	no_sanitizer_report "dev build: 1 MiB without a line end"
	dev "127.0.0.1:$(closed_port)"
	is "$RC" 1 "dev build: tcp, refused"
	no_sanitizer_report "dev build: tcp, refused"
	if [ -s "${C:-/nonexistent}/srv.pem" ]; then
		serve ok "$C/srv.pem" "$C/srv.key"
		dev --ca "$C/ca.pem" "https://localhost:$PORT/"
		is "$RC" 0 "dev build: https with --ca"
		no_sanitizer_report "dev build: https with --ca"
		dev "https://localhost:$PORT/"
		is "$RC" 1 "dev build: https, not trusted (the default CA file)"
		no_sanitizer_report "dev build: https, not trusted"
		dev --insecure "https://localhost:$PORT/"
		is "$RC" 0 "dev build: https --insecure"
		no_sanitizer_report "dev build: https --insecure"
	fi
else
	skip_always "no MLS_DEV build given: the probes under ASan/UBSan are not run"
fi

# ------------------------------------------------------------ supervisor

mkdir -p "$T/sd"
CFG=$T/mls.yaml
cat >"$CFG" <<EOF
state_dir: $T/sd
log_level: warn
services:
  web:
    command: ["sleep", "1000"]
    replicas: 2
  idle:
    command: ["sleep", "1000"]
  once:
    command: ["true"]
    runs: 1
EOF
sv_start "$CFG"
all_up() { [ "$(state_of web.1)$(state_of web.2)$(state_of idle.1)$(state_of once.1)" = runningrunningrunningexited ]; }
wait_for "web.1, web.2 and idle.1 running, once.1 exited" 10 all_up

run "$MLS" health -s "$SV_SOCK"
is "$RC" 0 "supervisor: all running (the done job left out): exit 0"
is "$ERR" "" "... nothing on stderr"
MLS_SOCKET=$SV_SOCK run "$MLS" health
is "$RC" 0 "supervisor through \$MLS_SOCKET: exit 0"
run "$MLS" health -s "$SV_SOCK" web idle.1
is "$RC" 0 "supervisor, named web idle.1: exit 0"

ctl stop idle
wait_for "idle.1 stopped" 10 state_is idle.1 stopped
run "$MLS" health -s "$SV_SOCK"
is "$RC" 0 "a service stopped by request is left out: exit 0"
run "$MLS" health -s "$SV_SOCK" idle
is "$RC" 1 "... but named, it is unhealthy: exit 1"
is "$ERR" "mls health: idle.1: stopped" "... idle.1: stopped"

run "$MLS" health -s "$SV_SOCK" nosuch
is "$RC" 1 "an unknown name: exit 1"
like "$ERR" "^mls health: .*nosuch" "... the supervisor's message"

cat >>"$CFG" <<EOF
  crash:
    command: ["sh", "-c", "exit 1"]
    restart_backoff: {initial: 30s}
EOF
ctl reload
is "$RC" 0 "reload with a crashing service"
wait_for "crash.1 in backoff" 10 state_is crash.1 backoff
run "$MLS" health -s "$SV_SOCK"
is "$RC" 1 "a service in backoff: exit 1"
is "$ERR" "mls health: crash.1: backoff (exited with status 1)" "... lists it, with the reason"
run "$MLS" health -s "$SV_SOCK" web
is "$RC" 0 "... but web alone is healthy: exit 0"

sv_stop
run "$MLS" health -s "$SV_SOCK"
is "$RC" 3 "supervisor gone: exit 3"
like "$ERR" "^mls health: cannot reach the supervisor at $SV_SOCK: .*\(is mls supervise running\? -s SOCKET or \\\$MLS_SOCKET\)$" \
	"... cannot reach the supervisor"
run "$MLS" health -s "$T/no/such/dir/mls.sock" web
is "$RC" 3 "no socket at all: exit 3"

done_testing
