#!/usr/bin/env bash
# mls import autoexec: AutoExec's services list to an mls config, with the
# real binary: a typical list, names and duplicates, stdin, ssh lines and
# bad lines reported and left out (exit 1), usage errors, and the output
# accepted by mls validate.
# Needs: MLS (absolute path of the binary), TESTS_DIR.
. "${TESTS_DIR:?}/lib.sh"

# run_stdin FILE CMD ARGS...: as run, with stdin from FILE
run_stdin() {
	local in=$1
	shift
	"$@" <"$in" >"$T/.out" 2>"$T/.err"
	RC=$?
	OUT=$(cat "$T/.out")
	ERR=$(cat "$T/.err")
}

# validate_ok FILE DESC: mls validate -c FILE accepts it
validate_ok() {
	run "$MLS" validate -c "$1"
	is "$RC" 0 "$2: mls validate accepts it" || diag "$ERR"
}

# ---- usage ----

run "$MLS" import --help
is "$RC" 0 "import --help exits 0"
like "$OUT" '^usage: mls import autoexec FILE' "import --help: usage on stdout"
run "$MLS" import autoexec -h
is "$RC" 0 "import autoexec -h exits 0"
like "$OUT" '^usage: mls import' "import autoexec -h: usage on stdout"

run "$MLS" import
is "$RC" 2 "import without a format: exit 2"
like "$ERR" '^usage: mls import' "import without a format: usage on stderr"
run "$MLS" import foo x.txt
is "$RC" 2 "unknown format: exit 2"
like "$ERR" "^mls import: unknown format 'foo' \\(known: autoexec\\)" "unknown format: the message"
is "$OUT" "" "unknown format: nothing on stdout"
run "$MLS" import autoexec
is "$RC" 2 "import autoexec without a file: exit 2"
run "$MLS" import autoexec a.txt b.txt
is "$RC" 2 "import autoexec with two files: exit 2"
run "$MLS" import autoexec --frob
is "$RC" 2 "import autoexec with an option: exit 2"
run "$MLS" import autoexec "$T/nosuch.txt"
is "$RC" 2 "a file that is not there: exit 2"
is "$ERR" "mls import: $T/nosuch.txt: No such file or directory" "a file that is not there: the message"
run "$MLS" import autoexec "$T"
is "$RC" 2 "a directory: exit 2"

# ---- a typical list ----

cd "$T" || exit 1
cat >services.txt <<'EOF'
# AutoExec services of the Pi in the hall
https://github.com/Team/Weather-Station.git main /home/pi/weather

# the display, on its release branch
https://example.org/git/display release/2.x
	https://example.org/git/Display.git   # a fork, same repository name
file:///srv/git/backup.git
/srv/git/sensors.git v1.0 /opt/sensors   # trailing comment
https://example.org:8443/a/b/notes?x=1#top
EOF
cat >want.yaml <<'EOF'
# converted from AutoExec services.txt by mls import
services:
  weather-station:
    # AutoExec dir: /home/pi/weather (mls checks out under state_dir/git/weather-station)
    git:
      url: "https://github.com/Team/Weather-Station.git"
      ref: main
      interval: 30s
      rollback: true
  display:
    git:
      url: "https://example.org/git/display"
      ref: release/2.x
      interval: 30s
      rollback: true
  display-2:
    git:
      url: "https://example.org/git/Display.git"
      interval: 30s
      rollback: true
  backup:
    git:
      url: "file:///srv/git/backup.git"
      interval: 30s
      rollback: true
  sensors:
    # AutoExec dir: /opt/sensors (mls checks out under state_dir/git/sensors)
    git:
      url: "/srv/git/sensors.git"
      ref: v1.0
      interval: 30s
      rollback: true
  notes:
    git:
      url: "https://example.org:8443/a/b/notes?x=1#top"
      interval: 30s
      rollback: true
EOF
run "$MLS" import autoexec services.txt
is "$RC" 0 "a typical list: exit 0"
is "$ERR" "" "a typical list: nothing on stderr"
is "$OUT" "$(cat want.yaml)" "a typical list: the config (names, branches, dirs as comments, duplicates -2)"
"$MLS" import autoexec services.txt >typical.yaml 2>/dev/null
validate_ok typical.yaml "a typical list's config"

# through a link named mls-import too
ln -s "$MLS" "$T/mls-import"
run "$T/mls-import" autoexec services.txt
is "$OUT" "$(cat want.yaml)" "link mls-import: the same config"

# ---- stdin ----

