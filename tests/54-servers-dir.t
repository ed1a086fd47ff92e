#!/usr/bin/env bash
# servers_dir (docs/servers-dir.md): every entry of a directory becomes a
# service. Real supervisor, real HTTP servers on the ports mls gives them
# (curl asks each one), real files changed under a running supervisor
# (inotify); every wait is a poll on a condition with a timeout, and the
# few never_within checks prove that something does NOT happen (1-2 s,
# several times the 300 ms debounce window). The two pacing sleeps are
# the slow writers' (a file copied in chunks), not waits.
# Needs: MLS, TESTS_DIR, python3, curl; MLS_DEV (the sanitizer build) for
# the last part.
. "${TESTS_DIR:?}/lib.sh"
. "$TESTS_DIR/sv.sh"

have_python3 || skip_all "needs python3"
command -v curl >/dev/null 2>&1 || skip_all "needs curl"

# count FILE ERE: how many lines of FILE match
count() { grep -Ec -- "$2" "$1" 2>/dev/null; }
# absent NAME.N: the supervisor answers, and the instance is not in its status
absent() {
	local j
	j=$("$MLS" ctl -s "$SV_SOCK" --json status 2>/dev/null) || return 1
	printf '%s' "$j" | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(1 if any("%s.%d" % (s["name"], s["instance"]) == sys.argv[1] for s in d["services"]) else 0)' "$1"
}
dead() { ! kill -0 "$1" 2>/dev/null; }
# trigger_of ERE: the "...: reloading" line that came before the first log line matching ERE
trigger_of() { awk -v re="$1" '/: reloading$/ { t = $0 } $0 ~ re { print t; exit }' "$SV_ERR"; }
pid_changed() { local p; p=$(pid_of "$1"); [ -n "$p" ] && [ "$p" != null ] && [ "$p" != "$2" ] && state_is "$1" running; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# get NAME.N: the body the instance's HTTP server answers on its port
get() {
	local p
	p=$(field_of "$1" port)
	case $p in '' | null) return 1 ;; esac
	curl -s --max-time 2 "http://127.0.0.1:$p/" 2>/dev/null
}
# serves NAME.N ERE: it runs and its answer matches ERE
serves() { state_is "$1" running && get "$1" | grep -Eq -- "$2"; }

# snap [NAME...]: "name.N=pid" of every instance but those of NAME...
snap() {
	"$MLS" ctl -s "$SV_SOCK" --json status 2>/dev/null | python3 -c '
import json, sys
skip = set(sys.argv[1:])
for s in json.load(sys.stdin)["services"]:
    if s["name"] not in skip:
        print("%s.%d=%s" % (s["name"], s["instance"], s["pid"]))' "$@"
}
# names: the service names in status, sorted, one line
names() {
	"$MLS" ctl -s "$SV_SOCK" --json status 2>/dev/null |
		python3 -c 'import json, sys; print(" ".join(sorted(s["name"] for s in json.load(sys.stdin)["services"])))'
}
# snap_changed SNAP NAME...: the instances (but NAME...) differ from SNAP
snap_changed() { local s=$1; shift; [ "$(snap "$@")" != "$s" ]; }

# pysrv TAG argv|env: a tiny HTTP server on the port in its last argument
# (port_arg) or in $PORT; it answers with what it knows
pysrv() {
	cat <<EOF
import http.server, os, sys
TAG = "$1"
PORT = int(sys.argv[-1]) if "$2" == "argv" else int(os.environ["PORT"])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        e = lambda k: os.environ.get(k, "-")
        b = ("%s port=%d env_port=%s greeting=%s who=%s layer=%s defonly=%s args=%s cwd=%s\n" % (TAG, PORT,
             e("PORT"), e("GREETING"), e("WHO"), e("LAYER"), e("DEFONLY"), ",".join(sys.argv[1:]),
             os.path.basename(os.getcwd()))).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
print("start", TAG, flush=True)
http.server.HTTPServer(("127.0.0.1", PORT), H).serve_forever()
EOF
}

C=$T/c
S=$C/servers
mkdir -p "$S"
cd "$C" || exit 1
FIXED=$(free_port)

