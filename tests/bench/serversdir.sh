#!/bin/bash
# serversdir.sh — `servers_dir` (called by bench.sh, so by `make bench`).
# Figures, not pass/fail. With 100 scripts already discovered, measured
# (median of REPS):
#   - latency: a script dropped into the directory (one rename, as cp
#     --atomic or an editor does) -> its process has started (it writes
#     its own start time); the debounce (300 ms) is in it
#   - a changed entry -> its restarted process (the same path)
#   - the cost of a rescan: from the log line "servers_dir: ... reloading"
#     to "config reloaded" (reading the 100 entries, the loader, the diff)
#   - the supervisor's wakeups over 2 s idle, and its RSS with 100
#     discovered services running
# Env: MLS (default build/mls), REPS (7).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
MLS=${MLS:-build/mls}
REPS=${REPS:-7}
work=$(mktemp -d /tmp/mls-srvbench.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	wait 2>/dev/null || true
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
now_ns() { date +%s%N; }
reloads() { grep -c "config reloaded" "$work/err" || true; }

mkdir -p "$work/servers"
for k in $(seq 100); do printf 'exec sleep 100000\n' >"$work/servers/s$k.sh"; done
cat >"$work/mls.yaml" <<YAML
state_dir: $work/state
servers_dir: servers
YAML
"$MLS" supervise -c "$work/mls.yaml" >/dev/null 2>"$work/err" &
pid=$!
for _ in $(seq 1000); do [ "$(grep -c ': running$' "$work/err" || true)" -ge 100 ] && break; sleep 0.01; done

lat=() chg=()
for k in $(seq "$REPS"); do
	: >"$work/starts"
	printf 'date +%%s%%N >>%s/starts\nexec sleep 100000\n' "$work" >"$work/new.tmp"
	r=$(reloads)
	t0=$(now_ns)
	mv "$work/new.tmp" "$work/servers/new$k.sh"
	for _ in $(seq 2000); do [ -s "$work/starts" ] && break; sleep 0.002; done
	lat+=($((($(head -1 "$work/starts") - t0) / 1000)))
	for _ in $(seq 500); do [ "$(reloads)" -gt "$r" ] && break; sleep 0.01; done
	sleep 0.4
	: >"$work/starts"
	t0=$(now_ns)
	printf 'date +%%s%%N >>%s/starts\nexec sleep 100001\n' "$work" >"$work/new.tmp"
	mv "$work/new.tmp" "$work/servers/new$k.sh"
	for _ in $(seq 2000); do [ -s "$work/starts" ] && break; sleep 0.002; done
	chg+=($((($(head -1 "$work/starts") - t0) / 1000)))
	sleep 0.4
done
printf '%s\n' "${lat[@]}" | median | awk '{ printf "servers_dir: script dropped in (100 entries) -> its process started: %.1f ms (median; the debounce is 300 ms)\n", $1 / 1000 }'
printf '%s\n' "${chg[@]}" | median | awk '{ printf "servers_dir: script changed -> restarted process: %.1f ms (median)\n", $1 / 1000 }'
# "T mls: servers_dir: ... reloading" then "T mls: config reloaded": the gap
awk '/servers_dir: .* reloading$/ { split($1, t, /[T:Z]/); a = t[3] * 60000 + t[4] * 1000; next }
     /config reloaded/ && a { split($1, t, /[T:Z]/); print t[3] * 60000 + t[4] * 1000 - a; a = 0 }' "$work/err" |
	median | awk '{ printf "servers_dir: one rescan (100+ entries: read, loaded, applied): %.1f ms (median)\n", $1 }'
sleep 0.5
v0=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$pid/status")
sleep 2
v1=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$pid/status")
echo "servers_dir: idle 2 s with $((100 + REPS)) discovered services: $((v1 - v0)) wakeups of the supervisor"
awk '/^VmRSS/ { print "servers_dir: supervisor RSS with '$((100 + REPS))' discovered services: " $2 " kB" }' "/proc/$pid/status"
kill -TERM "$pid"
wait "$pid" 2>/dev/null || true
pid=
