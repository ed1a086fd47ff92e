#!/usr/bin/env bash
# Services deployed from git (issue 11 §6): mls supervise with its internal
# mls-gitwatch against real repositories made here with Debian's git (a
# bare repository per case, a work clone pushing to it).
#
#   a  a path URL, autoexec.txt naming a .sh: first deploy (GIT_REVISION,
#      GIT_REF, revision in status), a new commit (new pid), a crashing
#      commit rolled back and never retried, hooks.pre_deploy (runs in the
#      new checkout; a failing one switches nothing), force-push, cleanup
#      keeps `keep`, gitwatch unprivileged (uid from /proc, file owners)
#   b  file:// and a .py that fails its tcp health check; a tag ref
#   c  interval 0: mls ctl deploy (deployed, up to date, a tag), rollback
#   d  unreachable remotes at start (waiting, others run), then the
#      repository appears and deploys
#   e  config_git: a valid commit applied, an invalid one rejected
#      (config_rejected, file:line:col), a restart boots with the last
#      applied config even with the remote gone
#   f  https:// (git http-backend behind tests/gitserver.py, a test CA):
#      ca_file right deploys, another CA "certificate not trusted"; gitwatch
#      SIGKILLed in a fetch stalled by a proxy: restarted, nothing half used
#   g  a full disk (a 4 MiB tmpfs as state_dir, root only): a commit too big
#      for it fails with the message, the running revision keeps running
#   and `mls validate` refuses an ssh URL.
# The supervisors run side by side; every wait polls a condition.
# Needs: MLS, TESTS_DIR, git, python3; openssl for https.
. "${TESTS_DIR:?}/lib.sh"

command -v git >/dev/null 2>&1 || skip_all "needs git"
have_python3 || skip_all "needs python3"
"$MLS" --version | grep -q -- '-git' && skip_all "this build has no git (NO_GIT=1)"

ROOT=
[ "$(id -u)" = 0 ] && ROOT=1
# gitwatch runs as nobody when mls is root: it must read the repositories
# and reach the state directories under $T
chmod 755 "$T"

