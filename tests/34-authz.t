#!/usr/bin/env bash
# Who may do what on the control socket (docs/protocol.md, "Who may do
# what"), with a real second uid: a member of control_group gets the
# read-only requests and what control_allow grants (default: all but
# shutdown), and is refused the rest with the exact error; a uid outside
# the group cannot connect; root has everything; a reload that changes
# control_allow applies to the next connections; a supervisor run by an
# unprivileged user gives that user (the socket's owner) everything.
# Needs: MLS, TESTS_DIR, python3, root, setpriv (util-linux), and
# groupadd/useradd when the test user is missing: it creates the group and
# user mlsauthz (system, no home, no login) once and leaves them.
. "${TESTS_DIR:?}/lib.sh"
. "$TESTS_DIR/sv.sh"

have_python3 || skip_all "needs python3"
[ "$(id -u)" = 0 ] || skip_all "needs root (to run mls ctl as a second uid)"
command -v setpriv >/dev/null 2>&1 || skip_all "needs setpriv (util-linux)"

U=mlsauthz
if ! getent group "$U" >/dev/null; then
	groupadd --system "$U" >/dev/null 2>&1 || skip_all "cannot create group $U (groupadd)"
fi
if ! getent passwd "$U" >/dev/null; then
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
		-g "$U" "$U" >/dev/null 2>&1 || skip_all "cannot create user $U (useradd)"
fi
UID2=$(id -u "$U")
OTHER=65534 # nobody: not in the group

# The other uids must reach the binary and the socket: $T is 0700
chmod 0711 "$T"
cp "$MLS" "$T/mls"
chmod 0755 "$T/mls"
M=$T/mls

# as_member CMD...: run as mlsauthz with its groups (sets OUT ERR RC)
as_member() { run setpriv --reuid="$U" --regid="$U" --init-groups "$@"; }
# as_other CMD...: a uid with no group of ours
as_other() { run setpriv --reuid=$OTHER --regid=$OTHER --clear-groups "$@"; }
mctl() { as_member "$M" ctl -s "$SV_SOCK" "$@"; }

# One raw request as the member: the reply line exactly as sent
RAW=$T/raw.py
cp "$TESTS_DIR/sockreq.py" "$RAW" # where the member may read it
chmod 644 "$RAW"
# a python3 the member may run (root's may live under /root)
PYM=
for p in /usr/bin/python3 /usr/local/bin/python3; do
	if [ -x "$p" ] && setpriv --reuid="$U" --regid="$U" --init-groups "$p" -c '' 2>/dev/null; then
		PYM=$p
		break
	fi
done
raw_member() { as_member "$PYM" "$RAW" "$SV_SOCK" "$1"; }

err_has() { grep -Eq -- "$1" "$SV_ERR"; }

READ="status, logs, history, health, config, events, version, channel"

# --------------------------------------------- control_allow: [restart, stop]

mkdir -p "$T/sd"
chmod 0711 "$T/sd"
CFG=$T/mls.yaml
write_cfg() {
	cat >"$CFG" <<EOF
state_dir: $T/sd
log_level: warn
control_group: $U
$1
services:
  web:
    command: ["sleep", "1000"]
EOF
}
write_cfg "control_allow: [restart, stop]"
sv_start "$CFG"
wait_for "web.1 running" 10 state_is web.1 running
is "$(stat -c '%a %G' "$SV_SOCK")" "660 $U" "the socket is 0660, group $U"

mctl status
is "$RC" 0 "member: ctl status: exit 0"
like "$OUT" '^web\.1 +running ' "member: ctl status shows web.1 running"
mctl --json version
is "$RC" 0 "member: ctl version: exit 0"
mctl logs web
is "$RC" 0 "member: ctl logs: exit 0"
mctl history web
is "$RC" 0 "member: ctl history: exit 0"

OLD=$(pid_of web.1)
mctl restart web
is "$RC" 0 "member: ctl restart web (in control_allow): exit 0"
like "$OUT" '^web\.1: running \(pid [0-9]+\)$' "member: ctl restart web: running with a pid"
NEW=$(pid_of web.1)
ok "$([ "$NEW" != "$OLD" ] && [ "$NEW" != null ] && echo 0 || echo 1)" "member: the restart gave web.1 a new pid"

mctl shutdown
is "$RC" 1 "member: ctl shutdown (not in control_allow): exit 1"
is "$ERR" "mls ctl: not allowed: shutdown (allowed: $READ, stop, restart)" \
	"member: ctl shutdown: the refusal, word for word"
if [ -n "$PYM" ]; then
	raw_member shutdown
	is "$OUT" "{\"ok\":false,\"error\":\"not allowed: shutdown (allowed: $READ, stop, restart)\"}" \
		"member: the shutdown reply on the wire"
else
	skip "no python3 that $U may run: the reply on the wire"
fi
ok "$(kill -0 "$SV_PID" 2>/dev/null && echo 0 || echo 1)" "the supervisor still runs"
is "$(state_of web.1) $(pid_of web.1)" "running $NEW" "web.1 untouched by the refused requests"
wait_for "the refusal is logged with the uid" 5 err_has "control request 'shutdown' refused: not allowed for uid $UID2 "

mctl start web
is "$RC" 1 "member: ctl start (not in control_allow): exit 1"
is "$ERR" "mls ctl: not allowed: start (allowed: $READ, stop, restart)" "member: ctl start: refused"
mctl signal HUP web
is "$RC" 1 "member: ctl signal: exit 1"
like "$ERR" '^mls ctl: not allowed: signal ' "member: ctl signal: refused"
mctl reload
is "$RC" 1 "member: ctl reload: exit 1"
like "$ERR" '^mls ctl: not allowed: reload ' "member: ctl reload: refused"
if [ -n "$PYM" ]; then
	raw_member "bogus"
	like "$OUT" "\"error\":\"unknown command 'bogus'" "member: an unknown command is unknown, not refused"
