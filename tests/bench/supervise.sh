#!/bin/bash
# supervise.sh — supervision figures of `mls supervise` (called by bench.sh,
# so by `make bench`). Figures, not pass/fail; each is printed beside its
# target (issue 3, section 7). The machine is shared and noisy: the host's
# busy % is printed for the windows where it matters.
#
#   - cold start: `mls supervise` exec -> the last of N services has exec'd
#     (its stamp), N=100 (median of COLD_REPS) and N=1000 (one run)
#   - mls's RSS and PSS at 100 and 1000 services
#   - mls's CPU (ticks, schedstat ns) and voluntary context switches over
#     IDLE_S idle with 100 services
#   - respawn latency: SIGKILL of a child up >= 1.5 s (reset_after: 1s) ->
#     its replacement's stamp; min/median/max of RESPAWN_K
#   - `mls ctl status` latency (whole command, and one raw `status` request
#     on the socket) at 100 and 1000 services
#   - log capture: one service writing lines as fast as it can (yes) with
#     log_dir set: MB/s and lines/s from the log file, mls's CPU and RSS,
#     ctl status latency meanwhile
#   - crash loop under the default backoff: mls's CPU with 100 services,
#     and with one service, each exiting 1 at once, over CRASH_S
#
# Each service is a tiny C helper (built from the source below into
# $BENCH_DIR/mlsbench): first thing in main() it reads CLOCK_MONOTONIC,
# writes "<ns> <pid>" to its stamp file (temp + rename) and pause()s; a name
# starting with "crash" appends its line and exits 1 instead. The same
# helper records t0 just before execve() of mls, waits for stamps, does the
# SIGKILL/respawn timing, times commands and raw socket requests.
#
# Env: MLS (binary, default build/mls), BENCH_DIR (default build/bench; the
# helper goes there), CC (default cc), N (100), N_BIG (1000), COLD_REPS (3),
# SETTLE_S (3), IDLE_S (20), RESPAWN_K (20), CTL_RUNS (20), FLOOD_S (5),
# CRASH_S (10), STATIC (1: link the helper statically if CC can), KEEP=1
# keeps the work dir (/tmp/mls-svbench.*).
# Every supervisor started here is stopped (SIGTERM, then SIGKILL after
# STOP_S) and its leftovers are checked by pid, also on error or Ctrl-C.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
MLS=${MLS:-build/mls}
BENCH_DIR=${BENCH_DIR:-build/bench}
CC=${CC:-cc}
N=${N:-100}
N_BIG=${N_BIG:-1000}
COLD_REPS=${COLD_REPS:-3}
SETTLE_S=${SETTLE_S:-3}
IDLE_S=${IDLE_S:-20}
RESPAWN_K=${RESPAWN_K:-20}
CTL_RUNS=${CTL_RUNS:-20}
FLOOD_S=${FLOOD_S:-5}
CRASH_S=${CRASH_S:-10}
STOP_S=${STOP_S:-30}
KEEP=${KEEP:-0}
STATIC=${STATIC:-1}

case $MLS in /*) ;; *) MLS=$root/$MLS ;; esac
if [ ! -x "$MLS" ]; then
	echo "== supervision: $MLS not built, skipped"
	exit 0
fi
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)

# --- the helper ------------------------------------------------------------
H=$BENCH_DIR/mlsbench
HSRC=$BENCH_DIR/mlsbench.c
cat >"$HSRC.new" <<'EOF'
/* mlsbench.c — written and built by tests/bench/supervise.sh.
 *   mlsbench DIR/NAME            service: stamp "<ns> <pid>" (temp+rename), pause();
 *                                NAME crash*: append the line, exit 1
 *   mlsbench exec T0FILE CMD...  write now() to T0FILE, execvp CMD
 *   mlsbench wait DIR N MS       until DIR holds N stamps: "count max_ts min_ts"
 *   mlsbench respawn FILE AGE_MS MS   SIGKILL the pid in FILE once AGE_MS old,
 *                                wait for a new stamp: "ns oldpid newpid"
 *   mlsbench timeit K CMD...     run CMD K times (output to /dev/null): "ns status"
 *   mlsbench req SOCK K REQUEST  K times: connect, send REQUEST, read one line:
 *                                "ns bytes"
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ns(long long ns)
{
	struct timespec ts = { ns / 1000000000LL, ns % 1000000000LL };
	while (ns > 0 && nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int service(char *path, long long t)
{
	char line[64], tmp[PATH_MAX];
	int n = snprintf(line, sizeof line, "%lld %d\n", t, (int)getpid());
	char *slash = strrchr(path, '/');
	if (strncmp(slash + 1, "crash", 5) == 0) {
		int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0 && write(fd, line, n) != n) { /* nothing to do */ }
		_exit(1);
	}
	*slash = 0;
	snprintf(tmp, sizeof tmp, "%s/.%s.%d", path, slash + 1, (int)getpid());
	*slash = '/';
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, n) != n || close(fd) != 0 || rename(tmp, path) != 0)
		return 111;
	for (;;)
		pause();
}