BG_PIDS=
declare -A SUP_PID
cleanup() {
	for n in "${!SUP_PID[@]}"; do
		p=${SUP_PID[$n]}
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null
	done
	for p in $BG_PIDS; do kill "$p" 2>/dev/null; done
	for n in "${!SUP_PID[@]}"; do
		p=${SUP_PID[$n]}
		[ -n "$p" ] && wait "$p" 2>/dev/null
	done
	for p in $BG_PIDS; do wait "$p" 2>/dev/null; done
	[ -n "${G_MNT:-}" ] && umount "$G_MNT" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

export GIT_CONFIG_NOSYSTEM=1 HOME=$T GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.org \
	GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.org

# ------------------------------------------------------------- helpers

# poll, wait_for, never_within: tests/lib.sh

# repo NAME: a bare repository $T/r/NAME.git and its work clone $T/w/NAME
repo() {
	mkdir -p "$T/r" "$T/w"
	git init -q --bare -b main "$T/r/$1.git"
	git init -q -b main "$T/w/$1"
}
# push NAME MSG: commits everything in the work clone, pushes main; prints the commit
push() {
	git -C "$T/w/$1" add -A && git -C "$T/w/$1" commit -qm "$2" &&
		git -C "$T/w/$1" push -q -f "$T/r/$1.git" HEAD:main 2>/dev/null &&
		git -C "$T/w/$1" rev-parse HEAD
}
# shapp NAME TEXT [crash]: app.sh prints its revision, ref and TEXT, then
# sleeps (or exits 1 at once)
shapp() {
	printf 'app.sh\n' >"$T/w/$1/autoexec.txt"
	{
		echo 'echo "rev $GIT_REVISION ref $GIT_REF '"$2"' pwd $(pwd -P)"'
		if [ "${3:-}" = crash ]; then echo 'exit 1'; else echo 'exec sleep 1000'; fi
	} >"$T/w/$1/app.sh"
}

# sup_start NAME: mls supervise on $T/NAME/mls.yaml (state_dir $T/NAME/s)
sup_start() {
	local n=$1
	rm -f "$T/$n/s/mls.sock"
	"$MLS" supervise -c "$T/$n/mls.yaml" >>"$T/$n/sv.out" 2>>"$T/$n/sv.err" &
	SUP_PID[$n]=$!
	if ! poll 10 test -S "$T/$n/s/mls.sock"; then
		echo "Bail out! supervisor $n did not create its socket; its stderr:"
		sed 's/^/# /' "$T/$n/sv.err"
		exit 1
	fi
	# its events, for the whole run, as JSON lines
	"$MLS" ctl -s "$T/$n/s/mls.sock" --json events >>"$T/$n/events" 2>/dev/null &
	BG_PIDS="$BG_PIDS $!"
	poll 5 grep -qs '"ok":true' "$T/$n/events"
}
sup_stop() { # sup_stop NAME: SIGTERM, waits; sets SUP_RC
	local p=${SUP_PID[$1]}
	kill -TERM "$p" 2>/dev/null
	poll 20 eval "! kill -0 $p 2>/dev/null"
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	SUP_RC=$?
	SUP_PID[$1]=
}
c() { local n=$1; shift; run "$MLS" ctl -s "$T/$n/s/mls.sock" "$@"; }

# f SUP INST KEY[.KEY]: a field of the instance's status entry ("null": none)
f() {
	"$MLS" ctl -s "$T/$1/s/mls.sock" --json status 2>/dev/null | python3 -c '
import json, sys
inst, path = sys.argv[1], sys.argv[2]
d = json.load(sys.stdin)
for s in d["services"]:
    if "%s.%d" % (s["name"], s["instance"]) == inst:
        v = s
        for k in path.split("."):
            v = v.get(k) if isinstance(v, dict) else None
        print("null" if v is None else (str(v).lower() if isinstance(v, bool) else v))
        break
else:
    print("absent")
' "$2" "$3"
}
f_is() { [ "$(f "$1" "$2" "$3")" = "$4" ]; }
f_like() { f "$1" "$2" "$3" | grep -Eq -- "$4"; }
running() { f_is "$1" "$2" state running; }
pid_not() { local p; p=$(f "$1" "$2" pid); [ -n "$p" ] && [ "$p" != null ] && [ "$p" != "$3" ]; }

# ev SUP PYEXPR: some event e of the supervisor satisfies PYEXPR
ev() {
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if "event" in e and eval(sys.argv[2]):
        sys.exit(0)
sys.exit(1)' "$T/$1/events" "$2"
}
# evjson SUP PYEXPR: the last such event, as JSON
evjson() {
	python3 -c '
import json, sys
last = ""
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if "event" in e and eval(sys.argv[2]):
        last = line.strip()
print(last)' "$T/$1/events" "$2"
}
nlines() { "$MLS" ctl -s "$T/$1/s/mls.sock" logs -n 10000 "$2" 2>/dev/null | grep -Ec -- "$3"; }
log_has() { [ "$(nlines "$1" "$2" "$3")" -gt 0 ]; }
current_of() { readlink "$T/$1/s/git/$2/current"; }
revs_of() { (cd "$T/$1/s/git/$2" && ls -d rev-* 2>/dev/null | sort | tr '\n' ' '); }

# ----------------------------------------------- the repositories

repo sh
shapp sh v1
A1=$(push sh one)
git -C "$T/w/sh" tag v1

repo py
printf '# the entry point\napp.py\n' >"$T/w/py/autoexec.txt"
cat >"$T/w/py/app.py" <<'EOF'
import os, socket, sys, time
print("py rev %s ref %s good" % (os.environ["GIT_REVISION"], os.environ.get("GIT_REF")), flush=True)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(os.environ["PORT"])))
s.listen(8)
while True:
    s.accept()[0].close()
EOF
B1=$(push py one)

repo tag
shapp tag tagged
T1=$(push tag one)
git -C "$T/w/tag" tag v1 && git -C "$T/w/tag" push -q "$T/r/tag.git" v1 2>/dev/null
shapp tag main-moved
T2=$(push tag two)

repo man
shapp man m1
M1=$(push man one)
git -C "$T/w/man" tag m1 && git -C "$T/w/man" push -q "$T/r/man.git" m1 2>/dev/null

repo cfg
cat >"$T/w/cfg/mls.yaml" <<'EOF'
services:
  fromgit:
    command: ["sleep", "1001"]
EOF
G1=$(push cfg one)

# ----------------------------------------------- the supervisors