# ---- the entries: one of each kind, ignored ones, name clashes
pysrv hello argv >"$S/hello.py"                      # script, port in argv[1]
pysrv envport env >"$S/envport.py"                   # script, port in $PORT
{ echo '#!/usr/bin/env python3'; pysrv bigapp argv; } >"$S/Big App" # executable
chmod +x "$S/Big App"
{ echo '#!/nonexistent/interpreter'; pysrv shebang argv; } >"$S/shebang.py" # exec bit, but .py wins
chmod +x "$S/shebang.py"
pysrv page argv >"$S/page.web"                       # interpreters: {".web": python3}
printf 'exec python3 -m http.server --bind 127.0.0.1 "$1"\n' >"$S/up.cmd" # {".cmd": [sh, -e]}
printf 'echo once-ran\nexit 0\n' >"$S/once.sh"       # restart: on-failure from servers_defaults
mkdir -p "$S/yamlone" "$S/pair" "$S/autox" "$S/runit" "$S/empty"
pysrv yamlone env >"$S/yamlone/srv.py"
cat >"$S/yamlone/mls.yaml" <<EOF
command: [python3, srv.py]
port: $FIXED
environment: {WHO: yaml}
EOF
pysrv pair argv >"$S/pair/srv.py"
cat >"$S/pair/mls.yaml" <<'EOF'
services:
  pair-a:
    command: [python3, srv.py, a, "${PORT}"]
  pair-b:
    command: [python3, srv.py, b, "${PORT}"]
EOF
pysrv autox argv >"$S/autox/main.py"
printf '# the entry point\n\nmain.py --tag autox\n' >"$S/autox/autoexec.txt"
{ echo '#!/usr/bin/env python3'; pysrv runit env; } >"$S/runit/run"
chmod +x "$S/runit/run"
echo x >"$S/runit/notes.txt"
echo '# docs' >"$S/README.md"
echo 'console.log(1)' >"$S/lib.js"                   # .js: null in interpreters
echo x >"$S/old.py~"
echo x >"$S/.hidden.py"
echo x >"$S/off.py.disabled"
echo x >"$S/app.py.swp"
echo x >"$S/new.py.tmp"
echo x >"$S/b.py.orig"
echo x >"$S/save.py.bak"
echo x >"$S/data"                                    # no extension, not executable
pysrv app-py argv >"$S/app.py"                       # app.py + app.sh: a clash
printf 'exec sleep 1000\n' >"$S/app.sh"
pysrv web-py argv >"$S/web.py"                       # web is a configured service

cat >"$C/mls.yaml" <<EOF
state_dir: $T/s
servers_dir: servers/
defaults:
  environment: {LAYER: defaults, DEFONLY: d}
servers_defaults:
  port_arg: true
  restart: on-failure
  restart_backoff: {initial: 100ms}
  environment: {GREETING: hello, LAYER: servers}
  interpreters: {".web": python3, ".cmd": [sh, -e], ".js": null}
services:
  web:
    command: [sleep, "1000"]
  keeper:
    command: [sleep, "1000"]
EOF
WEBLINE=$(grep -n '^  web:' "$C/mls.yaml" | cut -d: -f1)
KEEPLINE=$(grep -n '^  keeper:' "$C/mls.yaml" | cut -d: -f1)

# ======================================================= validate

run "$MLS" validate -c mls.yaml
is "$RC" 1 "validate: name clashes are errors (exit 1)"
like "$ERR" "^servers/web\.py: error: the service name 'web' is taken by the service defined at mls\.yaml:$WEBLINE:3\$" \
	"validate: an entry named like a configured service: the error names where that one is defined"
like "$ERR" "^servers/app\.py: error: the service name 'app' comes from both servers/app\.py and servers/app\.sh\$" \
	"validate: app.py + app.sh: an error for app.py"
like "$ERR" "^servers/app\.sh: error: the service name 'app' comes from both servers/app\.py and servers/app\.sh\$" \
	"validate: ... and one for app.sh"