static int read_stamp(const char *path, long long *ts, int *pid)
{
	char buf[128];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return sscanf(buf, "%lld %d", ts, pid) == 2 ? 0 : -1;
}

static int stamp_name(const char *n) { return n[0] != '.' && strncmp(n, "crash", 5) != 0; }

static int scan(const char *dir, long long *maxts, long long *mints)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_MAX];
	int c = 0;
	while (d && (e = readdir(d))) {
		if (!stamp_name(e->d_name))
			continue;
		c++;
		long long ts;
		int pid;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		if (maxts && read_stamp(p, &ts, &pid) == 0) {
			if (ts > *maxts)
				*maxts = ts;
			if (!*mints || ts < *mints)
				*mints = ts;
		}
	}
	if (d)
		closedir(d);
	return c;
}

/* counts rename events (cheap while the supervisor starts its children) and
 * confirms with a scan when they add up */
static int cmd_wait(const char *dir, int want, long long ms)
{
	long long deadline = now_ns() + ms * 1000000LL;
	int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	inotify_add_watch(ifd, dir, IN_MOVED_TO);
	int c = scan(dir, NULL, NULL);
	char buf[65536] __attribute__((aligned(8)));
	while (c < want) {
		long long left = deadline - now_ns();
		if (left <= 0)
			break;
		struct pollfd pfd = { ifd, POLLIN, 0 };
		if (poll(&pfd, 1, left / 1000000LL > 200 ? 200 : (int)(left / 1000000LL) + 1) <= 0) {
			c = scan(dir, NULL, NULL);
			continue;
		}
		ssize_t n;
		while ((n = read(ifd, buf, sizeof buf)) > 0)
			for (char *p = buf; p < buf + n;) {
				struct inotify_event *ev = (struct inotify_event *)p;
				if (ev->len && stamp_name(ev->name))
					c++;
				p += sizeof *ev + ev->len;
			}
		if (c >= want)
			c = scan(dir, NULL, NULL);
	}
	long long maxts = 0, mints = 0;
	c = scan(dir, &maxts, &mints);
	printf("%d %lld %lld\n", c, maxts, mints);
	return c >= want ? 0 : 1;
}

static int cmd_respawn(const char *file, long long age_ms, long long ms)
{
	long long ts0, ts;
	int pid0, pid;
	if (read_stamp(file, &ts0, &pid0) != 0 || pid0 <= 1)
		return fprintf(stderr, "respawn: cannot read %s\n", file), 2;
	sleep_ns(ts0 + age_ms * 1000000LL - now_ns());
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", file);
	*strrchr(dir, '/') = 0;
	int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	inotify_add_watch(ifd, dir, IN_MOVED_TO);
	long long t0 = now_ns();
	if (kill(pid0, SIGKILL) != 0)
		return fprintf(stderr, "respawn: kill %d: %s\n", pid0, strerror(errno)), 2;
	long long deadline = t0 + ms * 1000000LL;
	char buf[4096];
	for (;;) {
		if (read_stamp(file, &ts, &pid) == 0 && pid != pid0 && ts >= t0) {
			printf("%lld %d %d\n", ts - t0, pid0, pid);
			return 0;
		}
		long long left = deadline - now_ns();
		if (left <= 0)
			break;
		struct pollfd pfd = { ifd, POLLIN, 0 };
		if (poll(&pfd, 1, 20) > 0)
			while (read(ifd, buf, sizeof buf) > 0)
				;
	}
	printf("timeout %d\n", pid0);
	return 1;
}