mkdir -p "$T/a" "$T/b" "$T/c" "$T/d" "$T/e" "$T/f"
cat >"$T/pre.sh" <<'EOF'
echo "pre_deploy in $(pwd -P) for $GIT_REVISION"
test ! -e no-deploy || { echo "pre_deploy: no-deploy is there"; exit 1; }
EOF
cat >"$T/a/mls.yaml" <<EOF
state_dir: $T/a/s
services:
  sh:
    git: {url: $T/r/sh.git, interval: 1s, verify_window: 2s, keep: 2}
    restart_backoff: {initial: 100ms, max: 200ms}
    restart_limit: {count: 100, window: 60s}
    hooks:
      pre_deploy: ["sh", "$T/pre.sh"]
  other:
    command: ["sleep", "1000"]
EOF
cat >"$T/b/mls.yaml" <<EOF
state_dir: $T/b/s
services:
  py:
    git: {url: "file://$T/r/py.git", interval: 1s, verify_window: 2s}
    port: auto
    restart_backoff: {initial: 100ms, max: 200ms}
    restart_limit: {count: 100, window: 60s}
    healthcheck:
      tcp: "127.0.0.1:\${PORT}"
      interval: 200ms
      timeout: 200ms
      retries: 2
  tag:
    git: {url: $T/r/tag.git, ref: v1, interval: 1s, verify_window: 2s}
EOF
cat >"$T/c/mls.yaml" <<EOF
state_dir: $T/c/s
services:
  man:
    git: {url: $T/r/man.git, interval: 0, verify_window: 2s}
EOF
cat >"$T/d/mls.yaml" <<EOF
state_dir: $T/d/s
services:
  late:
    git: {url: $T/r/late.git, interval: 1s, verify_window: 2s}
  down:
    git: {url: "http://127.0.0.1:1/x.git", interval: 1s}
  other:
    command: ["sleep", "1000"]
EOF
cat >"$T/e/mls.yaml" <<EOF
state_dir: $T/e/s
config_git: {url: "file://$T/r/cfg.git", interval: 1s}
services:
  base:
    command: ["sleep", "1000"]
EOF

for n in a b c d e; do sup_start $n; done

# ================================================================ d
# first: the retry backoff (1s, 2s, 4s...) is still short
wait_for "d: a missing repository: the service waits" 10 f_is d late.1 state waiting
wait_for "d: ... with the reason in its status" 10 f_like d late.1 reason "^failed: fetch: no repository at $T/r/late\\.git"
like "$(f d late.1 git.phase)/$(f d late.1 git.message)" "^failed/fetch: no repository at $T/r/late\\.git: No such file" "d: ... status git: phase failed, the message"
wait_for "d: an unreachable http remote: waiting with the reason" 10 f_like d down.1 reason '^failed: fetch: .*(127\.0\.0\.1|refused)'
is "$(f d other.1 state)" running "d: the other service runs meanwhile"
wait_for "d: ... gitwatch retries the remote that is down" 10 eval '[ "$(nlines d mls-gitwatch "down: deploy failed")" -ge 3 ]'
is "$(grep -c 'warn: down: deploy failed' "$T/d/sv.err")" 1 "d: ... one deploy_failed event for it, not one per retry"
repo late
shapp late now-here
L1=$(push late one)
wait_for "d: the repository appears: retried (backoff) and deployed" 20 ev d "e['event'] == 'deployed' and e['revision'] == '$L1'"
is "$(f d late.1 state)" running "d: ... it runs"
wait_for "d: ... its output" 5 log_has d late "rev $L1 ref main now-here"
is "$(f d other.1 restarts)/$(f d other.1 state)" "0/running" "d: the other service untouched"
is "$(f d down.1 state)" waiting "d: the one whose remote is down still waits"

# ================================================================ a
wait_for "a: the .sh service runs its first revision" 15 f_is a sh.1 revision "$A1"
is "$(f a sh.1 state)" running "a: ... running"
wait_for "a: ... verified: event deployed" 10 ev a "e['event'] == 'deployed' and e['revision'] == '$A1'"
is "$(f a sh.1 deploy)" "deployed ${A1:0:7}" "a: status deploy: deployed SHORT"
is "$(f a sh.1 git.phase)/$(f a sh.1 git.ref)/$(f a sh.1 git.url)" "deployed/main/$T/r/sh.git" "a: status git: phase, ref, url"
wait_for "a: its output shows GIT_REVISION and GIT_REF" 5 log_has a sh "rev $A1 ref main v1 pwd $T/a/s/git/sh/rev-$A1\$"
like "$(current_of a sh)" "^rev-$A1\$" "a: current -> rev-SHA"
wait_for "a: pre_deploy ran in the new checkout with GIT_REVISION, its output in the service's log" 5 \
	log_has a sh "pre_deploy in $T/a/s/git/sh/rev-$A1 for $A1\$"