run_stdin services.txt "$MLS" import autoexec -
is "$RC" 0 "stdin: exit 0"
is "$OUT" "$(sed '1s/services.txt/(stdin)/' want.yaml)" "stdin: the same config, the header says (stdin)"
printf '' >empty.txt
run_stdin empty.txt "$MLS" import autoexec -
is "$RC" 0 "empty stdin: exit 0"
is "$OUT" "$(printf '%s\n' '# converted from AutoExec (stdin) by mls import' 'services: {}')" "empty stdin: an empty services map"

# ---- names: derivation and duplicates ----

printf '%s\n' \
	'https://e.org/x/My_Repo.git' \
	'https://e.org/y/my_repo' \
	'https://e.org/z/MY_REPO/' \
	'https://e.org/my_repo-2' \
	'/srv/--Odd  Name' \
	'/srv/mls-httpd.git' \
	'/srv/caf'$'\xc3\xa9''.git' \
	"/srv/$(printf 'a%.0s' $(seq 70))" >names.txt
run "$MLS" import autoexec names.txt
is "$RC" 0 "names: exit 0"
is "$(printf '%s\n' "$OUT" | sed -n 's/^  \([^ ].*\):$/\1/p')" "$(printf '%s\n' my_repo my_repo-2 my_repo-3 my_repo-2-2 odd mls-httpd-2 caf- "$(printf 'a%.0s' $(seq 63))")" \
	"names: lower-cased, runs of other characters one '-', a letter or digit first, 63 at most, duplicates -2 -3, mls's own names avoided"
"$MLS" import autoexec names.txt >names.yaml 2>/dev/null
validate_ok names.yaml "the names' config"

# ---- ssh: reported, left out, the rest printed, exit 1 ----

cat >ssh.txt <<'EOF'
https://e.org/one.git
git@github.com:team/two.git main /opt/two
ssh://git@e.org/three.git
https://e.org/four.git dev
EOF
run "$MLS" import autoexec ssh.txt
is "$RC" 1 "ssh lines: exit 1"
is "$ERR" "$(printf '%s\n' \
	'mls import: ssh.txt:2: ssh URL not supported by mls (use https:// or file://): git@github.com:team/two.git' \
	'mls import: ssh.txt:3: ssh URL not supported by mls (use https:// or file://): ssh://git@e.org/three.git' \
	'mls import: 2 lines left out, 2 services converted')" "ssh lines: FILE:LINE and the URL on stderr"
is "$(printf '%s\n' "$OUT" | sed -n 's/^  \([^ ].*\):$/\1/p')" "$(printf '%s\n' one four)" "ssh lines: the other services are printed"
"$MLS" import autoexec ssh.txt >ssh.yaml 2>/dev/null
validate_ok ssh.yaml "the config without the ssh lines"

# ---- bad lines ----

cat >bad.txt <<'EOF'
https://e.org/ok.git
https://e.org/a.git main /opt/a extra
git://e.org/b.git
relative/c
https://e.org/d.git bad..branch
EOF
run "$MLS" import autoexec bad.txt
is "$RC" 1 "bad lines: exit 1"
is "$ERR" "$(printf '%s\n' \
	'mls import: bad.txt:2: more than 3 words (expected URL [BRANCH] [DIR])' \
	'mls import: bad.txt:3: URL scheme not supported by mls (use https:// or file://): git://e.org/b.git' \
	'mls import: bad.txt:4: relative path (mls needs https://HOST/PATH, file:///PATH or /PATH): relative/c' \
	'mls import: bad.txt:5: bad branch name: bad..branch' \
	'mls import: 4 lines left out, 1 service converted')" "bad lines: each with FILE:LINE"
like "$OUT" '^  ok:$' "bad lines: the good line is converted"
"$MLS" import autoexec bad.txt >bad.yaml 2>/dev/null
validate_ok bad.yaml "the config without the bad lines"

# ---- quoting: whatever the list holds, the YAML is valid ----

printf '%s\n' \
	'https://e.org/q?a="b"&c=d\e#f null' \
	'/srv/r 1.0 /opt/with#hash:colon' \
	'/srv/s v2 /opt/'$'\xe2\x80\xa8''x' >quote.txt
run "$MLS" import autoexec quote.txt
is "$RC" 0 "quoting: exit 0"
like "$OUT" '^      url: "https://e\.org/q\?a=\\"b\\"&c=d\\\\e#f"$' "quoting: '\"' and '\\' escaped in a double-quoted URL"
like "$OUT" '^      ref: "null"$' "quoting: a branch named null is quoted"
like "$OUT" '^    # AutoExec dir: "/opt/\\u2028x"' "quoting: a dir with a line separator is escaped in its comment"
"$MLS" import autoexec quote.txt >quote.yaml 2>/dev/null
validate_ok quote.yaml "the quoting config"

done_testing
