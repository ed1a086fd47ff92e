#!/bin/bash
# health.sh — what health checks cost mls (called by bench.sh, so by `make
# bench`). Figures, not pass/fail.
#
# 100 services (`sleep`), each with an HTTP health check against one local
# HTTP server (python3, outside mls: it counts the requests it answers):
#   - idle cost: interval 5s over a 20 s window: mls's CPU (schedstat) and
#     voluntary context switches, beside the checks made (the floor is 20
#     checks a second and nothing in between)
#   - cost per check: interval 100ms over 10 s: mls's CPU per 1,000 checks
#
# Env: MLS (default build/mls), IDLE_S (20), BURST_S (10).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
MLS=${MLS:-build/mls}
IDLE_S=${IDLE_S:-20}
BURST_S=${BURST_S:-10}
work=$(mktemp -d /tmp/mls-hcbench.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

# the server: answers 200, counts in $work/count on SIGUSR1
cat >"$work/srv.py" <<'EOF'
import signal, socket, sys, threading
n = 0
def dump(sig, frame):
    with open(sys.argv[2], "w") as f:
        f.write("%d\n" % n)
signal.signal(signal.SIGUSR1, dump)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(256)
with open(sys.argv[1], "w") as f:
    f.write("%d\n" % s.getsockname()[1])
while True:
    try:
        c, _ = s.accept()
    except InterruptedError:
        continue
    try:
        c.recv(4096)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    except OSError:
        pass
    c.close()
    n += 1
EOF
python3 "$work/srv.py" "$work/port" "$work/count" &
pids+=($!)
SRV=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
PORT=$(cat "$work/port")

count() { rm -f "$work/count"; kill -USR1 "$SRV"; for _ in $(seq 100); do [ -s "$work/count" ] && break; sleep 0.02; done; cat "$work/count"; }
cpu_ns() { awk '{ print $1 }' "/proc/$1/schedstat"; }
vcsw() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$1/status"; }

run() { # run INTERVAL SECONDS LABEL
	local iv=$1 secs=$2 label=$3 d=$work/$3
	mkdir -p "$d"
	{
		echo "state_dir: $d/state"
		echo "log_dir: $d/log"
		echo "services:"
		for k in $(seq 100); do
			echo "  s$k:"
			echo "    command: [\"sleep\", \"100000\"]"
			echo "    healthcheck: {http: \"http://127.0.0.1:$PORT/health\", interval: $iv}"
		done
	} >"$d/mls.yaml"
	"$MLS" supervise -c "$d/mls.yaml" 2>"$d/err" &
	local pid=$!
	pids+=("$pid")
	local sock=$d/state/mls.sock
	for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.05; done
	# settle: every instance checked once
	sleep "${iv%ms}" 2>/dev/null || sleep 1
	sleep 1
	local c0 n0 v0 c1 n1 v1
	c0=$(cpu_ns "$pid"); v0=$(vcsw "$pid"); n0=$(count)
	sleep "$secs"
	c1=$(cpu_ns "$pid"); v1=$(vcsw "$pid"); n1=$(count)
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
	local checks=$((n1 - n0)) cpu_ms
	cpu_ms=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
	if [ "$label" = idle ]; then
		printf '  100 services, interval %s, %s s: %d checks (%.1f/s), mls CPU %s ms (%.3f %% of a core), %d voluntary switches\n' \
			"$iv" "$secs" "$checks" "$(awk -v n="$checks" -v s="$secs" 'BEGIN { print n / s }')" "$cpu_ms" \
			"$(awk -v c="$cpu_ms" -v s="$secs" 'BEGIN { print c / (s * 10) }')" $((v1 - v0))
	else
		printf '  100 services, interval %s, %s s: %d checks, mls CPU %s ms = %s ms per 1,000 checks\n' \
			"$iv" "$secs" "$checks" "$cpu_ms" "$(awk -v c="$cpu_ms" -v n="$checks" 'BEGIN { printf "%.1f", n ? c * 1000 / n : 0 }')"
	fi
}

echo
echo "== health checks: what they cost mls (HTTP, one local server)"
run 5s "$IDLE_S" idle
run 100ms "$BURST_S" burst