# (its event came before the test's event reader: the supervisor's log line)
like "$(cat "$T/a/sv.err")" "sh: pre_deploy for ${A1:0:12} exited with status 0" "a: pre_deploy ok (the event's log line)"

# gitwatch unprivileged
GWPID=$(f a mls-gitwatch.1 pid)
GWUID=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$GWPID/status" 2>/dev/null)
if [ -n "$ROOT" ]; then
	like "$GWUID" '^[1-9][0-9]* [1-9][0-9]* [1-9][0-9]* [1-9][0-9]*$' "a: mls runs as root, mls-gitwatch (pid $GWPID) does not: real, effective, saved, fs uid ($GWUID)"
	U=${GWUID%% *}
	is "$(find "$T/a/s/git" ! -uid "$U" | head -5)" "" "a: everything under git/ belongs to that uid ($U)"
	is "$(stat -c %a "$T/a/s/git")" 755 "a: git/ is 0755"
	is "$(awk '/^CapEff:/ { print $2 }' "/proc/$GWPID/status")" 0000000000000000 "a: no capabilities left"
else
	skip "gitwatch's privilege drop: mls is not root here"
fi

# a new commit
P1=$(f a sh.1 pid)
shapp sh v2
A2=$(push sh two)
wait_for "a: a new commit runs (revision in status)" 10 f_is a sh.1 revision "$A2"
wait_for "a: ... in a new process" 5 pid_not a sh.1 "$P1"
wait_for "a: ... whose output shows the new revision" 5 log_has a sh "rev $A2 ref main v2"
wait_for "a: ... verified: deployed" 10 ev a "e['event'] == 'deployed' and e['revision'] == '$A2'"
P2=$(f a sh.1 pid)

# a commit that exits 1 at once
shapp sh v3 crash
A3=$(push sh three-crashes)
wait_for "a: a crashing commit is started" 10 log_has a sh "rev $A3 ref main v3"
wait_for "a: ... and rolled back within the window: event rolled_back" 10 \
	ev a "e['event'] == 'rolled_back' and e['from'] == '$A3' and e['revision'] == '$A2'"
E=$(evjson a "e['event'] == 'rolled_back'")
like "$E" '"message":"crashed twice: exited with status 1"' "a: ... the event says why"
wait_for "a: the old revision runs again" 5 f_is a sh.1 revision "$A2"
wait_for "a: ... running" 5 running a sh.1
is "$(f a sh.1 deploy)" "rolled back from ${A3:0:7}: crashed twice: exited with status 1" "a: status deploy: rolled back from BAD: reason"
is "$(f a sh.1 git.phase)/$(f a sh.1 git.from)" "rolled_back/$A3" "a: status git: phase rolled_back, from the bad commit"
like "$(current_of a sh)" "^rev-$A2\$" "a: current -> the old revision"
N2=$(nlines a sh "rev $A2 ref main v2")
ok $((N2 >= 2 ? 0 : 1)) "a: the old revision's output again ($N2 starts)"
P2b=$(f a sh.1 pid)
N3=$(nlines a sh "rev $A3 ")
never_within "a: the bad commit is not retried over 3 polls" 3 eval '[ "$(nlines a sh "rev $A3 ")" -gt '"$N3"' ]'
is "$(f a sh.1 pid)" "$P2b" "a: ... the old revision keeps running (same pid)"
is "$(nlines a mls-gitwatch "fetched ${A3:0:7}")" 1 "a: ... fetched once as a candidate"

# pre_deploy fails: nothing switches
shapp sh v4
echo stop >"$T/w/sh/no-deploy"
A4=$(push sh four-pre-deploy-fails)
wait_for "a: a failing pre_deploy: event deploy_failed" 10 \
	ev a "e['event'] == 'deploy_failed' and 'pre_deploy failed: exited with status 1' in (e['message'] or '')"
