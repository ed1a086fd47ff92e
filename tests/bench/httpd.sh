#!/bin/bash
# httpd.sh — figures of `mls httpd` (issue 9), called by bench.sh, so by
# `make bench`. Figures, not pass/fail; medians of RUNS runs. The machine is
# shared and noisy: each run prints the host's busy % and the part of it at
# nice > 0 (a background fuzzer) over its window, and wrk runs on the same
# cores as the server.
#
# N services (`sleep 100000`, through a symlink $W/bin/sleep so leftovers are
# found by path), `mls supervise` with `http:` (a token; tls off, then auto):
#   - GET /api/v1/status over keep-alive, plain and TLS: wrk -tT -cC -dD
#     --latency, requests/s, p50 and p99; httpd's and supervise's CPU over
#     each run (schedstat)
#   - beside it: supervisord's XML-RPC supervisor.getAllProcessInfo on the
#     same N programs ([inet_http_server] with a user and password, wrk with
#     a Lua script that POSTs the call); ratio mls / supervisord
#   - a new connection per request (wrk -H 'Connection: close'), plain and
#     TLS: TLS handshakes/s with a request; `openssl s_time -new` (handshake
#     only, one client)
#   - httpd's and supervise's VmRSS and Pss (/proc/PID/smaps_rollup): idle,
#     after the load, with SSE_N clients on /api/v1/events (python3 sockets,
#     each has read its `event: hello`), plain and TLS
#   - `mls ctl status` time, idle and while wrk hammers the API
#   - binary sizes: MLS, MLS_NOTLS (make NO_TLS=1), MLS_MIN, MLS_BEFORE
#
# Installs nothing: without wrk (Debian wrk), curl, python3, openssl or
# supervisord (Debian supervisor) it says what is missing and skips what
# needs it (scripts/install-tools.sh bench installs them).
#
# Env: MLS (build/mls), MLS_NOTLS (build/notls/mls), MLS_MIN (build/min/mls),
# MLS_BEFORE (a build to compare sizes with, optional), N (100), RUNS (3),
# DUR (10: seconds per wrk run), HS_DUR (5: seconds per handshake run),
# WRK_T (2), WRK_C (50), SSE_N (100), CTL_RUNS (20), SUPERVISORD
# (/usr/bin/supervisord), PHASES ("plain tls supervisord"), KEEP=1 keeps the work dir (/tmp/mls-httpbench.*).
# Everything started here is tracked by pid and starttime and stopped by pid,
# also on error or Ctrl-C.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
MLS=${MLS:-build/mls}
MLS_NOTLS=${MLS_NOTLS:-build/notls/mls}
MLS_MIN=${MLS_MIN:-build/min/mls}
MLS_BEFORE=${MLS_BEFORE:-}
N=${N:-100}
RUNS=${RUNS:-3}
DUR=${DUR:-10}
HS_DUR=${HS_DUR:-5}
WRK_T=${WRK_T:-2}
WRK_C=${WRK_C:-50}
SSE_N=${SSE_N:-100}
CTL_RUNS=${CTL_RUNS:-20}
STOP_S=${STOP_S:-30}
SUPERVISORD=${SUPERVISORD:-/usr/bin/supervisord}
KEEP=${KEEP:-0}
PHASES=${PHASES:-plain tls supervisord}