static int cmd_timeit(int k, char **argv)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	for (int i = 0; i < k; i++) {
		pid_t pid;
		int st = 0;
		long long t0 = now_ns();
		if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0)
			return perror("posix_spawnp"), 1;
		waitpid(pid, &st, 0);
		printf("%lld %d\n", now_ns() - t0, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
	return 0;
}

static int cmd_req(const char *sock, int k, const char *req)
{
	static char buf[1 << 16];
	char line[4200];
	int len = snprintf(line, sizeof line, "%s\n", req);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
	for (int i = 0; i < k; i++) {
		long long t0 = now_ns(), bytes = 0;
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
		    write(fd, line, len) != len)
			return perror(sock), 1;
		for (;;) {
			ssize_t n = read(fd, buf, sizeof buf);
			if (n <= 0)
				break;
			bytes += n;
			if (memchr(buf, '\n', n))
				break;
		}
		printf("%lld %lld\n", now_ns() - t0, bytes);
		close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	long long t = now_ns();
	if (argc == 2 && strchr(argv[1], '/'))
		return service(argv[1], t);
	const char *c = argc > 1 ? argv[1] : "";
	if (!strcmp(c, "exec") && argc >= 4) {
		FILE *f = fopen(argv[2], "w");
		if (!f)
			return 111;
		fprintf(f, "%lld\n", now_ns());
		fclose(f);
		execvp(argv[3], argv + 3);
		return perror(argv[3]), 127;
	}
	if (!strcmp(c, "now"))
		return printf("%lld\n", t), 0;
	if (!strcmp(c, "wait") && argc == 5)
		return cmd_wait(argv[2], atoi(argv[3]), atoll(argv[4]));
	if (!strcmp(c, "respawn") && argc == 5)
		return cmd_respawn(argv[2], atoll(argv[3]), atoll(argv[4]));
	if (!strcmp(c, "timeit") && argc >= 4)
		return cmd_timeit(atoi(argv[2]), argv + 3);
	if (!strcmp(c, "req") && argc == 5)
		return cmd_req(argv[2], atoi(argv[3]), argv[4]);
	fprintf(stderr, "usage: see the comment at the top of mlsbench.c\n");
	return 100;
}
EOF
# static when the toolchain can (no dynamic loader in the children's exec:
# its cost is the helper's, not the supervisor's); STATIC=0 for dynamic
if [ -x "$H" ] && cmp -s "$HSRC.new" "$HSRC" && [ "$(cat "$H.flags" 2>/dev/null)" = "$STATIC" ]; then
	rm -f "$HSRC.new"
else
	mv "$HSRC.new" "$HSRC"
	rm -f "$H" "$H.flags"
	if [ "$STATIC" = 1 ]; then
		"$CC" -O2 -Wall -static -o "$H" "$HSRC" 2>/dev/null || true
	fi
	if [ ! -x "$H" ] && ! "$CC" -O2 -Wall -o "$H" "$HSRC"; then
		echo "== supervision: cannot build $H with CC=$CC, skipped"
		exit 0
	fi
	echo "$STATIC" >"$H.flags"
fi
H_LINK=$(file -b "$H" 2>/dev/null | grep -o 'statically linked\|dynamically linked' || echo '?')

# --- bookkeeping -------------------------------------------------------------
W=$(mktemp -d /tmp/mls-svbench.XXXXXX)
SV_PID=      # the running supervisor, if any
SV_START=    # its starttime (/proc/PID/stat field 22), to never signal a reused pid

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

# services of this run (the helper, with a stamp path under $W) or other
# recorded pids still there after their supervisor went: SIGKILL by pid
leftovers() {
	local p e a n=0
	for p in /proc/[0-9]*; do
		e=$(readlink "$p/exe" 2>/dev/null) || continue
		[ "$e" = "$H" ] || continue
		a=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
		if [[ $a == *" $W/"* ]]; then
			kill -KILL "${p#/proc/}" 2>/dev/null && n=$((n + 1))
		fi
	done
	for p in "$@"; do
		if alive "${p%:*}" "${p#*:}"; then
			kill -KILL "${p%:*}" 2>/dev/null && n=$((n + 1))
		fi
	done
	if [ "$n" -gt 0 ]; then echo "  (LEFTOVER: $n process(es) outlived the supervisor; killed by pid)"; fi
}