like "$(evjson a "e['event'] == 'pre_deploy' and e['revision'] == '$A4'")" '"ok":false,"exit_code":1' "a: ... event pre_deploy ok false, exit code 1"
wait_for "a: ... the hook's output in the log" 5 log_has a sh "pre_deploy: no-deploy is there"
like "$(current_of a sh)" "^rev-$A2\$" "a: ... current unchanged"
is "$(f a sh.1 revision)" "$A2" "a: ... revision unchanged"
is "$(f a sh.1 pid)" "$P2b" "a: ... same pid"
is "$(nlines a sh "rev $A4 ")" 0 "a: ... the commit never started"

# a later good commit deploys
rm "$T/w/sh/no-deploy"
shapp sh v5
A5=$(push sh five)
wait_for "a: a later good commit deploys" 15 ev a "e['event'] == 'deployed' and e['revision'] == '$A5'"
is "$(f a sh.1 revision)/$(f a sh.1 state)" "$A5/running" "a: ... runs"
wait_for "a: ... its output" 5 log_has a sh "rev $A5 ref main v5"
# keep 2: recent is A5 A3 A2 A1 (A4 never switched); A3 is marked bad and
# does not count (nothing would roll back to it): A5 and A2 stay
is "$(revs_of a sh)" "$(printf 'rev-%s\n' "$A5" "$A2" | sort | tr '\n' ' ')" \
	"a: cleanup: the newest 2 good ones (A5, A2); the bad A3, A1 and the never switched A4 removed"

# force-push main to a commit that does not descend from what runs
git -C "$T/w/sh" reset -q --hard "$A1"
shapp sh forced
AF=$(push sh forced)
wait_for "a: a force-pushed branch deploys" 15 ev a "e['event'] == 'deployed' and e['revision'] == '$AF'"
wait_for "a: ... its output" 5 log_has a sh "rev $AF ref main forced"
is "$(revs_of a sh)" "$(printf 'rev-%s\n' "$AF" "$A5" | sort | tr '\n' ' ')" "a: cleanup keeps keep=2 revisions: current (forced) and the last good before it"
is "$(f a other.1 restarts)" 0 "a: the other service was never touched"

# ================================================================ b
wait_for "b: the .py service (file://) runs" 15 f_is b py.1 revision "$B1"
wait_for "b: ... healthy and deployed" 10 ev b "e['event'] == 'deployed' and e['revision'] == '$B1'"
is "$(f b py.1 health)" healthy "b: ... healthy"
wait_for "b: ... python3 app.py printed its revision" 5 log_has b py "py rev $B1 ref main good"
PB=$(f b py.1 pid)
sed -i 's/^s.bind.*/pass  # listens nowhere/; s/good"/deaf"/' "$T/w/py/app.py"
B2=$(push py two-deaf)
wait_for "b: a commit that starts but fails its health check is started" 10 log_has b py "py rev $B2 ref main deaf"
wait_for "b: ... and rolled back" 15 ev b "e['event'] == 'rolled_back' and e['from'] == '$B2' and e['revision'] == '$B1'"
like "$(evjson b "e['event'] == 'rolled_back'")" '"message":"unhealthy: ' "b: ... because it was unhealthy"
wait_for "b: ... the good revision runs again, healthy" 10 eval 'f_is b py.1 revision "$B1" && f_is b py.1 health healthy'
like "$(f b py.1 pid)" '^[0-9]+$' "b: ... in a process"
unlike "$(f b py.1 pid)" "^$PB\$" "b: ... a new one"

# a tag ref
wait_for "b: ref: v1 (a tag) runs the tag's commit, not main's" 15 f_is b tag.1 revision "$T1"
is "$(f b tag.1 git.ref)" v1 "b: ... status git.ref v1"
wait_for "b: ... GIT_REF=v1 in its environment" 5 log_has b tag "rev $T1 ref v1 tagged"
is "$(nlines b tag "main-moved")" 0 "b: ... main's head never ran"