like "$ERR" "^3 errors, 0 warnings\$" "validate: exactly those three errors, no warning"
V=$OUT
for l in \
	'servers/hello.py: service hello (script): python3 hello.py ${PORT} (in servers, port auto)' \
	'servers/envport.py: service envport (script): python3 envport.py ${PORT} (in servers, port auto)' \
	'servers/Big App: service big-app (executable): ./Big App ${PORT} (in servers, port auto)' \
	'servers/shebang.py: service shebang (script): python3 shebang.py ${PORT} (in servers, port auto)' \
	'servers/page.web: service page (script): python3 page.web ${PORT} (in servers, port auto)' \
	'servers/up.cmd: service up (script): sh -e up.cmd ${PORT} (in servers, port auto)' \
	'servers/once.sh: service once (script): sh once.sh ${PORT} (in servers, port auto)' \
	"servers/yamlone: service yamlone (mls.yaml): python3 srv.py (in servers/yamlone, port $FIXED)" \
	'servers/pair: service pair-a (mls.yaml): python3 srv.py a ${PORT} (in servers/pair, port auto)' \
	'servers/pair: service pair-b (mls.yaml): python3 srv.py b ${PORT} (in servers/pair, port auto)' \
	'servers/autox: service autox (autoexec.txt): python3 main.py --tag autox ${PORT} (in servers/autox, port auto)' \
	'servers/runit: service runit (run): ./run ${PORT} (in servers/runit, port auto)' \
	"servers/README.md: ignored: not executable, and no interpreter for '.md'" \
	"servers/lib.js: ignored: not executable, and no interpreter for '.js'" \
	'servers/data: ignored: not executable' \
	'servers/empty: ignored: a directory with no mls.yaml, autoexec.txt, Dockerfile or executable run' \
	"servers/web.py: not run: the service name 'web' is taken by the service defined at mls.yaml:$WEBLINE:3" \
	"servers/app.py: not run: the service name 'app' comes from both servers/app.py and servers/app.sh"; do
	printf '%s\n' "$V" | grep -Fxq -- "$l"
	ok $? "validate lists: $l" || diag "stdout: $V"
done
for f in old.py~ .hidden.py off.py.disabled app.py.swp save.py.bak new.py.tmp b.py.orig; do
	printf '%s\n' "$V" | grep -Fxq -- "servers/$f: ignored: a hidden, temporary or disabled file"
	ok $? "validate lists servers/$f as ignored (a hidden, temporary or disabled file)"
done
NE=$(ls -A "$S" | wc -l)
is "$(printf '%s\n' "$V" | grep -c '^servers/')" $((NE + 1)) "validate: one line per entry ($NE entries; pair has two services, two lines)"
names_order=$(printf '%s\n' "$V" | sed 's/: .*//' | uniq | tr '\n' ' ')
is "$names_order" "$(cd "$S" && LC_ALL=C ls -A | sed 's|^|servers/|' | tr '\n' ' ')" "validate: the entries in sorted order"

run "$MLS" validate -c mls.yaml --format json
J=$OUT
json_check "$J" '[e["entry"] for e in d["servers"]] == sorted(e["entry"] for e in d["servers"]) and len(d["servers"]) == '"$NE"
ok $? "validate --format json: a 'servers' array with the $NE entries, sorted"
json_check "$J" 'any(e["entry"] == "servers/hello.py" and e["kind"] == "script" and e["runs"] is True and e["services"] == [{"name": "hello", "command": ["python3", "hello.py", "${PORT}"], "working_dir": "servers", "port": "auto"}] for e in d["servers"])'
ok $? "validate --format json: hello.py with kind, runs, its service's name, command[], working_dir and port" || diag "$J"
json_check "$J" "any(e['entry'] == 'servers/yamlone' and e['kind'] == 'mls.yaml' and e['services'][0]['port'] == $FIXED and e['services'][0]['working_dir'] == 'servers/yamlone' for e in d['servers'])"
ok $? "validate --format json: the mls.yaml directory with its own port and working_dir"
json_check "$J" '[s["name"] for e in d["servers"] if e["entry"] == "servers/pair" for s in e["services"]] == ["pair-a", "pair-b"]'
ok $? "validate --format json: one entry, two services (services: in mls.yaml)"
json_check "$J" 'any(e["entry"] == "servers/README.md" and e["kind"] == "ignored" and e["runs"] is False and e["ignored"].startswith("not executable") and e["services"] == [] for e in d["servers"])'
ok $? "validate --format json: README.md ignored, with the reason"
json_check "$J" 'any(e["entry"] == "servers/web.py" and e["runs"] is False and "is taken by the service defined at" in e["error"] for e in d["servers"]) and d["valid"] is False'
ok $? "validate --format json: web.py not run, with the error; valid false"

