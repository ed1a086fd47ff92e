#!/bin/bash
# reconcile.sh — how the engine's passes over all services scale (called by
# bench.sh, so by `make bench`). Figures, not pass/fail.
#
# N services (1,000 and 10,000, the most a config may have): N-1 depend on
# one service, `gate`, that is
# started but never ready (ready: notify, no notification), so no service
# process is spawned and every reconcile pass walks all N, checks each
# one's dependency and keeps it waiting. Measured, median of REPS:
#   - up:      `mls supervise` exec -> `ctl status` shows all N waiting
#              (config load + apply + the first passes)
#   - restart: `ctl restart gate` round trip (a stop, a pass that re-checks
#              N dependencies, the reply)
#   - reload:  `ctl reload` round trip with the config unchanged (load N
#              services, match each by name, a pass)
# Before this engine had its name index, each of these was O(N^2): MLS_OLD
# (another mls binary) is measured in the same run when given.
#
# Env: MLS (default build/mls), MLS_OLD (none), BENCH_DIR (build/bench),
# NS ("1000 10000"), REPS (3).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
MLS=${MLS:-build/mls}
BENCH_DIR=${BENCH_DIR:-build/bench}
NS=${NS:-1000 10000}
REPS=${REPS:-3}
mkdir -p "$BENCH_DIR"
work=$(mktemp -d /tmp/mls-recbench.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	pkill -KILL -f "$work/" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

gen() { # gen N DIR
	local n=$1 d=$2 k
	{
		echo "state_dir: $d/state"
		echo "log_dir: $d/log"
		echo "services:"
		echo "  gate:"
		echo "    command: [\"sleep\", \"100000\"]"
		echo "    ready: notify"
		for ((k = 1; k < n; k++)); do
			echo "  s$k:"
			echo "    command: [\"sleep\", \"100000\"]"
			echo "    depends_on: [gate]"
		done
	} >"$d/mls.yaml"
}

# waiting BIN SOCK N: all N dependents waiting?
waiting() {
	local c
	c=$("$1" ctl -s "$2" --json status 2>/dev/null | grep -o '"state":"waiting"' | wc -l) || return 1
	[ "$c" -ge "$3" ]
}

measure() { # measure BIN LABEL N
	local bin=$1 label=$2 n=$3 r up=() rs=() rl=()
	for ((r = 0; r < REPS; r++)); do
		local d=$work/$label-$n-$r
		mkdir -p "$d"
		gen "$n" "$d"
		local sock=$d/state/mls.sock t0 t1 deadline
		t0=$(now_ms)
		"$bin" supervise -c "$d/mls.yaml" 2>"$d/err" &
		local pid=$!
		pids+=("$pid")
		deadline=$((t0 + 300000))
		until [ -S "$sock" ] && waiting "$bin" "$sock" $((n - 1)); do
			kill -0 "$pid" 2>/dev/null || { echo "  $label N=$n: mls exited:" >&2; cat "$d/err" >&2; return 1; }
			[ "$(now_ms)" -lt "$deadline" ] || { echo "  $label N=$n: not all waiting after 300 s" >&2; kill -KILL "$pid"; return 1; }
			sleep 0.05
		done
		t1=$(now_ms)
		up+=($((t1 - t0)))
		t0=$(now_ms)
		"$bin" ctl -s "$sock" --no-wait restart gate >/dev/null
		t1=$(now_ms)
		rs+=($((t1 - t0)))
		t0=$(now_ms)
		"$bin" ctl -s "$sock" reload >/dev/null
		t1=$(now_ms)
		rl+=($((t1 - t0)))
		kill -TERM "$pid"
		wait "$pid" 2>/dev/null || true
	done
	printf '  %-8s %6d services: up %7s ms   restart gate %6s ms   reload %7s ms\n' "$label" "$n" \
		"$(printf '%s\n' "${up[@]}" | median)" "$(printf '%s\n' "${rs[@]}" | median)" \
		"$(printf '%s\n' "${rl[@]}" | median)"
}

echo
echo "== reconcile: N services waiting on one dependency (median of $REPS)"
for n in $NS; do
	measure "$MLS" mls "$n"
	if [ -n "${MLS_OLD:-}" ]; then
		measure "$MLS_OLD" old "$n"
	fi
done