# ================================================================ c
wait_for "c: interval 0 still deploys the first revision" 15 ev c "e['event'] == 'deployed' and e['revision'] == '$M1'"
shapp man m2
M2=$(push man two)
never_within "c: interval 0: a new commit is not fetched by itself" 2 f_is c man.1 revision "$M2"
c c deploy man
is "$RC" 0 "c: mls ctl deploy man: exit 0"
like "$OUT" "man: deployed ${M2:0:12}" "c: ... says deployed"
is "$(f c man.1 revision)" "$M2" "c: ... the new revision runs"
wait_for "c: ... its output" 5 log_has c man "rev $M2 ref main m2"
c c deploy man
is "$RC" 0 "c: deploy again: exit 0"
like "$OUT" "man: up to date \(${M2:0:12}\)" "c: ... up to date"
c c deploy man m1
is "$RC" 0 "c: mls ctl deploy man m1 (a tag): exit 0"
like "$OUT" "man: deployed ${M1:0:12}" "c: ... deployed the tag's commit"
is "$(f c man.1 revision)/$(f c man.1 git.ref)" "$M1/m1" "c: ... revision and ref m1"
wait_for "c: ... GIT_REF=m1" 5 log_has c man "rev $M1 ref m1 m1"
c c rollback man
like "$OUT" "man: rolled back from ${M1:0:12} to ${M2:0:12}: rolled back by hand" "c: mls ctl rollback man: back to the previous good revision"
is "$RC" 0 "c: ... exit 0 (the rollback asked for happened)"
is "$(f c man.1 revision)/$(f c man.1 state)" "$M2/running" "c: ... it runs"
is "$(f c man.1 deploy)" "rolled back from ${M1:0:7}: rolled back by hand" "c: ... status says so"
c c --timeout 10s rollback man
is "$RC" 1 "c: rollback again, nothing earlier that is good: exit 1"
like "$OUT" "man: deploy failed: .*no earlier good revision" "c: ... says so (an outcome, no wait for the timeout)"
is "$(f c man.1 revision)" "$M2" "c: ... nothing changed"
c c --no-wait deploy man
is "$RC/$OUT" "0/man: deploy requested" "c: --no-wait: only the request"
c c deploy nosuch
is "$RC" 1 "c: deploy of an unknown service: exit 1"

# ================================================================ e
wait_for "e: config_git: the repository's service is applied" 15 running e fromgit.1
is "$(f e base.1 state)" running "e: ... beside the local file's"
PF=$(f e fromgit.1 pid)
cat >>"$T/w/cfg/mls.yaml" <<'EOF'
  added:
    command: ["sleep", "1002"]
EOF
G2=$(push cfg two)
wait_for "e: a valid commit adding a service: it runs" 15 running e added.1
is "$(f e fromgit.1 pid)" "$PF" "e: ... the unchanged one keeps its process"
like "$(readlink "$T/e/s/git/.config/current")" "^rev-$G2\$" "e: ... .config/current -> the applied commit"
cat >>"$T/w/cfg/mls.yaml" <<'EOF'
  broken:
    command: ["sleep", "1003"]
    restart: sometimes
EOF
G3=$(push cfg three-invalid)
wait_for "e: an invalid commit: event config_rejected" 15 ev e "e['event'] == 'config_rejected' and e.get('revision') == '$G3'"
E=$(evjson e "e['event'] == 'config_rejected'")
like "$E" 'mls\.yaml:[0-9]+:[0-9]+' "e: ... its errors carry file:line:col"
like "$E" 'sometimes' "e: ... and say what is wrong"
is "$(f e broken.1 state)" absent "e: ... nothing applied"
is "$(f e added.1 state)/$(f e fromgit.1 pid)" "running/$PF" "e: ... the services keep running"
like "$(readlink "$T/e/s/git/.config/current")" "^rev-$G2\$" "e: ... .config/current unchanged"
never_within "e: ... not tried again" 2 eval '[ "$(grep -c config_rejected "$T/e/events")" -gt 1 ]'
c e shutdown
sup_stop e
is "$SUP_RC" 0 "e: shutdown: exit 0"
mv "$T/r/cfg.git" "$T/r/cfg-away.git"
: >"$T/e/events"
sup_start e
wait_for "e: a restart (the remote gone) boots with the last applied git config" 10 running e added.1
is "$(f e fromgit.1 state)/$(f e broken.1 state)" "running/absent" "e: ... that config, not the rejected one"

# ================================================================ ssh
cat >"$T/ssh.yaml" <<EOF
services:
  s:
    git: {url: "git@example.org:team/app.git"}
  t:
    git: {url: "ssh://example.org/app.git"}