sv_stop() { # graceful: SIGTERM, then SIGKILL after STOP_S; sets STOP_MS
	[ -n "$SV_PID" ] || return 0
	local p=$SV_PID t0 t1 i
	t0=${EPOCHREALTIME//[.,]/}
	if alive "$p" "$SV_START"; then
		kill -TERM "$p" 2>/dev/null || true
		for ((i = 0; i < STOP_S * 50; i++)); do
			alive "$p" "$SV_START" || break
			sleep 0.02
		done
		if alive "$p" "$SV_START"; then
			echo "  (supervisor $p did not stop in ${STOP_S}s: SIGKILL)"
			kill -KILL "$p" 2>/dev/null || true
		fi
	fi
	wait "$p" 2>/dev/null || true
	t1=${EPOCHREALTIME//[.,]/}
	SV_PID='' SV_START=''
	STOP_MS=$(awk -v us=$((t1 - t0)) 'BEGIN { printf "%.0f", us / 1000 }')
	leftovers "${EXTRA_PIDS[@]}"
	EXTRA_PIDS=()
}
EXTRA_PIDS=()

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	sv_stop >/dev/null 2>&1 || true
	leftovers
	if [ "$KEEP" = 1 ]; then echo "(kept $W)"; else rm -rf "$W"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start mls on CONFIG; t0 (ns) goes to $W/t0 just before its execve()
sv_start() { # CONFIG
	rm -f "$W/t0"
	"$H" exec "$W/t0" "$MLS" supervise -c "$1" >"$W/mls.out" 2>>"$W/mls.err" </dev/null &
	SV_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		SV_START=$(starttime "$SV_PID")
		[ -n "$SV_START" ] && [ -s "$W/t0" ] && break
		sleep 0.01
	done
}

# fresh dirs + config: N stamp services (or crash services) with the common keys
gen() { # NAME N PREFIX EXTRA_DEFAULTS_LINE -> sets D (instance dir), CFG
	D=$W/$1
	rm -rf "$D"
	mkdir -p "$D/state" "$D/log" "$D/stamps"
	CFG=$D/mls.yaml
	awk -v n="$2" -v pre="$3" -v extra="$4" -v d="$D" -v h="$H" 'BEGIN {
		print "state_dir: " d "/state"
		print "log_dir: " d "/log"
		print "defaults:"
		print "  restart: always"
		if (extra != "") print "  " extra
		print "services:"
		for (i = 1; i <= n; i++) {
			s = (n == 1 && pre == "crash") ? "crash" : sprintf("%s-%04d", pre, i)
			print "  " s ":"
			print "    command: [\"" h "\", \"" d "/stamps/" s "\"]"
		}
	}' >"$CFG"
}

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# "min median max" of the numbers on stdin, divided by DIV, with %.PREC f
mmm() { # DIV PREC
	sort -n | awk -v d="$1" -v p="$2" '{ a[NR] = $1 / d } END {
		if (!NR) { print "- / - / -"; exit }
		m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		f = "%." p "f / %." p "f / %." p "f"
		printf f, a[1], m, a[NR] }'
}