# ---- names: made of the entry's name; none at all is an error
N=$T/names
mkdir -p "$N/servers/api.v2"
printf 'exec sleep 1000\n' >"$N/servers/My Server.py"
printf 'exec sleep 1000\n' >"$N/servers/_Tools v2.sh"
printf 'exec sleep 1000\n' >"$N/servers/---.sh"
LONG=$(printf 'Ab%.0s' $(seq 1 40))
printf 'exec sleep 1000\n' >"$N/servers/$LONG.sh"
printf '#!/bin/sh\nexec sleep 1000\n' >"$N/servers/api.v2/run"
chmod +x "$N/servers/api.v2/run"
echo 'servers_dir: servers' >"$N/mls.yaml"
run_in "$N" "$MLS" validate -c mls.yaml
is "$RC" 1 "names: an entry no name can be made of is an error (exit 1)"
like "$ERR" "^servers/---\.sh: error: no service name can be made of '---\.sh'" "names: '---.sh': the error says so"
for l in \
	'servers/My Server.py: service my-server (script): python3 My Server.py (in servers, port auto)' \
	'servers/_Tools v2.sh: service tools-v2 (script): sh _Tools v2.sh (in servers, port auto)' \
	'servers/api.v2: service api-v2 (run): ./run (in servers/api.v2, port auto)' \
	"servers/$LONG.sh: service $(printf '%s' "$LONG" | tr A-Z a-z | cut -c1-63) (script): sh $LONG.sh (in servers, port auto)"; do
	printf '%s\n' "$OUT" | grep -Fxq -- "$l"
	ok $? "names: $(printf '%s' "$l" | cut -c1-90)" || diag "stdout: $OUT"
done

# ======================================================= supervise

sv_start mls.yaml # from $C: the paths mls shows are relative, as the config's
bad=
for n in hello envport big-app shebang page up yamlone pair-a pair-b autox runit; do poll 15 serves $n.1 . || bad="$bad $n"; done
is "$bad" "" "every server entry runs and answers HTTP on its port"
is "$(names)" "autox big-app envport hello keeper once page pair-a pair-b runit shebang up web yamlone" \
	"status: the configured services and one per runnable entry; no clashing or ignored entry runs"

# each on its own port, the one the server answers from
A=$(get hello.1)
P=$(field_of hello.1 port)
like "$A" "^hello port=$P env_port=$P greeting=hello who=- layer=servers defonly=d args=$P cwd=servers\$" \
	"hello.py: python3 hello.py PORT (port_arg), in servers/, environment from servers_defaults over defaults'; answers on its port"
P=$(field_of envport.1 port)
like "$(get envport.1)" "^envport port=$P env_port=$P greeting=hello " "envport.py: the server that reads \$PORT answers on it"
P=$(field_of big-app.1 port)
like "$(get big-app.1)" "^bigapp port=$P .* args=$P cwd=servers\$" "'Big App' (executable, no extension): ./Big App PORT, service big-app"
like "$(get shebang.1)" "^shebang " "shebang.py: an executable .py runs with python3 (its #! names no interpreter that exists)"
like "$(get page.1)" "^page port=[0-9]+ .*greeting=hello " "page.web: the interpreter from servers_defaults.interpreters (\".web\": python3)"
wait_for "up.cmd: run by [sh, -e] (interpreters list): python3 -m http.server answers on its port" 10 serves up.1 'Directory listing'
P=$(field_of yamlone.1 port)
is "$P" "$FIXED" "yamlone (mls.yaml): its own port: $FIXED"
like "$(get yamlone.1)" "^yamlone port=$FIXED env_port=$FIXED greeting=hello who=yaml layer=servers defonly=d args= cwd=yamlone\$" \
	"yamlone: run in its directory, its environment merged with servers_defaults' and defaults'"
PA=$(field_of pair-a.1 port)
PB=$(field_of pair-b.1 port)
like "$(get pair-a.1)" "^pair port=$PA .* args=a,$PA cwd=pair\$" "pair (mls.yaml with services:): pair-a runs"
like "$(get pair-b.1)" "^pair port=$PB .* args=b,$PB cwd=pair\$" "... and pair-b, on another port"
P=$(field_of autox.1 port)
like "$(get autox.1)" "^autox port=$P .* args=--tag,autox,$P cwd=autox\$" "autox (autoexec.txt): python3 main.py --tag autox PORT, in its directory"
P=$(field_of runit.1 port)
like "$(get runit.1)" "^runit port=$P env_port=$P .* cwd=runit\$" "runit (executable run): ./run in its directory"
ports=$(for n in hello envport big-app shebang page up yamlone pair-a pair-b autox runit; do field_of $n.1 port; done)
is "$(printf '%s\n' "$ports" | grep -Ec '^[0-9]+$')" 11 "every server has a port"
is "$(printf '%s\n' "$ports" | sort -u | wc -l)" 11 "... each its own"