EOF
run "$MLS" validate "$T/ssh.yaml"
is "$RC" 1 "validate: an ssh URL is refused"
like "$ERR$OUT" "ssh\.yaml:3:[0-9]+: .*'git@example.org:team/app.git': ssh is not supported" "... scp-like, with file:line:col and the reason"
like "$ERR$OUT" "ssh\.yaml:5:[0-9]+: .*ssh is not supported" "... ssh:// too"

# ================================================================ f
if ! command -v openssl >/dev/null 2>&1; then
	skip "https and the kill in a fetch: need openssl"
	done_testing
fi
X=$T/certs
mkdir -p "$X"
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
# shellcheck disable=SC2086
if openssl req -x509 $ec -keyout "$X/ca.key" -out "$X/ca.pem" -days 2 -subj "/CN=mls test CA" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$X/err" &&
	openssl req -x509 $ec -keyout "$X/other.key" -out "$X/other.pem" -days 2 -subj "/CN=another CA" \
		-addext "basicConstraints=critical,CA:TRUE" 2>>"$X/err" &&
	openssl req $ec -keyout "$X/srv.key" -out "$X/srv.csr" -subj "/CN=localhost" 2>>"$X/err" &&
	printf '%s\n' "subjectAltName=DNS:localhost" "basicConstraints=CA:FALSE" \
		"extendedKeyUsage=serverAuth" >"$X/ext.cnf" &&
	openssl x509 -req -in "$X/srv.csr" -CA "$X/ca.pem" -CAkey "$X/ca.key" \
		-CAcreateserial -out "$X/srv.pem" -days 2 -extfile "$X/ext.cnf" 2>>"$X/err"
then
	ok 0 "f: openssl made a test CA and a server certificate"
else
	ok 1 "f: openssl made a test CA and a server certificate"
	sed 's/^/# /' "$X/err"