else
	skip "no python3 that $U may run: an unknown command"
fi
is "$(pid_of web.1)" "$NEW" "web.1 kept its pid through the refusals"

mctl stop web
is "$RC" 0 "member: ctl stop web (in control_allow): exit 0"
is "$(state_of web.1)" stopped "web.1 stopped"

# root: everything
ctl start web
is "$RC" 0 "root: ctl start web: exit 0"
is "$(state_of web.1)" running "root: web.1 running again"
ctl signal CONT web
is "$RC" 0 "root: ctl signal: exit 0"
ctl reload
is "$RC" 0 "root: ctl reload: exit 0"

# a uid outside the group cannot even connect
as_other "$M" ctl -s "$SV_SOCK" status
is "$RC" 3 "uid $OTHER (not in $U): ctl status: exit 3 (not reachable)"
like "$ERR" '[Pp]ermission denied' "uid $OTHER: permission denied"

# ------------------------------------------------- reload: control_allow: []

write_cfg "control_allow: []"
ctl reload
is "$RC" 0 "reload to control_allow: []: exit 0"
mctl restart web
is "$RC" 1 "read-only member: ctl restart: exit 1"
is "$ERR" "mls ctl: not allowed: restart (allowed: $READ)" "read-only member: the refusal lists only the read-only requests"
mctl status
is "$RC" 0 "read-only member: ctl status still works"

# ------------------------------------------ reload: no control_allow (default)

write_cfg ""
ctl reload
is "$RC" 0 "reload without control_allow: exit 0"
OLD=$(pid_of web.1)
mctl restart web
is "$RC" 0 "default: member may restart"
mctl signal CONT web
is "$RC" 0 "default: member may signal"
mctl reload
is "$RC" 0 "default: member may reload"
mctl stop web
is "$RC" 0 "default: member may stop"
mctl start web
is "$RC" 0 "default: member may start"
mctl shutdown
is "$RC" 1 "default: member may not shut down: exit 1"
is "$ERR" "mls ctl: not allowed: shutdown (allowed: $READ, start, stop, restart, signal, reload, deploy, rollback)" \
	"default: everything but shutdown"

# ---------------------- reload without control_group: the socket stays 0660

sed -i '/^control_group:/d' "$CFG"
ctl reload
is "$RC" 0 "reload without control_group: exit 0"
is "$(stat -c '%a %G' "$SV_SOCK")" "660 $U" "the socket keeps its mode and group"
mctl restart web
is "$ERR" "mls ctl: not allowed: restart (allowed: $READ)" \
	"no control_group in the config any more: a member is read-only"

# ----------------------------------------------- reload: control_allow: all

write_cfg "control_allow: all"
ctl reload
is "$RC" 0 "reload to control_allow: all: exit 0"
mctl shutdown
is "$RC" 0 "all: member: ctl shutdown: exit 0"
like "$OUT" 'the supervisor has stopped' "all: member: the supervisor has stopped"
sv_stop
is "$SV_RC" 0 "the supervisor exited 0 after the member's shutdown"

# ------------------------------ an unprivileged supervisor: its owner has all

mkdir -p "$T/sd2"
chown "$U:$U" "$T/sd2"
cat >"$T/mls2.yaml" <<EOF
state_dir: $T/sd2
log_level: warn
services:
  web:
    command: ["sleep", "1000"]
EOF
chmod 0644 "$T/mls2.yaml"
SV_SOCK=$T/sd2/mls.sock
SV_ERR=$T/sv2.err
setpriv --reuid="$U" --regid="$U" --init-groups "$M" supervise -c "$T/mls2.yaml" >"$T/sv2.out" 2>"$SV_ERR" &
SV_PID=$!
if ! poll 10 test -S "$SV_SOCK"; then
	echo "Bail out! the supervisor run as $U did not create $SV_SOCK; its stderr:"
	sed 's/^/# /' "$SV_ERR"
	exit 1
fi
is "$(stat -c '%a %U' "$SV_SOCK")" "600 $U" "owner's supervisor: the socket is 0600, owned by $U"
wait_for "owner's supervisor: web.1 running" 10 state_is web.1 running
mctl restart web
is "$RC" 0 "owner: ctl restart: exit 0"
ctl --no-wait signal CONT web
is "$RC" 0 "root on the owner's socket: ctl signal: exit 0"
mctl shutdown
is "$RC" 0 "owner: ctl shutdown: exit 0 (the socket's owner has everything)"
sv_stop
is "$SV_RC" 0 "the owner's supervisor exited 0"

# ------------------------------- the sanitizer build, server and client

if [ -n "${MLS_DEV:-}" ] && [ -x "$MLS_DEV" ] && [ "$MLS_DEV" != "$MLS" ]; then
	write_cfg "control_allow: [restart]"
	SV_PID=
	MLS=$MLS_DEV sv_start "$CFG"
	wait_for "dev: web.1 running" 20 state_is web.1 running
	as_member "$MLS_DEV" ctl -s "$SV_SOCK" shutdown
	is "$RC" 1 "dev: member: ctl shutdown refused"
	no_sanitizer_report "dev: member ctl"
	as_member "$MLS_DEV" ctl -s "$SV_SOCK" restart web
	is "$RC" 0 "dev: member: ctl restart allowed"
	sv_stop
	is "$SV_RC" 0 "dev: the supervisor exited 0"
	ERR=$(cat "$SV_ERR")
	no_sanitizer_report "dev: supervisor"
else
	skip "no \$MLS_DEV: the sanitizer pass"
fi

done_testing
