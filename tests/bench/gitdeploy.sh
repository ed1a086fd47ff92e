#!/bin/bash
# gitdeploy.sh — deploys from git (issue 11; called by bench.sh, so by
# `make bench`). Figures, not pass/fail.
#
# A bare repository made here with git, a service deployed from it by mls
# supervise (its internal mls-gitwatch) whose autoexec.txt names app.sh,
# which writes $GIT_REVISION to a file when it starts:
#   - push to running: from the start of `git push` (a commit into the local
#     bare repository) to the new revision's process having started, with
#     `interval: 1s` (the poll) and with `interval: 0` + `mls ctl deploy
#     --no-wait` right after the push; median, min, max of RUNS; and the
#     wall time of a waiting `mls ctl deploy` (which includes the verify
#     window, 1s here)
#   - RSS of mls-gitwatch, idle after those deploys (/proc/PID/status)
#   - the size of the full binary (libgit2 in it) against the 1 MiB budget
#
# Env: MLS (default build/mls), RUNS (7).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
MLS=${MLS:-build/mls}
case $MLS in /*) ;; *) MLS=$root/$MLS ;; esac
RUNS=${RUNS:-7}
BUDGET=1048576

echo
echo "== deploys from git ($MLS)"
if "$MLS" --version | grep -q -- '-git'; then
	echo "  this build has no git (NO_GIT=1)"
	exit 0
fi
command -v git >/dev/null 2>&1 || { echo "  needs git"; exit 0; }

work=$(mktemp -d /tmp/mls-gitbench.XXXXXX)
chmod 755 "$work" # gitwatch runs as nobody when mls is root
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

export GIT_CONFIG_NOSYSTEM=1 HOME=$work GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@example.org \
	GIT_COMMITTER_NAME=b GIT_COMMITTER_EMAIL=b@example.org

now_us() { local t=${EPOCHREALTIME/./}; echo "$t"; }
# median, min, max of the numbers on stdin (ms)
stats() { sort -n | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "median %7.1f ms  (min %.1f, max %.1f, %d runs)", m, a[1], a[NR], NR }'; }
poll() { # poll TIMEOUT_S CMD...: every 5 ms
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.005
	done
}
ran_is() { [ "$(cat "$1" 2>/dev/null)" = "$2" ]; }
phase_deployed() { # SOCK SHA: the status says deployed SHA
	"$MLS" ctl -s "$1" --json status 2>/dev/null | grep -q "\"revision\":\"$2\",\"deploy\":\"deployed "
}

# setup NAME INTERVAL: repository, work clone, config, supervisor; sets SOCK
setup() {
	local n=$1
	git init -q --bare -b main "$work/$n.git"
	git init -q -b main "$work/$n"
	printf 'app.sh\n' >"$work/$n/autoexec.txt"
	# the revision goes to a file only once the process runs
	printf 'echo "$GIT_REVISION" >%s/%s.ran.tmp && mv %s/%s.ran.tmp %s/%s.ran\nexec sleep 100000\n' \
		"$work" "$n" "$work" "$n" "$work" "$n" >"$work/$n/app.sh"
	touch "$work/$n.ran.tmp" && chmod 666 "$work/$n.ran.tmp"
	git -C "$work/$n" add -A && git -C "$work/$n" commit -qm 0 && git -C "$work/$n" push -q "$work/$n.git" HEAD:main 2>/dev/null
	cat >"$work/$n.yaml" <<EOF
state_dir: $work/$n.state
services:
  app:
    git: {url: $work/$n.git, interval: $2, verify_window: 1s}
EOF
	"$MLS" supervise -c "$work/$n.yaml" >"$work/$n.out" 2>"$work/$n.err" &
	pids+=($!)
	SOCK=$work/$n.state/mls.sock
	poll 10 test -S "$SOCK"
	local first
	first=$(git -C "$work/$n" rev-parse HEAD)
	poll 20 phase_deployed "$SOCK" "$first" || { echo "  $n: first deploy did not happen; see $work/$n.err"; cat "$work/$n.err"; exit 1; }
}

# commit NAME TEXT: a commit in the work clone (not pushed)
commit() {
	echo "$2" >"$work/$1/n.txt"
	git -C "$work/$1" add -A && git -C "$work/$1" commit -qm "$2"
}

# --- interval: 1s -----------------------------------------------------------
setup poll 1s
SOCK_POLL=$SOCK
times=()
for i in $(seq "$RUNS"); do
	commit poll "$i"
	sha=$(git -C "$work/poll" rev-parse HEAD)
	t0=$(now_us)
	git -C "$work/poll" push -q "$work/poll.git" HEAD:main 2>/dev/null
	poll 30 ran_is "$work/poll.ran" "$sha" || { echo "  poll: $sha never ran"; exit 1; }
	t1=$(now_us)
	times+=($(( (t1 - t0) / 100 )))
	poll 30 phase_deployed "$SOCK_POLL" "$sha"
	# the next push lands anywhere within the poll interval
	sleep "0.$((RANDOM % 10))"
done
printf '  push to running, interval: 1s              %s\n' \
	"$(printf '%s\n' "${times[@]}" | awk '{ print $1 / 10 }' | stats)"

# --- interval: 0 + mls ctl deploy ----------------------------------------------
setup manual 0
SOCK_MAN=$SOCK
times=()
walls=()
for i in $(seq "$RUNS"); do
	commit manual "$i"
	sha=$(git -C "$work/manual" rev-parse HEAD)
	t0=$(now_us)
	git -C "$work/manual" push -q "$work/manual.git" HEAD:main 2>/dev/null
	"$MLS" ctl -s "$SOCK_MAN" --no-wait deploy app >/dev/null
	poll 30 ran_is "$work/manual.ran" "$sha" || { echo "  manual: $sha never ran"; exit 1; }
	t1=$(now_us)
	times+=($(( (t1 - t0) / 100 )))
	poll 30 phase_deployed "$SOCK_MAN" "$sha"
done
printf '  push to running, interval: 0 + ctl deploy  %s\n' \
	"$(printf '%s\n' "${times[@]}" | awk '{ print $1 / 10 }' | stats)"
for i in $(seq "$RUNS"); do
	commit manual "w$i"
	git -C "$work/manual" push -q "$work/manual.git" HEAD:main 2>/dev/null
	t0=$(now_us)
	"$MLS" ctl -s "$SOCK_MAN" deploy app >/dev/null
	t1=$(now_us)
	walls+=($(( (t1 - t0) / 100 )))
done
printf '  mls ctl deploy until "deployed" (verify_window 1s)  %s\n' \
	"$(printf '%s\n' "${walls[@]}" | awk '{ print $1 / 10 }' | stats)"

# --- RSS -------------------------------------------------------------------------
for which in poll manual; do
	if [ $which = poll ]; then s=$SOCK_POLL n=$((RUNS + 1)); else s=$SOCK_MAN n=$((2 * RUNS + 1)); fi
	gp=$("$MLS" ctl -s "$s" --json status | python3 -c '
import json, sys
for x in json.load(sys.stdin)["services"]:
    if x["name"] == "mls-gitwatch":
        print(x["pid"])')
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$gp/status")
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$gp/status")
	uid=$(awk '/^Uid:/ { print $3 }' "/proc/$gp/status")
	printf '  mls-gitwatch RSS idle after %2d deploys (%s): %5d KiB (peak %d KiB), uid %s\n' \
		"$n" "$which" "$rss" "$hwm" "$uid"
done

# --- size --------------------------------------------------------------------------
sz=$(stat -c %s "$MLS")
awk -v s="$sz" -v b="$BUDGET" 'BEGIN { printf "  full binary (libgit2, BearSSL): %d bytes of %d (1 MiB): %.1f%%, %d bytes left\n", s, b, 100 * s / b, b - s }'