# servers_defaults' restart policy: on-failure
wait_for "once.sh exits 0" 10 state_is once.1 exited
never_within "restart: on-failure (servers_defaults): once.1 is not restarted after exit 0" 2 \
	eval '[ "$(field_of once.1 restarts)" != 0 ] || state_is once.1 running'
is "$(count "$SV_OUT" '^once\.1 \| once-ran$')" 1 "once.sh ran once"
P=$(pid_of hello.1)
kill -KILL "$P"
wait_for "... and a killed hello.1 is restarted (a failure)" 10 pid_changed hello.1 "$P"

# status: the source of each instance, the clashes
ctl status
is "$RC" 0 "ctl status: exit 0"
like "$OUT" "^hello\.1 .*from servers/hello\.py *\$" "ctl status: NOTE 'from servers/hello.py'"
like "$OUT" "^pair-b\.1 .*from servers/pair *\$" "ctl status: NOTE 'from servers/pair' for a service of a directory"
unlike "$OUT" "^web\.1 .*from " "ctl status: no 'from' for a configured service"
like "$OUT" "^servers/web\.py: not run: the service name 'web' is taken by the service defined at mls\.yaml:$WEBLINE:3\$" \
	"ctl status: 'servers/web.py: not run: ...'"
like "$OUT" "^servers/app\.py: not run: the service name 'app' comes from both servers/app\.py and servers/app\.sh\$" \
	"ctl status: 'servers/app.py: not run: ...'"
like "$OUT" "^servers/app\.sh: not run: " "ctl status: 'servers/app.sh: not run: ...'"
tail1=$(printf '%s\n' "$OUT" | tail -3 | cut -d: -f1 | tr '\n' ' ')
is "$tail1" "servers/app.py servers/app.sh servers/web.py " "ctl status: the not-run lines come after the table"
ctl --json status
J=$OUT
json_check "$J" 'd["supervisor"]["servers_dir"]["path"] == "servers" and sorted(p["entry"] for p in d["supervisor"]["servers_dir"]["problems"]) == ["servers/app.py", "servers/app.sh", "servers/web.py"]'
ok $? "ctl --json status: supervisor.servers_dir has the path and the three problems" || diag "$J"
json_check "$J" 'all(set(p) == {"entry", "error"} and p["error"] for p in d["supervisor"]["servers_dir"]["problems"])'
ok $? "... each problem with its entry and error"
json_check "$J" 'all((s["source"], s.get("entry")) == ("servers_dir", "servers/" + {"big-app": "Big App", "pair-a": "pair", "pair-b": "pair"}.get(s["name"], s["name"] + {"hello": ".py", "envport": ".py", "shebang": ".py", "page": ".web", "up": ".cmd", "once": ".sh"}.get(s["name"], ""))) for s in d["services"] if s["name"] not in ("web", "keeper"))'
ok $? "ctl --json status: every discovered instance has source servers_dir and its entry"
json_check "$J" 'all(s["source"] == "config" and s.get("entry") is None for s in d["services"] if s["name"] in ("web", "keeper"))'
ok $? "ctl --json status: the configured ones have source config, no entry"
like "$(cat "$SV_ERR")" "servers/web\.py: warning: the service name 'web' is taken by the service defined at mls\.yaml:$WEBLINE:3 \(not run\)" \
	"supervise logs a clash as a warning: (not run)"
is "$(state_of web.1)" running "web (configured) runs, the clashing web.py does not"

# ======================================================= live changes

poll 5 state_is hello.1 running
BASE=$(snap)

# ---- add
R0=$(count "$SV_ERR" 'servers_dir: .*reloading')
pysrv added argv >"$S/added.py"
wait_for "add: a new added.py starts and answers" 10 serves added.1 '^added '
like "$(trigger_of 'added \["added"\]')" 'mls: servers_dir: servers/added\.py changed: reloading$' "add: logged 'servers_dir: servers/added.py changed: reloading' before it"
like "$(grep 'config reloaded' "$SV_ERR" | tail -1)" 'config reloaded: added \["added"\], removed \[\], changed \[\]' "add: 'config reloaded: added [\"added\"]'"
is "$(count "$SV_ERR" 'servers_dir: .*reloading')" $((R0 + 1)) "add: one reload"
is "$(snap added)" "$BASE" "add: every other instance keeps its pid"

