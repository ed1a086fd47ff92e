#!/usr/bin/env bash
# mls gitwatch's git core (the --clone/--fetch developer commands) against
# real repositories made here by Debian's git: a plain path and file://
# (branch, tag, commit, new commit, force-push), http:// and https:// through
# `git http-backend` (CGI, tests/gitserver.py) behind python3's HTTP server,
# for https with a test CA made by openssl: trusted with --ca, "certificate
# not trusted" with another CA, a host name mismatch, and a read timeout
# against a server that never answers.
# Needs: MLS, TESTS_DIR, git; python3 and openssl for http(s).
. "${TESTS_DIR:?}/lib.sh"

command -v git >/dev/null 2>&1 || skip_all "needs git"
"$MLS" --version | grep -q -- '-git' && skip_all "this build has no git (NO_GIT=1)"

SRV_PIDS=
cleanup() {
	for p in $SRV_PIDS; do kill "$p" 2>/dev/null; done
	for p in $SRV_PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

export GIT_CONFIG_NOSYSTEM=1 HOME=$T GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.org \
	GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.org

# the upstream: a work repository W pushing to a bare one R (R is served)
R=$T/srv/app.git
W=$T/work
git init -q --bare -b main "$R"
git init -q -b main "$W"
commit() { # commit TEXT: a.txt := TEXT, committed and pushed to main
	printf '%s\n' "$1" >"$W/a.txt"
	git -C "$W" add a.txt && git -C "$W" commit -qm "$1" && git -C "$W" push -q "$R" HEAD:main 2>/dev/null
}
commit one
git -C "$W" tag v1 && git -C "$W" push -q "$R" v1 2>/dev/null
C1=$(git -C "$W" rev-parse HEAD)
commit two
C2=$(git -C "$W" rev-parse HEAD)

# ------------------------------------------------------------- local

run "$MLS" gitwatch --clone "$R" "$T/c1"
is "$RC" 0 "clone of a path: exit 0"
is "$OUT" "$C2 refs/remotes/origin/main" "... prints the commit of the remote HEAD's branch (main)"
is "$(cat "$T/c1/a.txt" 2>/dev/null)" two "... its tree is checked out"
is "$(git -C "$T/c1" rev-parse HEAD 2>/dev/null)" "$C2" "... HEAD detached at it (git agrees)"

run "$MLS" gitwatch --clone "file://$R" "$T/c2" --ref v1
is "$RC" 0 "clone of file:// at a tag: exit 0"
is "$OUT" "$C1 refs/tags/v1" "... the tag's commit"
is "$(cat "$T/c2/a.txt" 2>/dev/null)" one "... its tree"

commit three
C3=$(git -C "$W" rev-parse HEAD)
run "$MLS" gitwatch --fetch "$T/c2" --ref main
is "$RC" 0 "fetch, then the branch: exit 0"
is "$OUT" "$C3 refs/remotes/origin/main" "... the new commit"
is "$(cat "$T/c2/a.txt" 2>/dev/null)" three "... its tree"

run "$MLS" gitwatch --fetch "$T/c2" --ref "$C1"
is "$OUT" "$C1 $C1" "a commit id as the ref"
is "$(cat "$T/c2/a.txt" 2>/dev/null)" one "... its tree"

# force-push: main rewritten to a commit that does not descend from C3
git -C "$W" reset -q --hard "$C2"
printf 'forced\n' >"$W/a.txt"
git -C "$W" commit -qam forced && git -C "$W" push -q -f "$R" HEAD:main 2>/dev/null
CF=$(git -C "$W" rev-parse HEAD)
run "$MLS" gitwatch --fetch "$T/c2" --ref main
is "$OUT" "$CF refs/remotes/origin/main" "a force-pushed branch is followed"
is "$(cat "$T/c2/a.txt" 2>/dev/null)" forced "... its tree"

run "$MLS" gitwatch --fetch "$T/c2" --ref nope
is "$RC" 1 "an unknown ref: exit 1"
is "$ERR" "mls gitwatch: ref nope: no branch, tag or commit of that name" "... says so"

run "$MLS" gitwatch --clone "$T/nothing" "$T/c3"
is "$RC" 1 "a missing repository: exit 1"
like "$ERR" "^mls gitwatch: clone $T/nothing: " "... says which"

run "$MLS" gitwatch --clone git@example.org:team/app.git "$T/c4"
is "$RC" 1 "an scp-like ssh URL is refused"
like "$ERR" "ssh is not supported" "... with the reason"
run "$MLS" gitwatch --clone ssh://example.org/app.git "$T/c4"
like "$ERR" "ssh is not supported" "an ssh:// URL too"

# ------------------------------------------------------------ http(s)

command -v python3 >/dev/null 2>&1 || { done_testing; exit; }

serve() { # serve PORTFILE [CERT KEY]: tests/gitserver.py on $T/srv; PORT
	rm -f "$1"
	python3 "$TESTS_DIR/gitserver.py" "$T/srv" "$@" 2>"$1.err" &
	SRV_PIDS="$SRV_PIDS $!"
	for _ in $(seq 200); do [ -s "$1" ] && break; sleep 0.05; done
	PORT=$(cat "$1" 2>/dev/null)
}

serve "$T/http.port"
run "$MLS" gitwatch --clone "http://localhost:$PORT/app.git" "$T/h1"
is "$RC" 0 "clone over http:// (git http-backend): exit 0"
is "$OUT" "$CF refs/remotes/origin/main" "... the commit"
is "$(cat "$T/h1/a.txt" 2>/dev/null)" forced "... its tree"

if ! command -v openssl >/dev/null 2>&1; then
	skip "https: needs openssl"
	done_testing
	exit
fi
if "$MLS" --version | grep -q -- '-tls'; then
	run "$MLS" gitwatch --clone "https://localhost:1/app.git" "$T/s0"
	like "$ERR" "no TLS" "a NO_TLS build refuses https:// with a reason"
	done_testing
	exit
fi

# a test CA with a server certificate for localhost, and another CA
X=$T/certs
mkdir -p "$X"
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
# shellcheck disable=SC2086
if openssl req -x509 $ec -keyout "$X/ca.key" -out "$X/ca.pem" -days 2 \
		-subj "/CN=mls test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$X/err" &&
	openssl req -x509 $ec -keyout "$X/other.key" -out "$X/other.pem" -days 2 \
		-subj "/CN=another CA" \
		-addext "basicConstraints=critical,CA:TRUE" 2>>"$X/err" &&
	openssl req $ec -keyout "$X/srv.key" -out "$X/srv.csr" \
		-subj "/CN=localhost" 2>>"$X/err" &&
	printf '%s\n' "subjectAltName=DNS:localhost" "basicConstraints=CA:FALSE" \
		"extendedKeyUsage=serverAuth" >"$X/ext.cnf" &&
	openssl x509 -req -in "$X/srv.csr" -CA "$X/ca.pem" -CAkey "$X/ca.key" \
		-CAcreateserial -out "$X/srv.pem" -days 2 -extfile "$X/ext.cnf" 2>>"$X/err"
then
	ok 0 "openssl made a test CA and a server certificate"
else
	ok 1 "openssl made a test CA and a server certificate"
	sed 's/^/# /' "$X/err"
fi

serve "$T/https.port" "$X/srv.pem" "$X/srv.key"
run "$MLS" gitwatch --clone "https://localhost:$PORT/app.git" "$T/s1" --ca "$X/ca.pem" --ref v1
is "$RC" 0 "clone over https:// with the test CA: exit 0"
is "$ERR" "" "... nothing on stderr"
is "$OUT" "$C1 refs/tags/v1" "... the tag's commit"
is "$(cat "$T/s1/a.txt" 2>/dev/null)" one "... its tree"

commit four
C4=$(git -C "$W" rev-parse HEAD)
run "$MLS" gitwatch --fetch "$T/s1" --ca "$X/ca.pem" --ref main
is "$RC" 0 "fetch over https://: exit 0"
is "$OUT" "$C4 refs/remotes/origin/main" "... the new commit"

run "$MLS" gitwatch --clone "https://localhost:$PORT/app.git" "$T/s2" --ca "$X/other.pem"
is "$RC" 1 "https with another CA: exit 1"
is "$ERR" "mls gitwatch: clone https://localhost:$PORT/app.git: localhost: certificate not trusted (CA file $X/other.pem)" \
	"... certificate not trusted"
[ -e "$T/s2/a.txt" ]
ok $((!$?)) "... nothing checked out"

run "$MLS" gitwatch --fetch "$T/s1" --ca "$X/other.pem"
like "$ERR" "certificate not trusted" "a fetch with another CA: not trusted either"

run "$MLS" gitwatch --clone "https://127.0.0.1:$PORT/app.git" "$T/s3" --ca "$X/ca.pem"
is "$RC" 1 "https to 127.0.0.1 (the certificate names localhost): exit 1"
like "$ERR" "127\.0\.0\.1: certificate does not match the host name \(only DNS names" "... says the name does not match"

run "$MLS" gitwatch --clone "https://localhost:$PORT/app.git" "$T/s4" --ca "$T/no-such.pem"
is "$RC" 1 "a missing CA file: exit 1"
like "$ERR" "no-such\.pem" "... names it"

run "$MLS" gitwatch --clone "https://localhost:$PORT/app.git" "$T/s5" --ca "$X/srv.key"
is "$RC" 1 "a CA file without a certificate: exit 1"

# a server that accepts and never answers: the read timeout
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$T/hang.port" &
SRV_PIDS="$SRV_PIDS $!"
for _ in $(seq 200); do [ -s "$T/hang.port" ] && break; sleep 0.05; done
HP=$(cat "$T/hang.port")
t0=$(date +%s%N)
run "$MLS" gitwatch --clone "https://localhost:$HP/app.git" "$T/s6" --ca "$X/ca.pem" --timeout 1s
ms=$((($(date +%s%N) - t0) / 1000000))
is "$RC" 1 "a TLS server that never answers: exit 1"
like "$ERR" "timed out after 1000 ms" "... timed out ($ms ms)"
run "$MLS" gitwatch --clone "http://localhost:$HP/app.git" "$T/s7" --timeout 1s
like "$ERR" "timed out after 1000 ms" "... and over http:// too"

done_testing