case $MLS in /*) ;; *) MLS=$root/$MLS ;; esac

echo
echo "== mls httpd: API throughput, TLS, memory ($MLS)"
if [ ! -x "$MLS" ]; then
	echo "  $MLS not built, skipped"
	exit 0
fi

have() { command -v "$1" >/dev/null 2>&1; }
missing=()
have wrk || missing+=("wrk (apt-get install wrk): no request or handshake rates")
have curl || missing+=("curl (apt-get install curl): no reply checks")
have python3 || missing+=("python3: no SSE clients (RSS with $SSE_N SSE clients)")
have openssl || missing+=("openssl: no openssl s_time handshakes")
[ -x "$SUPERVISORD" ] || missing+=("supervisord (apt-get install supervisor): no supervisord comparison")
for m in "${missing[@]}"; do echo "  MISSING: $m"; done
if [ ${#missing[@]} -gt 0 ]; then echo "  (as root: scripts/install-tools.sh bench)"; fi

# --- bookkeeping -------------------------------------------------------------
W=$(mktemp -d /tmp/mls-httpbench.XXXXXX)
mkdir -p "$W/bin"
ln -s "$(command -v sleep)" "$W/bin/sleep"
SV_PID='' SV_START='' SV_KIND=''
BG=()        # other processes started here: "pid:starttime"

starttime() { # PID -> field 22 of /proc/PID/stat, or nothing
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	s=${s##*) }
	set -- $s
	echo "${20}"
}

alive() { # PID STARTTIME: running (not a zombie) and the same process
	local st=$2 s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	set -- $s
	[ "$1" != Z ] && [ "$1" != X ] && [ "${20}" = "$st" ]
}

bg_track() { BG+=("$1:$(starttime "$1")"); }

bg_kill() { # PID: SIGKILL it if it is one of ours, reap it
	local e keep=()
	for e in "${BG[@]}"; do
		if [ "${e%%:*}" = "$1" ]; then
			if alive "${e%%:*}" "${e#*:}"; then kill -KILL "${e%%:*}" 2>/dev/null || true; fi
			wait "${e%%:*}" 2>/dev/null || true
		else
			keep+=("$e")
		fi
	done
	BG=("${keep[@]}")
}

# the services of this run still there after their supervisor went
leftovers() {
	local p a n=0
	for p in /proc/[0-9]*; do
		a=$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) || continue
		if [[ $a == "$W/bin/sleep "* ]]; then
			kill -KILL "${p#/proc/}" 2>/dev/null && n=$((n + 1))
		fi
	done
	if [ "$n" -gt 0 ]; then echo "  (LEFTOVER: $n service(s) outlived the supervisor; killed by pid)"; fi
}

sv_stop() { # SIGTERM, SIGKILL after STOP_S
	[ -n "$SV_PID" ] || return 0
	local p=$SV_PID i
	if alive "$p" "$SV_START"; then
		kill -TERM "$p" 2>/dev/null || true
		for ((i = 0; i < STOP_S * 50; i++)); do
			alive "$p" "$SV_START" || break
			sleep 0.02
		done
		if alive "$p" "$SV_START"; then
			echo "  ($SV_KIND $p did not stop in ${STOP_S}s: SIGKILL)"
			kill -KILL "$p" 2>/dev/null || true
		fi
	fi
	wait "$p" 2>/dev/null || true
	SV_PID='' SV_START='' SV_KIND=''
	sleep 0.2
	leftovers
}

cleanup() {
	local e
	for e in "${BG[@]}"; do
		if alive "${e%%:*}" "${e#*:}"; then kill -KILL "${e%%:*}" 2>/dev/null || true; fi
		wait "${e%%:*}" 2>/dev/null || true
	done
	sv_stop
	if [ "$KEEP" = 1 ]; then echo "  (kept $W)"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- helpers -------------------------------------------------------------------
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
now_us() { echo "${EPOCHREALTIME/[.,]/}"; }

free_port() {
	if have python3; then
		python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
	else
		echo $((20000 + RANDOM % 20000))
	fi
}

host() { # "busy nice total" jiffies of all CPUs
	local cpu u n s i io irq sirq st rest
	read -r cpu u n s i io irq sirq st rest </proc/stat
	echo "$((u + n + s + irq + sirq + st)) $n $((u + n + s + i + io + irq + sirq + st))"
}
host_pct() { # "h1" "h2" -> "busy% nice%"
	awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[3] - x[3]; if (t <= 0) t = 1
		printf "%.0f %.0f", 100 * (y[1] - x[1]) / t, 100 * (y[2] - x[2]) / t }'
}

cpu_ns() { # PID -> on-CPU ns since it started (all threads, schedstat)
	local t v rest sum=0
	for t in /proc/"$1"/task/*; do
		read -r v rest <"$t/schedstat" 2>/dev/null && sum=$((sum + v))
	done
	echo "$sum"
}

mem() { # PID -> "rss_kB pss_kB" (smaps_rollup)
	awk '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 } END { print r + 0, p + 0 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo "? ?"
}

to_ms() { # wrk's 485.00us / 1.89ms / 1.02s / 1.50m -> ms
	awk -v v="$1" 'BEGIN { u = v; sub(/^[0-9.]+/, "", u); x = v + 0
		if (u == "us") x /= 1000; else if (u == "s") x *= 1000; else if (u == "m") x *= 60000
		printf "%.2f", x }'
}

say() { printf '  %-46s %s\n' "$1" "$2"; }

# wrk_runs LABEL URL SECONDS WRK-ARGS... : RUNS runs of wrk, one line each,
# then the medians; sets MED_RPS MED_P50 MED_P99 BAD (non-2xx + errors,
# summed); CPU of the pids in CPU_PIDS ("label:pid ...") per run
wrk_runs() {
	local label=$1 url=$2 secs=$3 i out rps p50 p99 non2xx errs h1 h2 c cpus line
	local -A c0
	shift 3
	local rpss=() p50s=() p99s=()
	BAD=0
	for ((i = 1; i <= RUNS; i++)); do
		out=$W/wrk-$(tr -c 'A-Za-z0-9\n' _ <<<"$label")-$i.out
		h1=$(host)
		c0=()
		for c in $CPU_PIDS; do c0[$c]=$(cpu_ns "${c#*:}"); done
		wrk -t"$WRK_T" -c"$WRK_C" -d"${secs}s" --latency "$@" "$url" >"$out" 2>&1 || true
		h2=$(host)
		cpus=''
		for c in $CPU_PIDS; do
			cpus+=" ${c%%:*} $(awk -v a="${c0[$c]}" -v b="$(cpu_ns "${c#*:}")" -v s="$secs" 'BEGIN { printf "%.0f", (b - a) / (s * 1e7) }') %"
		done
		rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
		p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
		p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
		non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
		errs=$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$out")
		non2xx=${non2xx:-0} errs=${errs:-0}
		if [ -z "$rps" ]; then
			echo "  $label run $i: wrk failed: $(head -c 300 "$out" | tr '\n' ' ')"
			BAD=$((BAD + 1))
			continue
		fi
		BAD=$((BAD + non2xx))
		rpss+=("$rps") p50s+=("$p50") p99s+=("$p99")
		line=$(printf '%s run %d: %9.0f req/s, p50 %6.2f ms, p99 %7.2f ms' "$label" "$i" "$rps" "$p50" "$p99")
		[ "$non2xx" = 0 ] || line+=", NON-2XX $non2xx (FAILURE)"
		[ "$errs" = 0 ] || line+=", socket errors $(grep 'Socket errors' "$out" | sed 's/^ *Socket errors: //')"
		echo "  $line;$cpus of a core; host busy $(host_pct "$h1" "$h2" | awk '{ print $1 " % (nice " $2 " %)" }')"
	done
	MED_RPS=$(printf '%s\n' "${rpss[@]}" | median)
	MED_P50=$(printf '%s\n' "${p50s[@]}" | median)
	MED_P99=$(printf '%s\n' "${p99s[@]}" | median)
	printf '  %-46s %s\n' "$label: median of ${#rpss[@]}" \
		"$(awk -v r="${MED_RPS:-0}" -v a="${MED_P50:-0}" -v b="${MED_P99:-0}" 'BEGIN { printf "%.0f req/s, p50 %.2f ms, p99 %.2f ms", r, a, b }')"
}

# ctl_times K -> median ms of `mls ctl status` (the whole command), "ms fails"
ctl_times() {
	local k=$1 i t0 t1 f=0 ts=()
	"$MLS" ctl -s "$SOCK" status >/dev/null 2>&1 || true
	for ((i = 0; i < k; i++)); do
		t0=$(now_us)
		"$MLS" ctl -s "$SOCK" status >/dev/null 2>&1 || f=$((f + 1))
		t1=$(now_us)
		ts+=($((t1 - t0)))
	done
	echo "$(printf '%s\n' "${ts[@]}" | median | awk '{ printf "%.2f", $1 / 1000 }') $f"
}

httpd_pid() {
	"$MLS" ctl -s "$SOCK" --json status 2>/dev/null | grep -o '"name":"mls-httpd"[^}]*' | grep -o '"pid":[0-9]*' | head -n 1 | cut -d: -f2
}

# SSE clients: python3 holds SSE_N connections to /api/v1/events, prints how
# many got "200" and "event: hello", then sleeps until killed
cat >"$W/sse.py" <<'EOF'
import signal, socket, ssl, sys, time
host, port, n, token, cafile = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
ctx = ssl.create_default_context(cafile=cafile) if cafile else None
req = ("GET /api/v1/events HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n"
       "Accept: text/event-stream\r\n\r\n" % (host, port, token)).encode()
socks, ok = [], 0
for i in range(n):
    try:
        s = socket.create_connection((host, port), timeout=10)
        if ctx:
            s = ctx.wrap_socket(s, server_hostname=host)
        s.sendall(req)
        buf = b""
        while b"event: hello" not in buf and len(buf) < 65536:
            d = s.recv(4096)
            if not d:
                break
            buf += d
        if buf.startswith(b"HTTP/1.1 200") and b"event: hello" in buf:
            ok += 1
        socks.append(s)
    except OSError as e:
        print("error:", e, file=sys.stderr)
print(ok, flush=True)
time.sleep(600)
EOF

# sse_rss LABEL [CAFILE]: SSE_N clients connected -> httpd and supervise memory
sse_rss() {
	local label=$1 cafile=${2:-} p i ok
	have python3 || { say "$label" "(python3 missing)"; return 0; }
	rm -f "$W/sse.out" "$W/sse.err"
	python3 "$W/sse.py" 127.0.0.1 "$PORT" "$SSE_N" "$TOKEN" "$cafile" >"$W/sse.out" 2>"$W/sse.err" &
	p=$!
	bg_track "$p"
	for ((i = 0; i < 600; i++)); do [ -s "$W/sse.out" ] && break; sleep 0.05; done
	ok=$(head -n 1 "$W/sse.out")
	sleep 1
	say "$label: httpd RSS / Pss kB" "$(mem "$HTTPD_PID" | awk '{ print $1 " / " $2 }')  ($ok of $SSE_N clients got event: hello)"
	say "  supervise RSS / Pss kB meanwhile" "$(mem "$SV_PID" | awk '{ print $1 " / " $2 }')"
	if [ -s "$W/sse.err" ]; then echo "  (SSE clients: $(sort "$W/sse.err" | uniq -c | head -n 3 | tr '\n' ' '))"; fi
	bg_kill "$p"
	sleep 1
	say "  after they left: httpd RSS / Pss kB" "$(mem "$HTTPD_PID" | awk '{ print $1 " / " $2 }')"
}

# mls_start TLS(off|auto): supervise with N services and http:, ready
mls_start() {
	local tls=$1 d=$W/mls-$1 k i n
	mkdir -p "$d"
	PORT=$(free_port)
	{
		echo "state_dir: $d/state"
		echo "log_dir: $d/log"
		echo "http:"
		echo "  listen: [\"127.0.0.1:$PORT\"]"
		echo "  token: \"$TOKEN\""
		echo "  tls: $tls"
		echo "services:"
		for ((k = 1; k <= N; k++)); do
			echo "  s$k: {command: [\"$W/bin/sleep\", \"100000\"]}"
		done
	} >"$d/mls.yaml"
	"$MLS" supervise -c "$d/mls.yaml" 2>"$d/err" &
	SV_PID=$! SV_KIND="mls supervise"
	SV_START=$(starttime "$SV_PID")
	SOCK=$d/state/mls.sock
	MLS_D=$d
	for ((i = 0; i < 600; i++)); do
		n=$("$MLS" ctl -s "$SOCK" --json status 2>/dev/null | grep -o '"state":"running"' | wc -l) || n=0
		[ "$n" -ge $((N + 1)) ] && break
		sleep 0.05
	done
	HTTPD_PID=$(httpd_pid)
	for ((i = 0; i < 200; i++)); do
		curl -sk -o /dev/null "$SCHEME://127.0.0.1:$PORT/healthz" 2>/dev/null && break
		sleep 0.05
	done
	CPU_PIDS="httpd:$HTTPD_PID supervise:$SV_PID"
	echo "  ($SCHEME, port $PORT: $n of $((N + 1)) instances running, httpd pid ${HTTPD_PID:-?})"
}

# check_status: one GET with curl: code, bytes, services in the reply
check_status() {
	local code bytes n
	have curl || return 0
	read -r code bytes < <(curl -s "$@" -o "$W/status.json" -w '%{http_code} %{size_download}\n' \
		-H "Authorization: Bearer $TOKEN" "$SCHEME://127.0.0.1:$PORT/api/v1/status" || echo "000 0")
	n=$(grep -o '"instance":[0-9]*' "$W/status.json" 2>/dev/null | wc -l || true)
	say "check (curl): GET /api/v1/status" "HTTP $code, $bytes bytes, $n instances (N + mls-httpd)"
	if [ "$code" != 200 ] || [ "$n" -ne $((N + 1)) ]; then echo "  FAILURE: the status reply is not what it should be"; fi
}

TOKEN=bench-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
AUTH="Authorization: Bearer $TOKEN"
echo "  load average at start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs;" \
	"wrk -t$WRK_T -c$WRK_C -d${DUR}s --latency, $RUNS runs, on the same CPUs; $N services (sleep)"
if have ps; then
	bgl=$(ps -eo ni=,pcpu=,comm= 2>/dev/null | awk '$1 > 0 && $2 > 5 { printf "%s%s (nice %s, %s %%)", s, $3, $1, $2; s = ", " }')
	[ -z "$bgl" ] || echo "  background load: $bgl"
fi

declare -A R=()   # figures for the summary

phase() { [[ " $PHASES " == *" $1 "* ]]; }

# --- plain ---------------------------------------------------------------------
if phase plain && have wrk && have curl; then
	SCHEME=http
	echo
	echo "-- mls, plain HTTP (tls: off)"
	mls_start off
	check_status
	read -r R[rss_idle] R[pss_idle] <<<"$(mem "$HTTPD_PID")"
	read -r R[sv_rss] R[sv_pss] <<<"$(mem "$SV_PID")"
	say "httpd idle: RSS / Pss kB" "${R[rss_idle]} / ${R[pss_idle]}"
	say "supervise ($N services): RSS / Pss kB" "${R[sv_rss]} / ${R[sv_pss]}"
	read -r R[ctl_idle] f <<<"$(ctl_times "$CTL_RUNS")"
	say "ctl status idle, ms (median of $CTL_RUNS)" "${R[ctl_idle]} ($f failed)"

	wrk_runs "status keep-alive" "http://127.0.0.1:$PORT/api/v1/status" "$DUR" -H "$AUTH"
	R[rps]=$MED_RPS R[p50]=$MED_P50 R[p99]=$MED_P99 R[bad]=$BAD

	# ctl status while wrk runs
	wrk -t"$WRK_T" -c"$WRK_C" -d$((CTL_RUNS / 4 + 8))s -H "$AUTH" "http://127.0.0.1:$PORT/api/v1/status" >"$W/wrk-ctl.out" 2>&1 &
	wp=$!
	bg_track "$wp"
	sleep 2
	read -r R[ctl_load] f <<<"$(ctl_times "$CTL_RUNS")"
	wait "$wp" 2>/dev/null || true
	say "ctl status under wrk, ms (median of $CTL_RUNS)" "${R[ctl_load]} ($f failed; wrk meanwhile $(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$W/wrk-ctl.out") req/s)"
	bg_kill "$wp"

	wrk_runs "new connection per request" "http://127.0.0.1:$PORT/api/v1/status" "$HS_DUR" -H "$AUTH" -H "Connection: close"
	R[close_rps]=$MED_RPS R[close_bad]=$BAD
	read -r R[rss_load] R[pss_load] <<<"$(mem "$HTTPD_PID")"
	say "httpd after the load: RSS / Pss kB" "${R[rss_load]} / ${R[pss_load]}"
	sse_rss "$SSE_N SSE clients"
	sv_stop
fi

# --- TLS -------------------------------------------------------------------------
if phase tls && have wrk && have curl; then
	SCHEME=https
	echo
	echo "-- mls, TLS (tls: auto)"
	mls_start auto
	fp=$(grep -o 'fingerprint [0-9A-F:]*' "$MLS_D/log/mls-httpd.1.log" 2>/dev/null | head -n 1 | cut -c13-24)
	say "certificate" "$([ -s "$MLS_D/state/tls/cert.pem" ] && echo "STATE_DIR/tls/cert.pem made" || echo "NO cert.pem"), fingerprint ${fp:-NOT LOGGED}…"
	check_status --cacert "$MLS_D/state/tls/cert.pem"
	read -r R[trss_idle] R[tpss_idle] <<<"$(mem "$HTTPD_PID")"
	say "httpd idle (TLS): RSS / Pss kB" "${R[trss_idle]} / ${R[tpss_idle]}"

	wrk_runs "TLS status keep-alive" "https://127.0.0.1:$PORT/api/v1/status" "$DUR" -H "$AUTH"
	R[trps]=$MED_RPS R[tp50]=$MED_P50 R[tp99]=$MED_P99 R[tbad]=$BAD
	wrk_runs "TLS new connection per request" "https://127.0.0.1:$PORT/api/v1/status" "$HS_DUR" -H "$AUTH" -H "Connection: close"
	R[hs]=$MED_RPS R[hsbad]=$BAD
	wrk_runs "TLS handshake + /healthz, new connection" "https://127.0.0.1:$PORT/healthz" "$HS_DUR" -H "Connection: close"
	R[hs_hz]=$MED_RPS

	if have openssl; then
		st=()
		for ((i = 1; i <= RUNS; i++)); do
			o=$(openssl s_time -connect "127.0.0.1:$PORT" -new -time "$HS_DUR" 2>&1 </dev/null || true)
			v=$(awk '/connections in [0-9]+ real seconds/ { for (i = 1; i <= NF; i++) if ($i == "real") printf "%.1f", $1 / $(i - 1) }' <<<"$o")
			[ -n "$v" ] || echo "  openssl s_time run $i: $(tail -n 3 <<<"$o" | tr '\n' ' ')"
			[ -z "$v" ] || st+=("$v")
		done
		R[s_time]=$(printf '%s\n' "${st[@]}" | median)
		say "openssl s_time -new (1 client, handshakes/s)" "median ${R[s_time]:-?}  [${st[*]}]"
	fi
	read -r R[trss_load] R[tpss_load] <<<"$(mem "$HTTPD_PID")"
	say "httpd after the TLS load: RSS / Pss kB" "${R[trss_load]} / ${R[tpss_load]}"
	sse_rss "$SSE_N SSE clients over TLS" "$MLS_D/state/tls/cert.pem"
	sv_stop
fi

# --- supervisord ---------------------------------------------------------------
if phase supervisord && have wrk && have curl && [ -x "$SUPERVISORD" ]; then
	echo
	d=$W/supervisord
	mkdir -p "$d"
	PORT=$(free_port)
	pw=$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
	{
		printf '[supervisord]\nnodaemon=true\nlogfile=%s/supervisord.log\npidfile=%s/supervisord.pid\nchildlogdir=%s\nminfds=1024\n' "$d" "$d" "$d"
		printf '\n[inet_http_server]\nport=127.0.0.1:%s\nusername=bench\npassword=%s\n' "$PORT" "$pw"
		printf '\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n'
		for ((k = 1; k <= N; k++)); do
			printf '\n[program:s%d]\ncommand=%s/bin/sleep 100000\nstdout_logfile=NONE\nstderr_logfile=NONE\n' "$k" "$W"
		done
		printf '\n[group:bench]\nprograms=%s\n' "$(seq -f 's%g' 1 "$N" | paste -sd,)"
	} >"$d/supervisord.conf"
	body='<?xml version="1.0"?><methodCall><methodName>supervisor.getAllProcessInfo</methodName></methodCall>'
	cat >"$d/getall.lua" <<EOF
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "text/xml"
EOF
	BASIC="Authorization: Basic $(printf 'bench:%s' "$pw" | base64 -w0)"
	ver=$("$SUPERVISORD" --version 2>/dev/null || echo '?')
	echo "-- supervisord $ver: XML-RPC supervisor.getAllProcessInfo (port $PORT, user and password)"
	"$SUPERVISORD" -n -c "$d/supervisord.conf" >/dev/null 2>&1 &
	SV_PID=$! SV_KIND=supervisord
	SV_START=$(starttime "$SV_PID")
	n=0
	for ((i = 0; i < 600; i++)); do
		n=$(curl -s -H "$BASIC" -H 'Content-Type: text/xml' --data-binary "$body" "http://127.0.0.1:$PORT/RPC2" 2>/dev/null |
			grep -c '<string>RUNNING</string>') || n=0
		[ "$n" -ge "$N" ] && break
		sleep 0.1
	done
	read -r code bytes < <(curl -s -o "$d/getall.xml" -w '%{http_code} %{size_download}\n' -H "$BASIC" \
		-H 'Content-Type: text/xml' --data-binary "$body" "http://127.0.0.1:$PORT/RPC2" || echo "000 0")
	np=$(grep -o '<name>name</name>' "$d/getall.xml" | wc -l || true)
	nr=$(grep -c '<string>RUNNING</string>' "$d/getall.xml" || true)
	say "check (curl): getAllProcessInfo" "HTTP $code, $bytes bytes, $np processes ($nr RUNNING)"
	if [ "$code" != 200 ] || [ "$np" -ne "$N" ]; then echo "  FAILURE: the reply is not a list of $N processes"; fi
	read -r R[sd_rss] R[sd_pss] <<<"$(mem "$SV_PID")"
	say "supervisord ($N programs): RSS / Pss kB" "${R[sd_rss]} / ${R[sd_pss]}"
	CPU_PIDS="supervisord:$SV_PID"
	wrk_runs "getAllProcessInfo keep-alive" "http://127.0.0.1:$PORT/RPC2" "$DUR" -s "$d/getall.lua" -H "$BASIC"
	R[sd_rps]=$MED_RPS R[sd_p50]=$MED_P50 R[sd_p99]=$MED_P99 R[sd_bad]=$BAD
	sv_stop
fi

# --- sizes -------------------------------------------------------------------------
echo
echo "-- binary sizes (static, stripped)"
for b in "$MLS" "$MLS_NOTLS" "$MLS_MIN" ${MLS_BEFORE:+"$MLS_BEFORE"}; do
	if [ -f "$b" ]; then
		s=$(stat -c %s "$b")
		awk -v b="$b" -v s="$s" 'BEGIN { printf "  %-46s %9d bytes  %7.1f KiB\n", b, s, s / 1024 }'
	else
		case $b in
		*notls*) printf '  %-46s (not built: make NO_TLS=1)\n' "$b" ;;
		*/min/*) printf '  %-46s (not built: make NO_GIT=1 NO_TLS=1)\n' "$b" ;;
		*) printf '  %-46s (not built)\n' "$b" ;;
		esac
	fi
done

# --- summary -------------------------------------------------------------------------
if [ -n "${R[rps]:-}" ]; then
	echo
	echo "-- summary ($N services; medians of $RUNS; load average now $(cut -d' ' -f1-3 /proc/loadavg))"
	f0() { awk -v x="${1:-0}" 'BEGIN { printf "%.0f", x }'; }
	say "status req/s plain / TLS (keep-alive)" "$(f0 "${R[rps]}") / $(f0 "${R[trps]:-}")  (p50 ${R[p50]} / ${R[tp50]:-?} ms, p99 ${R[p99]} / ${R[tp99]:-?} ms)"
	if [ -n "${R[sd_rps]:-}" ]; then
		say "supervisord getAllProcessInfo req/s" "$(f0 "${R[sd_rps]}")  (p50 ${R[sd_p50]} ms, p99 ${R[sd_p99]} ms)"
		say "ratio mls plain / supervisord" "$(awk -v a="${R[rps]}" -v b="${R[sd_rps]}" 'BEGIN { printf "%.1f×", (b > 0 ? a / b : 0) }')  (TLS / supervisord: $(awk -v a="${R[trps]:-0}" -v b="${R[sd_rps]}" 'BEGIN { printf "%.1f×", (b > 0 ? a / b : 0) }'))"
	fi
	say "new connection per request plain / TLS" "$(f0 "${R[close_rps]}") / $(f0 "${R[hs]:-}") per s  (TLS to /healthz $(f0 "${R[hs_hz]:-}"); s_time ${R[s_time]:-?})"
	say "httpd RSS kB: idle / after load / TLS idle" "${R[rss_idle]} / ${R[rss_load]} / ${R[trss_idle]:-?}"
	say "ctl status ms: idle / under wrk" "${R[ctl_idle]} / ${R[ctl_load]}"
	bad=$(( ${R[bad]:-0} + ${R[tbad]:-0} + ${R[sd_bad]:-0} + ${R[close_bad]:-0} + ${R[hsbad]:-0} ))
	if [ "$bad" -gt 0 ]; then echo "  FAILURES: $bad non-2xx replies or failed wrk runs (see above)"; fi
fi