# mls's counters: "ticks sched_ns vcsw nvcsw threads" (all threads)
snap() { # PID
	local p=$1 s t v=0 nv=0 sc=0 n=0 k val rest
	s=$(cat "/proc/$p/stat") || return 1
	s=${s##*) }
	set -- $s
	local ticks=$(( ${12} + ${13} ))
	for t in /proc/"$p"/task/*; do
		n=$((n + 1))
		read -r val rest <"$t/schedstat" && sc=$((sc + val))
		while read -r k val rest; do
			case $k in
			voluntary_ctxt_switches:) v=$((v + val)) ;;
			nonvoluntary_ctxt_switches:) nv=$((nv + val)) ;;
			esac
		done <"$t/status"
	done
	echo "$ticks $sc $v $nv $n"
}
mem() { # PID -> "rss_kB pss_kB hwm_kB"
	local rss hwm pss k val rest
	while read -r k val rest; do
		case $k in VmRSS:) rss=$val ;; VmHWM:) hwm=$val ;; esac
	done <"/proc/$1/status"
	while read -r k val rest; do
		[ "$k" = Pss: ] && pss=$val
	done <"/proc/$1/smaps_rollup"
	echo "${rss:-?} ${pss:-?} ${hwm:-?}"
}
host() { # "busy total" jiffies of all CPUs
	local cpu u n s i io irq sirq st rest
	read -r cpu u n s i io irq sirq st rest </proc/stat
	echo "$((u + n + s + irq + sirq + st)) $((u + n + s + i + io + irq + sirq + st))"
}
busy_pct() { # "busy total" "busy total"
	awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ")
		t = y[2] - x[2]; printf "%.1f", (t > 0) ? 100 * (y[1] - x[1]) / t : 0 }'
}
# cold start of the instance just launched: waits for N stamps, prints ms
cold_ms() { # N TIMEOUT_MS
	local out t0
	out=$("$H" wait "$D/stamps" "$1" "$2") || { echo "timeout ($out)"; return 0; }
	read -r t0 <"$W/t0"
	set -- $out
	awk -v a="$t0" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'
}
cpu_ms() { # PID -> on-CPU ms since it started (all threads, schedstat)
	local t v rest sum=0
	for t in /proc/"$1"/task/*; do
		read -r v rest <"$t/schedstat" && sum=$((sum + v))
	done
	awk -v n="$sum" 'BEGIN { printf "%.1f", n / 1e6 }'
}
# ctl status latency: whole command and raw request, K runs each, medians
ctl_lat() { # K -> "cmd_ms raw_ms reply_bytes failures"
	local k=$1 sock=$D/state/mls.sock cmd raw bytes fails
	"$MLS" ctl -s "$sock" status >/dev/null 2>&1 || true  # warm-up
	cmd=$("$H" timeit "$k" "$MLS" ctl -s "$sock" status)
	raw=$("$H" req "$sock" "$k" status)
	fails=$(awk '$2 != 0' <<<"$cmd" | wc -l)
	bytes=$(awk '{ print $2 }' <<<"$raw" | median)
	echo "$(awk '{ print $1 }' <<<"$cmd" | median | awk '{ printf "%.2f", $1 / 1e6 }') $(awk '{ print $1 }' <<<"$raw" | median | awk '{ printf "%.2f", $1 / 1e6 }') $bytes $fails"
}

say() { printf '  %-44s %s\n' "$1" "$2"; }
target() { printf '  %-44s %-26s target %s\n' "$1" "$2" "$3"; }

echo
echo "== mls supervise: supervision figures ($MLS, $("$MLS" --version 2>/dev/null | head -n 1))"
echo "  load average at start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs; services: $H DIR/NAME ($H_LINK)"

# --- N: cold start, memory, idle, respawn, ctl ------------------------------
colds=() cpus=()
for ((r = 1; r <= COLD_REPS; r++)); do
	gen "main" "$N" svc "restart_backoff: {reset_after: 1s}"
	sv_start "$CFG"
	c=$(cold_ms "$N" 30000)
	colds+=("$c")
	cpus+=("$(cpu_ms "$SV_PID")")
	if [ "$r" -lt "$COLD_REPS" ]; then sv_stop; fi
done
cold_med=$(printf '%s\n' "${colds[@]}" | median)
target "cold start, $N services, ms (median)" "$cold_med  [${colds[*]}]" "<= 30 ms"
say "  mls's own CPU until then, ms (schedstat)" "${cpus[*]}"

sleep "$SETTLE_S"
read -r rss pss hwm <<<"$(mem "$SV_PID")"
target "memory, $N services: RSS / PSS kB" "$rss / $pss" "PSS <= 1024 kB"

h1=$(host); read -r t1 s1 v1 nv1 thr <<<"$(snap "$SV_PID")"
sleep "$IDLE_S"
h2=$(host); read -r t2 s2 v2 nv2 thr <<<"$(snap "$SV_PID")"
target "idle ${IDLE_S}s, $N svcs: CPU ticks (schedstat ms)" "$((t2 - t1)) ($(awk -v a="$s1" -v b="$s2" 'BEGIN { printf "%.3f", (b - a) / 1e6 }'))" "0"
target "idle ${IDLE_S}s, $N svcs: voluntary ctx switches" "$((v2 - v1)) (involuntary $((nv2 - nv1)))" "0 wakeups"
say "  (threads: $thr; host busy during the window: $(busy_pct "$h1" "$h2") %)" ""

resp=()
h1=$(host)
for ((i = 1; i <= RESPAWN_K; i++)); do
	f=$D/stamps/$(printf 'svc-%04d' $(( (i - 1) % N + 1 )))
	out=$("$H" respawn "$f" 1500 5000) || true
	set -- $out
	[ "$1" = timeout ] || resp+=("$1")
done
h2=$(host)
target "respawn after SIGKILL, ms: min / med / max" "$(printf '%s\n' "${resp[@]}" | mmm 1e6 3) (${#resp[@]}/$RESPAWN_K)" "median <= 1.0 ms"
say "  (host busy during the respawns: $(busy_pct "$h1" "$h2") %)" ""

read -r cm rm bytes fails <<<"$(ctl_lat "$CTL_RUNS")"
say "ctl status, $N services, ms (median of $CTL_RUNS)" "command $cm, raw request $rm ($bytes bytes, $fails failed)"
sv_stop
say "stop (SIGTERM -> exit), $N services" "$STOP_MS ms"

# --- N_BIG: cold start, memory, ctl status ----------------------------------
gen "big" "$N_BIG" svc "restart_backoff: {reset_after: 1s}"
sv_start "$CFG"
c=$(cold_ms "$N_BIG" 90000)
cpu=$(cpu_ms "$SV_PID")
target "cold start, $N_BIG services, ms (1 run)" "$c" "<= 250 ms"
say "  mls's own CPU until then, ms (schedstat)" "$cpu"
sleep "$SETTLE_S"
read -r rss pss hwm <<<"$(mem "$SV_PID")"
target "memory, $N_BIG services: RSS / PSS kB" "$rss / $pss" "PSS <= 4096 kB"
read -r cm rm bytes fails <<<"$(ctl_lat "$CTL_RUNS")"
target "ctl status, $N_BIG svcs, ms (median of $CTL_RUNS)" "command $cm" "<= 20 ms"
say "  raw \`status\` request on the socket" "$rm ms ($bytes bytes, $fails failed)"
sv_stop
say "stop (SIGTERM -> exit), $N_BIG services" "$STOP_MS ms"

# --- log capture ------------------------------------------------------------
# One service: `yes` with a 64-byte line; its log file never rotates during
# the window (max_size far above what it can write), and is removed after.
LINE=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde
D=$W/flood
mkdir -p "$D/state" "$D/log"
CFG=$D/mls.yaml
cat >"$CFG" <<EOF
state_dir: $D/state
log_dir: $D/log
services:
  flood:
    command: ["yes", "$LINE"]
    log: {max_size: 64GiB, keep: 1}
EOF
sv_start "$CFG"
lf=$D/log/flood.1.log
for ((i = 0; i < 500; i++)); do [ -s "$lf" ] && break; sleep 0.01; done
if [ ! -s "$lf" ]; then
	sv_stop
	say "log capture" "no log file $lf after 5 s: skipped (mls stderr: $(tail -n 1 "$W/mls.err"))"
else
	fpid=$("$MLS" ctl -s "$D/state/mls.sock" --json status 2>/dev/null | grep -o '"pid":[0-9]*' | tail -n 1 | cut -d: -f2 || true)
	[ -n "$fpid" ] && EXTRA_PIDS+=("$fpid:$(starttime "$fpid")")
	sleep 0.5
	h1=$(host); b1=$(stat -c %s "$lf"); n1=${EPOCHREALTIME//[.,]/}; read -r t1 s1 v1 nv1 thr <<<"$(snap "$SV_PID")"
	sleep "$(awk -v s="$FLOOD_S" 'BEGIN { print s / 2 }')"
	read -r fcm frm _ ffails <<<"$(ctl_lat 10)"
	rss_mid=$(mem "$SV_PID" | cut -d' ' -f1)
	sleep "$(awk -v s="$FLOOD_S" 'BEGIN { print s / 2 }')"
	h2=$(host); b2=$(stat -c %s "$lf"); n2=${EPOCHREALTIME//[.,]/}; read -r t2 s2 v2 nv2 thr <<<"$(snap "$SV_PID")"
	read -r rss pss hwm <<<"$(mem "$SV_PID")"
	sv_stop
	lines=$(set +o pipefail; tail -c +"$((b1 + 1))" "$lf" | head -c "$((b2 - b1))" | wc -l)
	sample=$(head -n 1 "$lf")
	rm -f "$D"/log/*
	awk -v b="$((b2 - b1))" -v l="$lines" -v us="$((n2 - n1))" -v pl="${#LINE}" 'BEGIN {
		s = us / 1e6
		printf "  %-44s %.1f MB/s of log file, %.0f lines/s (%.1f MB/s of output)\n",
			"log capture, 1 service writing flat out", b / s / 1e6, l / s, l * (pl + 1) / s / 1e6 }'
	say "  mls during it: CPU % of a core / RSS kB" "$(awk -v a="$s1" -v b="$s2" -v us="$((n2 - n1))" 'BEGIN { printf "%.0f", (b - a) / 10 / us }') % / $rss_mid (middle), $rss (end), peak $hwm"
	target "  ctl status meanwhile, ms (median of 10)" "command $fcm, raw $frm ($ffails failed)" "<= 20 ms"
	say "  (window $(awk -v us="$((n2 - n1))" 'BEGIN { printf "%.1f", us / 1e6 }') s; host busy $(busy_pct "$h1" "$h2") %; a log line: ${#sample} bytes)" ""
fi

# --- crash loops ------------------------------------------------------------
crash_run() { # N LABEL
	local n=$1 first=0 end t1 s1 t2 s2 starts i x
	gen "crash$n" "$n" crash ""
	sv_start "$CFG"
	for ((i = 0; i < 500; i++)); do
		x=$(ls "$D/stamps" | wc -l)
		[ "$x" -ge "$n" ] && break
		sleep 0.01
	done
	first=$(cat "$D"/stamps/crash* | awk 'NR == 1 || $1 < m { m = $1 } END { print m }')
	local h1 h2 v1 v2 nv1 nv2 thr
	h1=$(host); read -r t1 s1 v1 nv1 thr <<<"$(snap "$SV_PID")"
	sleep "$CRASH_S"
	h2=$(host); read -r t2 s2 v2 nv2 thr <<<"$(snap "$SV_PID")"
	end=$("$H" now)
	sv_stop
	starts=$(cat "$D"/stamps/crash* | awk -v a="$first" -v b="$end" '$1 >= a && $1 <= b' | wc -l)
	CR_MS=$(awk -v a="$s1" -v b="$s2" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')
	CR_PCT=$(awk -v a="$s1" -v b="$s2" -v s="$CRASH_S" 'BEGIN { printf "%.3f", (b - a) / 1e7 / s }')
	CR_INFO="ticks $((t2 - t1)), vcsw $((v2 - v1)), $starts starts, host busy $(busy_pct "$h1" "$h2") %"
	CR_OFF=$(cat "$D"/stamps/crash* | sort -n | awk -v a="$first" -v b="$end" '$1 >= a && $1 <= b { printf "%.2f ", ($1 - a) / 1e9 }')
}
crash_run "$N"
target "crash loop, $N services, ${CRASH_S}s: CPU" "$CR_PCT % of a core ($CR_MS ms)" "< 5 %"
say "  ($CR_INFO)" ""
crash_run 1
target "crash loop, 1 service, ${CRASH_S}s: CPU ms" "$CR_MS" "<= 10 ms"
say "  ($CR_INFO; start offsets s: $CR_OFF)" ""
echo "  (each window starts once every crash service has started once; default backoff: 1s x2, max 60s, jitter 10%; limit 5 starts/60s)"
echo "  load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