fi
chmod 644 "$X"/*.pem

serve() { # serve PORTFILE [CERT KEY]: tests/gitserver.py on $T/r; PORT
	python3 "$TESTS_DIR/gitserver.py" "$T/r" "$@" 2>"$1.err" &
	BG_PIDS="$BG_PIDS $!"
	poll 10 test -s "$1"
	PORT=$(cat "$1" 2>/dev/null)
}
serve "$T/https.port" "$X/srv.pem" "$X/srv.key"
SPORT=$PORT
serve "$T/http.port"
HPORT=$PORT
# a proxy in front of the http server: while $T/stall exists it accepts,
# says so in $T/stalled, and never answers
cat >"$T/stall.py" <<'EOF'
import os, socket, sys, threading, time
dir_, upstream = sys.argv[1], int(sys.argv[2])
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0)); ls.listen(16)
def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try: s.shutdown(socket.SHUT_RDWR)
        except OSError: pass
held = []
def serve(c):
    if os.path.exists(dir_ + "/stall"):
        held.append(c)
        with open(dir_ + "/stalled", "a") as f:
            f.write("x\n")
        return
    u = socket.create_connection(("127.0.0.1", upstream))
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c), daemon=True).start()
def release():
    # the stall ends: the held connections are closed (the fetch fails now
    # instead of at its timeout)
    while True:
        time.sleep(0.1)
        if not os.path.exists(dir_ + "/stall"):
            while held:
                held.pop().close()
threading.Thread(target=release, daemon=True).start()
open(dir_ + "/stall.port.tmp", "w").write(str(ls.getsockname()[1]))
os.rename(dir_ + "/stall.port.tmp", dir_ + "/stall.port")
while True:
    c, _ = ls.accept()
    serve(c)
EOF
python3 "$T/stall.py" "$T" "$HPORT" 2>"$T/stall.err" &
BG_PIDS="$BG_PIDS $!"
poll 10 test -s "$T/stall.port"
STPORT=$(cat "$T/stall.port")

repo tls
shapp tls over-https
S1=$(push tls one)
repo slow
shapp slow s1
W1=$(push slow one)
cat >"$T/f/mls.yaml" <<EOF
state_dir: $T/f/s
services:
  tls:
    git: {url: "https://localhost:$SPORT/tls.git", ca_file: $X/ca.pem, interval: 1s, verify_window: 2s}
  tlsbad:
    git: {url: "https://localhost:$SPORT/tls.git", ca_file: $X/other.pem, interval: 1s}
  slow:
    git: {url: "http://127.0.0.1:$STPORT/slow.git", interval: 1s, verify_window: 2s}
  other:
    command: ["sleep", "1000"]
EOF
sup_start f
wait_for "f: https:// with the right CA deploys" 15 ev f "e['event'] == 'deployed' and e['revision'] == '$S1'"
wait_for "f: ... its output" 5 log_has f tls "rev $S1 ref main over-https"
wait_for "f: https:// with another CA: waiting, 'certificate not trusted'" 10 f_like f tlsbad.1 git.message 'certificate not trusted'
is "$(f f tlsbad.1 state)" waiting "f: ... the service waits"
wait_for "f: http:// through the proxy deploys" 15 ev f "e['event'] == 'deployed' and e['revision'] == '$W1'"
PW=$(f f slow.1 pid)
PO=$(f f other.1 pid)
G1PID=$(f f mls-gitwatch.1 pid)

# stall the remote, push: gitwatch blocks in the fetch; a leftover .tmp
# checkout as a killed checkout would leave one (the stall proxy closes
# what it holds when the stall ends)
touch "$T/stall"
shapp slow s2
W2=$(push slow two)
wait_for "f: gitwatch is in a fetch the remote stalls" 10 test -s "$T/stalled"
mkdir -p "$T/f/s/git/slow/rev-$W2.tmp" && echo half >"$T/f/s/git/slow/rev-$W2.tmp/app.sh"
chown -R --reference="$T/f/s/git/slow" "$T/f/s/git/slow/rev-$W2.tmp"
kill -KILL "$G1PID"
wait_for "f: SIGKILLed: supervise starts mls-gitwatch again" 15 eval 'pid_not f mls-gitwatch.1 "$G1PID" && running f mls-gitwatch.1'
wait_for "f: ... the new one removes the leftover rev-*.tmp" 10 eval '! test -e "$T/f/s/git/slow/rev-$W2.tmp"'
like "$(current_of f slow)" "^rev-$W1\$" "f: ... current still -> the old revision"
is "$(f f slow.1 revision)/$(f f slow.1 pid)/$(f f slow.1 state)" "$W1/$PW/running" "f: ... the service keeps its revision and its process"
is "$(f f other.1 pid)" "$PO" "f: ... the other service untouched"
rm -f "$T/stall"
wait_for "f: the remote answers again: the new commit deploys" 40 ev f "e['event'] == 'deployed' and e['revision'] == '$W2'"
wait_for "f: ... its output" 5 log_has f slow "rev $W2 ref main s2"

# ------------------------------------------------------------ g: full disk
if [ -z "$ROOT" ]; then
	skip "g: a full disk needs root (a small tmpfs as state_dir)"
else
	mkdir -p "$T/g/s"
	mount -t tmpfs -o size=4m,mode=0755 mls-test "$T/g/s" && G_MNT=$T/g/s
	repo big
	shapp big small
	B1=$(push big one)
	printf 'state_dir: %s\nservices:\n  big:\n    git: {url: %s, interval: 1s, verify_window: 1s}\n' \
		"$T/g/s" "$T/r/big.git" >"$T/g/mls.yaml"
	sup_start g
	wait_for "g: a small first revision deploys on the 4 MiB state_dir" 20 ev g "e['event'] == 'deployed' and e['revision'] == '$B1'"
	PB=$(f g big.1 pid)
	head -c 6000000 /dev/urandom >"$T/w/big/blob.bin"
	B2=$(push big big)
	wait_for "g: a commit larger than the disk: deploy_failed" 30 ev g "e['event'] == 'deploy_failed'"
	like "$(evjson g "e['event'] == 'deploy_failed'")" 'space|ENOSPC|disk' "g: ... the message says the disk is full"
	is "$(current_of g big)/$(f g big.1 revision)/$(f g big.1 pid)/$(f g big.1 state)" "rev-$B1/$B1/$PB/running" \
		"g: ... nothing switched: current, revision and process as they were"
	never_within "g: ... and it never starts" 2 ev g "e['event'] == 'deployed' and e['revision'] == '$B2'"
fi

for n in a b c d e f ${G_MNT:+g}; do
	c $n shutdown
	sup_stop $n
	is "$SUP_RC" 0 "$n: shutdown: exit 0"
	unlike "$(cat "$T/$n/sv.err")" '(ERROR: AddressSanitizer|runtime error:)' "$n: no sanitizer report"
done

done_testing
