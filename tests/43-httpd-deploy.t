#!/usr/bin/env bash
# POST /api/v1/services/NAME/deploy and /rollback (docs/api.md) against a
# real repository made here by Debian's git, real supervise, gitwatch and
# httpd: a new commit deploys (200, the new revision, the service runs it);
# nothing new (200 up_to_date); a bad ref (409 deploy_failed) and a
# malformed one (400); a commit that crashes is rolled back (409
# rolled_back); ?wait=0 (202 at once); ?timeout= (504, the deploy goes on);
# a ref from the JSON body (a tag); the rollback endpoint (200, then 409
# when there is nothing earlier); the read token, a cookie without Origin
# (403); a service without git: (409); an unknown one (404); the status's
# revision/deploy/git fields; mls_service_revision_info and
# mls_deploys_total through promtool; at most 64 deploys waiting (503).
# The flow runs again on the ASan/UBSan build ($MLS_DEV) with no report.
# Needs: MLS, TESTS_DIR, git, python3, curl.
. "${TESTS_DIR:?}/lib.sh"
. "$TESTS_DIR/sv.sh"

command -v git >/dev/null 2>&1 || skip_all "needs git"
have_python3 || skip_all "needs python3"
command -v curl >/dev/null 2>&1 || skip_all "needs curl"
"$MLS" --version | grep -q -- '-git' && skip_all "this build has no git (NO_GIT=1)"

# gitwatch runs as the state directory's owner, never root: nobody when
# the test is root, and it must read the repository under $T
chmod 755 "$T"
export GIT_CONFIG_NOSYSTEM=1 HOME=$T GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.org \
	GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.org

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }
has() { grep -Eq -- "$2" "$1" 2>/dev/null; }

ADMIN=admin-token-0123456789abcdef
READ=read-token-0123456789abcdef
printf '%s\n' "$ADMIN" >"$T/admin.token"
chmod 600 "$T/admin.token"
AA=(-H "Authorization: Bearer $ADMIN")
RA=(-H "Authorization: Bearer $READ")

# hc ARGS... URL: one curl; sets HS (status), HB (body)
hc() {
	HS=$(curl -s -o "$T/hb" -w '%{http_code}' --max-time 60 "$@" 2>/dev/null)
	HB=$(cat "$T/hb" 2>/dev/null)
}
jbody() { json_check "$HB" "$1"; }
# jis DESC EXPR: a result on the last body
jis() { jbody "$2" && ok 0 "$1" || { ok 1 "$1"; diag "body: $HB"; }; }
status_ok() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" 2>/dev/null | grep -qx 200; }
gfield() { field_of app.1 "$1"; }
rev_is() { [ "$(gfield revision)" = "$1" ]; }
phase_is() { [ "$(field_of app.1 deploy)" = "$1" ]; }

# the upstream: a work repository W pushing to a bare one R. app.sh says
# which version it runs, then sleeps; BAD makes it exit 1 at once
R=$T/app.git
W=$T/work
git init -q --bare -b main "$R"
git init -q -b main "$W"
echo app.sh >"$W/autoexec.txt"
commit() { # commit VERSION [BAD]: a new commit on main, pushed; C := its id
	if [ "${2:-}" = BAD ]; then
		printf 'echo "bad %s"; exit 1\n' "$1" >"$W/app.sh"
	else
		printf 'echo "rev $(cat version.txt)"; exec sleep 1000\n' >"$W/app.sh"
	fi
	printf '%s\n' "$1" >"$W/version.txt"
	git -C "$W" add -A && git -C "$W" commit -qm "v$1" && git -C "$W" push -q "$R" HEAD:main 2>/dev/null
	C=$(git -C "$W" rev-parse HEAD)
}
commit 1
C1=$C
git -C "$W" tag v1 && git -C "$W" push -q "$R" v1 2>/dev/null

