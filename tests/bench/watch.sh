#!/bin/bash
# watch.sh — `watch:` (called by bench.sh, so by `make bench`). Figures, not
# pass/fail. A service watches "**/*.py" over a tree of 1,000 directories;
# measured, median of REPS:
#   - latency: a file written -> the new process has started (it writes its
#     own start time), with watch_debounce 0 (mls's own cost: inotify, the
#     stop path with SIGTERM, the spawn) and the default 300ms
#   - the supervisor's voluntary context switches over 2 s idle with the
#     1,000 directories watched (0 = it never woke)
#   - its RSS with them
# Env: MLS (default build/mls), REPS (7).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
MLS=${MLS:-build/mls}
REPS=${REPS:-7}
work=$(mktemp -d /tmp/mls-watchbench.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
now_ns() { date +%s%N; }

mkdir -p "$work/app"
for a in $(seq 10); do for b in $(seq 10); do for c in $(seq 10); do mkdir -p "$work/app/d$a/d$b/d$c"; done; done; done

measure() { # measure DEBOUNCE
	local d=$work/$1
	mkdir -p "$d"
	: >"$d/starts"
	cat >"$d/mls.yaml" <<YAML
state_dir: $d/state
services:
  app:
    command: ["/bin/sh", "-c", "date +%s%N >>$d/starts; exec sleep 100000"]
    working_dir: $work/app
    watch: "**/*.py"
    watch_debounce: $1
YAML
	"$MLS" supervise -c "$d/mls.yaml" >/dev/null 2>"$d/err" &
	pid=$!
	for _ in $(seq 500); do [ -s "$d/starts" ] && break; sleep 0.01; done
	local lat=() k n t0
	for k in $(seq "$REPS"); do
		n=$(wc -l <"$d/starts")
		sleep 0.2
		t0=$(now_ns)
		echo "x = $k" >"$work/app/d5/d5/d5/m.py"
		for _ in $(seq 1000); do [ "$(wc -l <"$d/starts")" -gt "$n" ] && break; sleep 0.002; done
		lat+=($((($(tail -1 "$d/starts") - t0) / 1000)))
	done
	printf '%s\n' "${lat[@]}" | median | awk -v db="$1" '{ printf "watch: file written -> new process started, watch_debounce %s: %.1f ms (median)\n", db, $1 / 1000 }'
	if [ "$1" = 0 ]; then
		sleep 0.3
		local v0 v1
		v0=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$pid/status")
		sleep 2
		v1=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$pid/status")
		echo "watch: idle 2 s with 1,000 directories watched: $((v1 - v0)) wakeups of the supervisor"
		awk '/^VmRSS/ { print "watch: supervisor RSS with 1,000 directories watched: " $2 " kB" }' "/proc/$pid/status"
	fi
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
}
measure 0
measure 300ms