# ---- change: a file's content
BASE=$(snap)
P=$(pid_of envport.1)
R0=$(count "$SV_ERR" 'config reloaded')
pysrv envport-v2 env >"$S/envport.py"
wait_for "change: envport.py rewritten: envport restarts and runs the new content" 10 serves envport.1 '^envport-v2 '
ok $(dead "$P"; echo $?) "change: the old envport process is gone"
is "$(count "$SV_ERR" 'config reloaded: added \[\], removed \[\], changed \["envport"\]')" 1 "change: 'config reloaded: ... changed [\"envport\"]'"
like "$(trigger_of 'changed \["envport"\]')" 'mls: servers_dir: servers/envport\.py changed: reloading$' \
	"change: applied by the servers_dir watch: 'servers_dir: servers/envport.py changed: reloading' before it"
is "$(count "$SV_ERR" 'config reloaded')" $((R0 + 1)) "change: one reload" || diag "$(grep -E 'reload' "$SV_ERR" | tail -4)"
is "$(snap envport)" "$(printf '%s\n' "$BASE" | grep -v '^envport\.')" "change: every other instance keeps its pid"

# ---- change: the files that define a directory entry, and a mode
BASE=$(snap)
PY=$(pid_of yamlone.1)
PX=$(pid_of autox.1)
PR=$(pid_of runit.1)
sed -i 's/WHO: yaml/WHO: yaml2/' "$S/yamlone/mls.yaml"
pysrv autox-v2 argv >"$S/autox/main.py"
chmod 0700 "$S/runit/run"
wait_for "change: yamlone/mls.yaml edited: yamlone restarts with the new environment" 10 serves yamlone.1 ' who=yaml2 '
wait_for "change: autox/main.py (autoexec.txt's entry point) rewritten: autox runs the new content" 10 serves autox.1 '^autox-v2 '
wait_for "change: chmod of runit/run: runit restarts" 10 pid_changed runit.1 "$PR"
ok $([ "$(pid_of yamlone.1)" != "$PY" ] && [ "$(pid_of autox.1)" != "$PX" ]; echo $?) "... yamlone and autox have new pids"
is "$(snap yamlone autox runit)" "$(printf '%s\n' "$BASE" | grep -Ev '^(yamlone|autox|runit)\.')" "... every other instance keeps its pid"

# ---- what changes nothing
poll 5 serves runit.1 '^runit '
BASE=$(snap)
echo y >"$S/runit/notes.txt"       # not a defining file of runit/
echo y >"$S/autox/other.txt"       # autoexec.txt does not name it
echo y >"$S/old.py~"               # ignored
echo y >"$S/.hidden.py"
echo '# more docs' >>"$S/README.md" # ignored kind: a reload that changes nothing
never_within "a file no entry runs, an ignored one, README.md: no instance restarts" 2 snap_changed "$BASE"
is "$(names)" "added autox big-app envport hello keeper once page pair-a pair-b runit shebang up web yamlone" \
	"no ignored entry runs"

# ---- rename
BASE=$(snap)
P=$(pid_of added.1)
mv "$S/added.py" "$S/renamed.py"
wait_for "rename: added.py -> renamed.py: renamed starts" 10 serves renamed.1 '^added '
wait_for "rename: ... and added is gone from status" 10 absent added.1
ok $(dead "$P"; echo $?) "rename: added's process is stopped"
is "$(count "$SV_ERR" 'config reloaded: added \["renamed"\], removed \["added"\], changed \[\]')" 1 "rename: a remove and an add in one reload"
like "$(trigger_of 'removed \["added"\]')" 'mls: servers_dir: servers/(added|renamed)\.py changed: reloading$' \
	"rename: applied by the servers_dir watch (its log line before the reload)"
is "$(snap renamed)" "$(printf '%s\n' "$BASE" | grep -v '^added\.')" "rename: every other instance keeps its pid"

# ---- remove (a file, a directory of two services)
BASE=$(snap)
P=$(pid_of renamed.1)
PA=$(pid_of pair-a.1)
PB=$(pid_of pair-b.1)
rm "$S/renamed.py"
rm -r "$S/pair"
wait_for "remove: renamed.py removed: renamed is forgotten (gone from status)" 10 absent renamed.1
wait_for "remove: the pair directory removed: pair-a and pair-b are gone" 10 eval 'absent pair-a.1 && absent pair-b.1'
ok $(dead "$P" && dead "$PA" && dead "$PB"; echo $?) "remove: their processes are stopped"
is "$(snap)" "$(printf '%s\n' "$BASE" | grep -Ev '^(renamed|pair-a|pair-b)\.')" "remove: every other instance keeps its pid"

