#!/usr/bin/env bash
# mls supervise: `watch:` (issue 12 §2), a service restarted when its files
# change. Real supervisor, real files, inotify; every wait is a poll on a
# condition with a timeout; the short sleeps prove that something did NOT
# happen (each a little longer than the debounce window: app has the
# default, 300ms).
# Needs: MLS, TESTS_DIR, python3; unshare (user namespaces) for the
# kernel-limit case.
. "${TESTS_DIR:?}/lib.sh"
. "$TESTS_DIR/sv.sh"

have_python3 || skip_all "needs python3"

# count FILE ERE: how many lines of FILE match
count() { grep -Ec -- "$2" "$1" 2>/dev/null; }
has() { grep -Eq -- "$2" "$1" 2>/dev/null; }
pid_changed() { local p; p=$(pid_of "$1"); [ -n "$p" ] && [ "$p" != null ] && [ "$p" != "$2" ] && state_is "$1" running; }
vcsw() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$1/status"; }

A=$T/app
O=$T/other
mkdir -p "$A/src" "$O"
cat >"$T/w.yaml" <<EOF
state_dir: $T/s
services:
  app:
    command: ["sleep", "1000"]
    working_dir: $A
    watch: ["src/**/*.py", "!src/skip.py"]
  other:
    command: ["sleep", "1000"]
    working_dir: $O
EOF
sv_start "$T/w.yaml"
wait_for "app.1 runs" 10 state_is app.1 running
wait_for "other.1 runs" 10 state_is other.1 running
P=$(pid_of app.1)
OP=$(pid_of other.1)

# ------------------------------------------------ a matching change restarts
echo 'print(1)' >"$A/src/app.py"
wait_for "a change of src/app.py restarts app.1 (new pid)" 10 pid_changed app.1 "$P"
like "$(cat "$SV_ERR")" "app\.1: stopping \(watch: src/app\.py changed\)" "the restart's reason names the file"
P=$(pid_of app.1)