flow() {
	local BIN=$1 L=$2
	MLS=$BIN
	RUN=$((RUN + 1))
	local SD=$T/s$RUN LD=$T/logs$RUN CFG=$T/m$RUN.yaml
	PORT=$(free_port)
	U=http://127.0.0.1:$PORT
	S=$U/api/v1/services
	# each run starts from the tag v1 (main moves on in the first run)
	git -C "$W" checkout -q v1 && git -C "$W" push -q -f "$R" HEAD:main 2>/dev/null
	cat >"$CFG" <<EOF
state_dir: $SD
log_dir: $LD
http:
  listen: ["127.0.0.1:$PORT"]
  token_file: $T/admin.token
  read_token: "$READ"
  public: [healthz]
services:
  app:
    git: {url: "$R", ref: main, interval: 0, verify_window: 2s}
  plain:
    command: ["sleep", "1000"]
EOF
	sv_start "$CFG"
	wait_for "$L: /healthz answers" 15 status_ok "$U/healthz"
	wait_for "$L: app runs the first revision ($C1), deployed" 20 phase_is "deployed ${C1:0:7}"
	is "$(gfield revision)" "$C1" "$L: ... status revision is the commit"

	# --- the status and metrics show it
	hc "${RA[@]}" "$U/api/v1/status"
	jis "$L: GET /api/v1/status: app has revision, deploy and git {phase, ref, url}" \
		"[(s['revision'], s['deploy'], s['git']['phase'], s['git']['ref'], s['git']['url']) for s in d['services'] if s['name']=='app'] == [('$C1', 'deployed ${C1:0:7}', 'deployed', 'main', '$R')]"
	jis "$L: ... plain has none of them" "[('revision' in s, 'git' in s) for s in d['services'] if s['name']=='plain'] == [(False, False)]"
	hc "${RA[@]}" "$U/metrics"
	like "$HB" "mls_service_revision_info\\{service=\"app\",instance=\"1\",revision=\"$C1\"\\} 1" "$L: /metrics: mls_service_revision_info of app"

	# --- a new commit: 200 once deployed, the new revision runs
	commit 2
	local C2=$C P0
	P0=$(pid_of app.1)
	local t0 t1
	t0=$(now_ms)
	hc -X POST "${AA[@]}" "$S/app/deploy"
	t1=$(now_ms)
	is "$HS" 200 "$L: POST deploy after a push: 200"
	jis "$L: ... result deployed, the new revision ($C2), the event" \
		"d['ok'] is True and d['result']=='deployed' and d['revision']=='$C2' and d['event']['event']=='deployed' and d['event']['service']=='app'"
	ok $((t1 - t0 >= 1900 ? 0 : 1)) "$L: ... answered after the 2 s verify window ($((t1 - t0)) ms)"
	is "$(gfield revision)" "$C2" "$L: ... ctl status: revision $C2"
	[ "$(pid_of app.1)" != "$P0" ]
	ok $? "$L: ... a new pid"
	wait_for "$L: ... its output says rev 2" 10 has "$LD/app.1.log" '^rev 2$|rev 2$'

	# --- nothing new
	hc -X POST "${AA[@]}" "$S/app/deploy"
	is "$HS" 200 "$L: POST deploy again: 200"
	jis "$L: ... result up_to_date, revision $C2" "d['ok'] is True and d['result']=='up_to_date' and d['revision']=='$C2'"

	# --- refs: unknown (gitwatch says so), malformed (supervise or httpd)
	hc -X POST "${AA[@]}" "$S/app/deploy?ref=nosuch"
	is "$HS" 409 "$L: POST deploy?ref=nosuch: 409"
	jis "$L: ... deploy_failed with gitwatch's message" \
		"d['ok'] is False and d['result']=='deploy_failed' and 'nosuch' in d['error'] and d['event']['ref']=='nosuch'"
	hc -X POST "${AA[@]}" "$S/app/deploy?ref=a..b"
	is "$HS" 400 "$L: ref a..b: 400"
	jis "$L: ... bad ref (supervise's error)" "d['ok'] is False and d['error'].startswith('bad ref')"
	hc -X POST "${AA[@]}" -d '{"ref":"a b"}' "$S/app/deploy"
	is "$HS" 400 "$L: a ref with a blank in the body: 400"
	hc -X POST "${AA[@]}" -d '{"ref":1}' "$S/app/deploy"
	is "$HS" 400 "$L: a body whose ref is not a string: 400"
	hc -X POST "${AA[@]}" -d 'not json' "$S/app/deploy"
	is "$HS" 400 "$L: a body that is not JSON: 400"

	# --- who may
	hc -X POST "${RA[@]}" "$S/app/deploy"
	is "$HS" 403 "$L: deploy with the read token: 403"
	jis "$L: ... not allowed: deploy (this token is read-only)" "d['error']=='not allowed: deploy (this token is read-only)'"
	hc -X POST "${RA[@]}" "$S/app/rollback"
	is "$HS" 403 "$L: rollback with the read token: 403"
	local CK
	CK=$(curl -s -D - -o /dev/null -X POST -d "{\"token\":\"$ADMIN\"}" "$U/api/v1/login" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(mls_session=[^;]*\);.*/\1/p')
	hc -X POST -H "Cookie: $CK" "$S/app/deploy?wait=0"
	is "$HS" 403 "$L: deploy with the admin cookie and no Origin: 403 (CSRF)"
	hc -X POST -H "Cookie: $CK" -H "Origin: $U" "$S/app/deploy?wait=0"
	is "$HS" 202 "$L: ... with its Origin: 202"
	hc "${AA[@]}" "$S/app/deploy"
	is "$HS" 405 "$L: GET deploy: 405"
	hc -X POST "${AA[@]}" "$S/plain/deploy"
	is "$HS" 409 "$L: deploy of a service without git: 409"
	jis "$L: ... says so" "'not deployed from git' in d['error']"
	hc -X POST "${AA[@]}" "$S/plain/rollback"
	is "$HS" 409 "$L: rollback of a service without git: 409"
	hc -X POST "${AA[@]}" "$S/nosuch/deploy"
	is "$HS" 404 "$L: deploy of an unknown service: 404"

	# --- a commit that crashes: rolled back, 409 with both commits
	commit 3 BAD
	local C3=$C
	hc -X POST "${AA[@]}" "$S/app/deploy"
	is "$HS" 409 "$L: POST deploy of a commit that exits 1: 409"
	jis "$L: ... rolled_back from $C3 to $C2, the reason" \
		"d['ok'] is False and d['result']=='rolled_back' and d['revision']=='$C2' and d['event']['from']=='$C3' and 'rolled back from ${C3:0:7} to ${C2:0:7}: crashed' in d['error']"
	is "$(gfield revision)" "$C2" "$L: ... ctl status: back on $C2"

	# --- ?wait=0: 202 at once, the deploy happens after
	commit 4
	local C4=$C
	t0=$(now_ms)
	hc -X POST "${AA[@]}" "$S/app/deploy?wait=0"
	t1=$(now_ms)
	is "$HS" 202 "$L: POST deploy?wait=0: 202"
	jis "$L: ... the control reply (requested, seq)" "d['ok'] is True and d['requested']=='deploy' and d['seq'] > 0"
	ok $((t1 - t0 < 1500 ? 0 : 1)) "$L: ... at once ($((t1 - t0)) ms, the verify window is 2 s)"
	wait_for "$L: ... then $C4 is deployed" 20 phase_is "deployed ${C4:0:7}"

	# --- ?timeout=: 504, the deploy goes on
	commit 5
	local C5=$C
	hc -X POST "${AA[@]}" "$S/app/deploy?timeout=0.5"
	is "$HS" 504 "$L: POST deploy?timeout=0.5 (the verify window is 2 s): 504"
	jis "$L: ... says the deploy goes on, with the request's seq" "d['ok'] is False and 'goes on' in d['error'] and d['seq'] > 0"
	wait_for "$L: ... and $C5 is deployed" 20 phase_is "deployed ${C5:0:7}"

	# --- the ref from a JSON body: the tag v1
	hc -X POST "${AA[@]}" -H 'Content-Type: application/json' -d '{"ref":"v1"}' "$S/app/deploy"
	is "$HS" 200 "$L: POST deploy {\"ref\":\"v1\"}: 200"
	jis "$L: ... deployed the tag's commit $C1, ref v1" "d['result']=='deployed' and d['revision']=='$C1' and d['event']['ref'] in ('v1','refs/tags/v1')"

	# --- rollback: to the previous good one ($C5), then nothing earlier
	hc -X POST "${AA[@]}" "$S/app/rollback"
	is "$HS" 200 "$L: POST rollback: 200"
	jis "$L: ... rolled_back from $C1 to $C5" "d['ok'] is True and d['result']=='rolled_back' and d['revision']=='$C5' and d['event']['from']=='$C1' and 'by hand' in d['message']"
	is "$(gfield revision)" "$C5" "$L: ... ctl status: $C5"
	hc -X POST "${AA[@]}" "$S/app/rollback?timeout=20"
	is "$HS" 409 "$L: POST rollback with no earlier good revision: 409"
	jis "$L: ... deploy_failed, says why" "d['ok'] is False and d['result']=='deploy_failed' and 'no earlier good revision' in d['error']"

	# --- counted
	hc "${RA[@]}" "$U/metrics"
	like "$HB" 'mls_deploys_total\{service="app",result="rolled_back"\} 2' "$L: /metrics: mls_deploys_total rolled_back 2 (the crash, the rollback)"
	like "$HB" 'mls_deploys_total\{service="app",result="up_to_date"\} 2' "$L: ... up_to_date 2 (deploy again, the cookie's)"
	like "$HB" 'mls_deploys_total\{service="app",result="deploy_failed"\} 2' "$L: ... deploy_failed 2 (nosuch, nothing to roll back to)"
	like "$HB" "mls_service_revision_info\\{service=\"app\",instance=\"1\",revision=\"$C5\"\\} 1" "$L: ... mls_service_revision_info follows ($C5)"
	printf '%s\n' "$HB" >"$T/metrics.$L"
	if command -v promtool >/dev/null 2>&1; then
		run promtool check metrics <"$T/metrics.$L"
		is "$RC" 0 "$L: ... promtool check metrics accepts it" || diag "$OUT $ERR"
	else
		skip "promtool (package prometheus) is not installed"
	fi
}

RUN=0
flow "$MLS" rel

# ---- at most 64 deploys wait: 65 at once while a deploy verifies
commit 6
C6=$C
python3 - "$S/app/deploy" "$ADMIN" >"$T/many" 2>&1 <<'PY'
import sys, threading, urllib.request, urllib.error
url, tok = sys.argv[1], sys.argv[2]
codes = []
lock = threading.Lock()
def one():
    rq = urllib.request.Request(url, method="POST", headers={"Authorization": "Bearer " + tok})
    try:
        c = urllib.request.urlopen(rq, timeout=60).status
    except urllib.error.HTTPError as e:
        c = e.code
    except Exception as e:
        c = str(e)
    with lock:
        codes.append(c)
ts = [threading.Thread(target=one) for _ in range(65)]
for t in ts: t.start()
for t in ts: t.join()
print(" ".join("%s:%d" % (c, codes.count(c)) for c in sorted(set(codes), key=str)))
PY
is "$(cat "$T/many")" "200:64 503:1" "65 deploys at once: 64 wait and get 200, one 503 (at most 64 wait)"
is "$(gfield revision)" "$C6" "... $C6 is deployed"
hc "${RA[@]}" "$U/healthz"
is "$HS" 200 "... httpd answers after"

# ---- a client that leaves while its deploy waits
commit 7
curl -s -o /dev/null --max-time 0.5 -X POST "${AA[@]}" "$S/app/deploy" 2>/dev/null
wait_for "a client gone during its wait: the deploy goes on ($C)" 20 phase_is "deployed ${C:0:7}"
hc -X POST "${AA[@]}" "$S/app/deploy"
jis "... the next deploy is answered (up_to_date)" "d['result']=='up_to_date'"
sv_stop
is "$SV_RC" 0 "rel: supervise exits 0"

if [ -n "${MLS_DEV:-}" ] && [ -x "$MLS_DEV" ] && ! "$MLS_DEV" --version | grep -q -- '-git'; then
	REL=$MLS
	flow "$MLS_DEV" dev
	commit 8
	curl -s -o /dev/null --max-time 0.5 -X POST "${AA[@]}" "$S/app/deploy" 2>/dev/null
	wait_for "dev: a client gone during its wait: the deploy goes on" 20 phase_is "deployed ${C:0:7}"
	sv_stop
	is "$SV_RC" 0 "dev: supervise exits 0"
	ERR=$(cat "$SV_ERR" "$T"/logs"$RUN"/*.log 2>/dev/null)
	no_sanitizer_report "dev: supervise, mls-httpd and mls-gitwatch"
	MLS=$REL
else
	skip "MLS_DEV (the ASan/UBSan build) is not set, not built or without git"
fi

done_testing