# ---- name clashes, live
BASE=$(snap)
rm "$S/app.sh"
wait_for "clash resolved: app.sh removed, app.py runs as app" 10 serves app.1 '^app-py '
ctl --json status
json_check "$OUT" '[p["entry"] for p in d["supervisor"]["servers_dir"]["problems"]] == ["servers/web.py"]'
ok $? "clash resolved: only web.py is left in supervisor.servers_dir.problems"
pysrv keeper-py argv >"$S/keeper.py"
wait_for "a new keeper.py (keeper is configured): status says it is not run" 10 \
	eval '"$MLS" ctl -s "$SV_SOCK" status 2>/dev/null | grep -Eq "^servers/keeper\.py: not run: the service name .keeper. is taken by the service defined at mls\.yaml:$KEEPLINE:3\$"'
is "$(snap app)" "$BASE" "clashes: the configured keeper and every other instance keep their pids"
is "$(state_of keeper.1)" running "... keeper still runs"

# ---- a file copied slowly starts once, with its full content
pysrv slow-full argv >"$T/slow.src"
SZ=$(wc -c <"$T/slow.src")
BASE=$(snap)
S0=$(date +%s%N)
# the copy: 20 chunks, 100 ms apart (a pace, not a wait), over 2 s
python3 - "$T/slow.src" "$S/slow.py" <<'PY'
import sys, time
data = open(sys.argv[1], "rb").read()
step = -(-len(data) // 20)
with open(sys.argv[2], "wb", buffering=0) as f:
    for k in range(0, len(data), step):
        f.write(data[k:k + step])
        time.sleep(0.1)
PY
S1=$(date +%s%N)
wait_for "slow copy ($SZ bytes in 20 chunks over $(((S1 - S0) / 1000000)) ms): slow runs the full content" 10 serves slow.1 '^slow-full '
never_within "slow copy: no second start" 2 eval '[ "$(count "$SV_ERR" "slow\.1: running")" != 1 ]'
is "$(count "$SV_ERR" 'slow\.1: running')" 1 "slow copy: slow.1 started once" || diag "$(grep -E 'slow|servers_dir' "$SV_ERR")"
is "$(count "$SV_OUT" '^slow\.1 \| start ')" 1 "slow copy: its program started once"
is "$(count "$SV_ERR" 'added \["slow"\]')" 1 "slow copy: one reload added it"
is "$(field_of slow.1 restarts)" 0 "slow copy: no restart"
is "$(snap slow)" "$BASE" "slow copy: every other instance keeps its pid"

# ---- an entry overwritten slowly (truncated, then 10 appends 150 ms apart) restarts once
BASE=$(snap slow)
N0=$(count "$SV_ERR" 'slow\.1: running')
pysrv slow-v2 argv >"$T/slow2.src"
python3 - "$T/slow2.src" "$S/slow.py" <<'PY'
import sys, time
data = open(sys.argv[1], "rb").read()
step = -(-len(data) // 10)
open(sys.argv[2], "wb").close()
for k in range(0, len(data), step):
    time.sleep(0.15)
    with open(sys.argv[2], "ab") as f:
        f.write(data[k:k + step])
PY
wait_for "slow overwrite: slow restarts with the whole new content" 10 serves slow.1 '^slow-v2 '
never_within "slow overwrite: no second restart" 2 eval '[ "$(count "$SV_ERR" "slow\.1: running")" -gt $((N0 + 1)) ]'
is "$(count "$SV_ERR" 'slow\.1: running')" $((N0 + 1)) "slow overwrite: slow.1 restarted once" || diag "$(grep -E 'slow|reload' "$SV_ERR" | tail -12)"
is "$(count "$SV_OUT" '^slow\.1 \| start ')" 2 "slow overwrite: its program started once more"
is "$(snap slow)" "$BASE" "slow overwrite: every other instance keeps its pid"

# ---- servers_defaults edited in the config file (watched)
poll 5 state_is hello.1 running
BASE=$(snap)
WP=$(pid_of web.1)
KP=$(pid_of keeper.1)
declare -A OLD
for n in hello envport big-app shebang page up yamlone autox runit app slow; do OLD[$n]=$(pid_of $n.1); done
sed -i 's/GREETING: hello/GREETING: bonjour/' "$C/mls.yaml"
wait_for "servers_defaults: GREETING changed: hello restarts and sees the new value" 15 serves hello.1 ' greeting=bonjour '
bad=
for n in envport big-app shebang page yamlone autox runit app slow; do
	poll 10 serves $n.1 ' greeting=bonjour ' || bad="$bad $n"
done
is "$bad" "" "... every discovered server restarts and sees GREETING=bonjour (yamlone too, with its own WHO)"
poll 10 pid_changed up.1 "${OLD[up]}"
bad=
for n in hello envport big-app shebang page up yamlone autox runit app slow; do
	[ "$(pid_of $n.1)" != "${OLD[$n]}" ] || bad="$bad $n"
done
is "$bad" "" "... each with a new pid"
like "$(get yamlone.1)" ' greeting=bonjour who=yaml2 ' "yamlone: the new default and its own environment"
is "$(pid_of web.1) $(pid_of keeper.1)" "$WP $KP" "the configured services keep their pids"
like "$(trigger_of 'changed \[.*"hello"')" 'mls: config files changed: reloading$' "the config file's change was seen by its watch"

# ---- ctl reload with nothing changed
poll 5 state_is up.1 running
BASE=$(snap)
ctl reload
is "$RC" 0 "ctl reload: exit 0"
never_within "ctl reload with nothing changed: every instance keeps its pid" 2 snap_changed "$BASE"

PIDS=$(snap | sed 's/.*=//' | grep -v null)
sv_stop
is "$SV_RC" 0 "the supervisor stops cleanly"
left=
for p in $PIDS; do dead "$p" || left="$left $p"; done
is "$left" "" "... no server is left behind"

# ======================================================= servers_dir created after start

# late_scenario TAG TIMEOUT: a config whose servers_dir does not exist yet
late_scenario() {
	local tag=$1 to=$2 L=$T/late-$1
	mkdir -p "$L"
	cat >"$L/mls.yaml" <<EOF
state_dir: $T/s-$tag
servers_dir: later
services:
  base:
    command: [sleep, "1000"]
EOF
	run "$MLS" validate -c "$L/mls.yaml"
	is "$RC" 0 "$tag: validate: a missing servers_dir is not an error"
	like "$ERR" "warning: servers_dir: '.*later' does not exist \(yet\): no service comes from it" "$tag: ... a warning"
	sv_start "$L/mls.yaml"
	wait_for "$tag: base runs" "$to" state_is base.1 running
	local bp
	bp=$(pid_of base.1)
	mkdir "$L/later"
	pysrv late env >"$L/later/late.py"
	wait_for "$tag: servers_dir created after start: its late.py starts and answers" "$to" serves late.1 '^late ' ||
		diag "$(cat "$SV_ERR"; "$MLS" ctl -s "$SV_SOCK" status)"
	like "$(cat "$SV_ERR")" 'servers_dir: .*later appeared: reloading' "$tag: logged 'later appeared'"
	pysrv late2 env >"$L/later/late2.py"
	wait_for "$tag: a second entry starts" "$to" serves late2.1 '^late2 '
	rm "$L/later/late.py"
	wait_for "$tag: a removed entry stops and is forgotten" "$to" absent late.1
	rm -rf "$L/later"
	wait_for "$tag: servers_dir removed: late2 is gone too" "$to" absent late2.1
	mkdir "$L/later"
	printf 'exec sleep 1000\n' >"$L/later/again.sh"
	wait_for "$tag: servers_dir created again: its entry starts" "$to" state_is again.1 running
	is "$(pid_of base.1)" "$bp" "$tag: base kept its pid throughout"
	sv_stop
	is "$SV_RC" 0 "$tag: the supervisor stops cleanly"
}
late_scenario late 10

# ======================================================= under ASan/UBSan (make dev)
if [ -n "${MLS_DEV:-}" ] && [ -x "$MLS_DEV" ] && [ "$MLS_DEV" != "$MLS" ]; then
	MLS_STATIC=$MLS
	MLS=$MLS_DEV
	late_scenario dev 20
	ERR=$(cat "$SV_ERR")
	no_sanitizer_report "dev: supervise with servers_dir"
	# the loader on the whole config of the first part (defaults and
	# servers_defaults, both with an environment), then on `defaults` alone
	run_in "$C" "$MLS" validate -c mls.yaml
	no_sanitizer_report "dev: validate of the first part's config"
	mkdir -p "$T/dd"
	printf 'defaults:\n  environment: {A: b}\nservices:\n  x:\n    command: [sleep, "1"]\n' >"$T/dd/mls.yaml"
	run "$MLS" validate -c "$T/dd/mls.yaml"
	no_sanitizer_report "dev: validate of defaults: {environment: ...}"
	MLS=$MLS_STATIC
else
	skip "MLS_DEV (the sanitizer build) not given"
fi

done_testing