# ------------------------------------------------ what does not match
N=$(count "$SV_ERR" "stopping \(watch:")
echo x >"$A/src/skip.py"   # excluded by "!src/skip.py"
echo x >"$A/src/notes.txt" # matches no pattern
echo x >"$A/top.py"        # outside src/
sleep 0.6
is "$(pid_of app.1)" "$P" "an excluded file, a file no pattern matches and one outside src/ change nothing"
is "$(count "$SV_ERR" "stopping \(watch:")" "$N" "... no restart logged"

# ------------------------------------------------ a new subdirectory (**)
mkdir -p "$A/src/pkg/deep"
echo 'x = 1' >"$A/src/pkg/deep/mod.py"
wait_for "a file in a new subdirectory restarts app.1" 10 pid_changed app.1 "$P"
like "$(grep 'stopping (watch:' "$SV_ERR" | tail -1)" "src/pkg/deep/mod\.py changed" "... named"
P=$(pid_of app.1)
echo y >"$A/src/pkg/deep/mod.py"
wait_for "the new directory is watched: a second write there restarts again" 10 \
	eval '[ "$(count "$SV_ERR" "stopping \(watch: src/pkg/deep/mod\.py")" -ge 2 ]'
wait_for "... and app.1 runs" 10 pid_changed app.1 "$P"
sleep 0.3
P=$(pid_of app.1)

# ------------------------------------------------ a burst restarts once
N=$(count "$SV_ERR" "stopping \(watch:")
B0=$(date +%s%N)
for k in $(seq 1 100); do echo "$k" >"$A/src/app.py"; done
B1=$(date +%s%N)
wait_for "a burst of 100 writes restarts app.1" 10 pid_changed app.1 "$P"
sleep 0.6
is "$(count "$SV_ERR" "stopping \(watch:")" "$((N + 1))" "... once" || diag "the burst took $(((B1 - B0) / 1000000)) ms (the window: the default 300ms); $(grep -E "watch|pid" "$SV_ERR" | tail -12)"
is "$(pid_of other.1)" "$OP" "other.1 (no watch) was never touched"

# ------------------------------------------------ no wakeup while idle
poll 5 state_is app.1 running
V0=$(vcsw "$SV_PID")
sleep 1
V1=$(vcsw "$SV_PID")
is "$((V1 - V0))" 0 "idle for 1 s with watches set: the supervisor never woke (voluntary context switches $V0 -> $V1)"

# ------------------------------------------------ reload moves the watch
cat >"$T/w.yaml" <<EOF
state_dir: $T/s
services:
  app:
    command: ["sleep", "1000"]
    working_dir: $A
  other:
    command: ["sleep", "1000"]
    working_dir: $O
    watch: "*.conf"
    watch_debounce: 100ms
EOF
ctl reload
is "$RC" 0 "reload: watch removed from app, added to other"
poll 10 pid_changed app.1 "$P"
poll 10 pid_changed other.1 "$OP"
sleep 0.3
P=$(pid_of app.1)
OP=$(pid_of other.1)
echo z >"$O/site.conf"
wait_for "other.1 restarts on site.conf" 10 pid_changed other.1 "$OP"
like "$(grep 'other.1: stopping (watch:' "$SV_ERR" | tail -1)" "site\.conf changed" "... named"
echo z >"$A/src/app.py"
sleep 0.4
is "$(pid_of app.1)" "$P" "app.1 no longer restarts on src/app.py"

# ------------------------------------------------ the directory cap and config
run "$MLS" validate "$T/w.yaml"
is "$RC" 0 "validate: watch and watch_debounce are valid keys"
unlike "$ERR" "not supported" "... not a later feature any more"
sv_stop
is "$SV_RC" 0 "the supervisor stops cleanly"

# ------------------------------------------------ the kernel's watch limit
L=$T/lim
mkdir -p "$L"
for k in $(seq 1 20); do mkdir -p "$L/d$k/e"; done
cat >"$T/l.yaml" <<EOF
state_dir: $T/ls
services:
  lim:
    command: ["sleep", "1000"]
    working_dir: $L
    watch: "**"
EOF
if unshare -U -r sh -c 'echo 5 >/proc/sys/user/max_inotify_watches' 2>/dev/null; then
	SV_SOCK=$T/ls/mls.sock
	SV_ERR=$T/lim.err
	unshare -U -r sh -c 'echo 5 >/proc/sys/user/max_inotify_watches && exec "$0" supervise -c "$1"' \
		"$MLS" "$T/l.yaml" >"$T/lim.out" 2>"$SV_ERR" &
	SV_PID=$!
	poll 10 test -S "$SV_SOCK"
	wait_for "with max_user_watches 5 (a user namespace) the service still runs" 10 state_is lim.1 running
	like "$(cat "$SV_ERR")" "error: lim: watch: the kernel's inotify watch limit is reached \(max_user_watches 5; raise fs\.inotify\.max_user_watches\): $L/d[0-9]+.* are not watched" \
		"a clear error names the service, the limit and the first directory left out"
	is "$(count "$SV_ERR" "watch limit is reached")" 1 "... once"
	sv_stop
else
	skip "no user namespace with a writable /proc/sys/user/max_inotify_watches"
fi

# ------------------------------------------------ under ASan/UBSan (make dev)
if [ -n "${MLS_DEV:-}" ] && [ -x "$MLS_DEV" ] && [ "$MLS_DEV" != "$MLS" ]; then
	MLS_STATIC=$MLS
	MLS=$MLS_DEV
	D=$T/dev
	mkdir -p "$D/src"
	cat >"$T/d.yaml" <<EOF
state_dir: $T/ds
services:
  app:
    command: ["sleep", "1000"]
    working_dir: $D
    watch: ["**/*.py", "!tmp/**"]
    watch_debounce: 50ms
  two:
    command: ["sleep", "1000"]
    working_dir: $D
    watch: "src/*.py"
EOF
	sv_start "$T/d.yaml"
	wait_for "dev: app.1 runs" 20 state_is app.1 running
	P=$(pid_of app.1)
	echo x >"$D/src/a.py"
	wait_for "dev: a change restarts app.1" 20 pid_changed app.1 "$P"
	P=$(pid_of app.1)
	mkdir -p "$D/n1/n2" && echo x >"$D/n1/n2/b.py"
	wait_for "dev: a new directory's file restarts app.1" 20 pid_changed app.1 "$P"
	mv "$D/n1" "$D/n3" && rm -rf "$D/n3" "$D/src"
	cat >"$T/d.yaml" <<EOF
state_dir: $T/ds
services:
  two:
    command: ["sleep", "1000"]
    working_dir: $D
EOF
	ctl reload
	is "$RC" 0 "dev: a reload removes app and two's watch"
	sv_stop
	is "$SV_RC" 0 "dev: the supervisor exits 0"
	ERR=$(cat "$SV_ERR")
	no_sanitizer_report "dev: supervise with watch"
	MLS=$MLS_STATIC
else
	skip "MLS_DEV (the sanitizer build) not given"
fi

done_testing
