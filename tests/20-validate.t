#!/usr/bin/env bash
# mls validate: the corpus under tests/validate/ (good, warn, bad, generated)
# with exact messages and exit codes, then the options: --format json|github,
# --strict, --profile, DIR arguments, several -c files, usage errors.
#
# Runs everything with $MLS, and the corpus also with $MLS_DEV when set (the
# ASan/UBSan build: any sanitizer report breaks an exact comparison).
# See tests/validate/README.md for the layout of the corpus.
. "${TESTS_DIR:?}/lib.sh"

V=$TESTS_DIR/validate

# The environment validate runs in: fixed, so messages do not depend on the
# caller's. The sanitizer options the Makefile sets are passed through.
VENV=(env -i PATH=/usr/bin:/bin MLS_T_SET=value MLS_T_EMPTY=)
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
	[ -n "${!v+x}" ] && VENV+=("$v=${!v}")
done

# The kind of a binary: "dev" for a sanitizer build (glibc, make dev),
# "static" otherwise (the musl build the Makefile tests)
bin_kind() {
	if grep -qa -e __asan_init -e __ubsan_handle "$1"; then echo dev; else echo static; fi
}
BIN=$MLS   # the binary under test; the corpus loop below changes it
BIN_KIND=$(bin_kind "$MLS")
mlsv() { "${VENV[@]}" "$BIN" validate "$@"; }

# todo_for FILE.todo: mark the next result TODO when the case has a .todo
# file. A reason starting with "dev:" applies only to the $MLS_DEV build
# (glibc, sanitizers).
todo_for() {
	[ -f "$1" ] || return 0
	local why
	why=$(head -n 1 "$1")
	case $why in
	dev:*) [ "$BIN_KIND" = dev ] && todo "${why#dev: }" ;;
	*) todo "$why" ;;
	esac
	return 0
}

# check_case DESC WANT_RC EXPECTED_FILE_OR_TEXT: compares exit status,
# stderr (exactly) and stdout (empty) of the last run as one result
check_case() {
	local want_err got want
	if [ -f "$3" ]; then want_err=$(cat "$3"); else want_err=$3; fi
	got="exit $RC"$'\n'"$ERR"
	want="exit $2"$'\n'"$want_err"
	[ -n "$OUT" ] && got+=$'\n'"stdout: $OUT"
	is "$got" "$want" "$1"
}

# ---- the corpus ----

# Inputs not worth committing; each writes bad/NAME.yaml (in the current
# directory) and prints the exit status validate must give.
gen_garbage() {
	printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\002\000>\000\001\000\000\000' >bad/garbage.yaml
	echo 1
}
gen_invalid_utf8() { # a lone continuation byte
	printf 'services:\n  web:\n    command: ["caf\200"]\n' >bad/invalid-utf8.yaml
	echo 1
}
gen_latin1() { # "café" written in Latin-1
	printf 'services:\n  web:\n    command: ["caf\351"]\n' >bad/latin1.yaml
	echo 1
}
gen_too_big() { # one byte over the 16 MiB limit
	head -c $((16 * 1024 * 1024 + 1)) /dev/zero | tr '\0' '#' >bad/too-big.yaml
	echo 1
}
gen_exactly_16mib() { # at the limit: accepted
	local head='services: {web: {command: ["sleep", "1"]}}'$'\n'
	{
		printf '%s#' "$head"
		head -c $((16 * 1024 * 1024 - ${#head} - 2)) /dev/zero | tr '\0' 'x'
		printf '\n'
	} >bad/exactly-16mib.yaml
	echo 0
}

mkdir "$T/gen" "$T/gen/bad"
(
	cd "$T/gen" || exit 1
	for f in "$V"/generated/*.expected; do
		n=$(basename "$f" .expected)
		"gen_${n//-/_}" >"bad/$n.rc"
	done
)

run_corpus() {
	local f n
	for f in "$V"/good/*.yaml; do
		n=${f#"$V"/}
		run_in "$V" mlsv "$n"
		todo_for "${f%.yaml}.todo"
		check_case "[$BIN_KIND] $n: valid, no findings" 0 "0 errors, 0 warnings"
	done

	for f in "$V"/warn/*.yaml; do
		n=${f#"$V"/}
		[ -f "${f%.yaml}.expected" ] || continue
		run_in "$V" mlsv "$n"
		todo_for "${f%.yaml}.todo"
		check_case "[$BIN_KIND] $n: valid, with the expected warnings" 0 "${f%.yaml}.expected"
		run_in "$V" mlsv --strict "$n"
		is "$RC" 1 "[$BIN_KIND] $n --strict: exit 1"
	done

	for f in "$V"/bad/*.yaml; do
		n=${f#"$V"/}
		run_in "$V" mlsv "$n"
		todo_for "${f%.yaml}.todo"
		check_case "[$BIN_KIND] $n: invalid, with the expected errors" 1 "${f%.yaml}.expected"
	done

	for f in "$V"/generated/*.expected; do
		n=$(basename "$f" .expected)
		run_in "$T/gen" mlsv "bad/$n.yaml"
		todo_for "${f%.expected}.todo"
		check_case "[$BIN_KIND] generated bad/$n.yaml: the expected findings" "$(cat "$T/gen/bad/$n.rc")" "$f"
	done

	# git: is active; depth is warned about (libgit2 1.5.1 fetches in
	# full); a build without git says so
	run_in "$V" mlsv warn/git.yaml
	is "$RC" 0 "[$BIN_KIND] warn/git.yaml: exit 0"
	like "$ERR" "warn/git\.yaml:6:96: warning: services\.app\.git\.depth: fetches are full in this build" \
		"[$BIN_KIND] warn/git.yaml: warns that depth is not applied"
	case $("$BIN" --version) in
	*-git*) like "$ERR" "this build has no git: built with NO_GIT=1\)$" "[$BIN_KIND] warn/git.yaml: says this build has no git" ;;
	*) unlike "$ERR" "this build has no git" "[$BIN_KIND] warn/git.yaml: git is built in" ;;
	esac

	# An empty directory: a usage error, and no crash
	mkdir -p "$T/emptydir"
	run_in "$T" mlsv emptydir
	check_case "[$BIN_KIND] an empty DIR: exit 2" 2 \
		"emptydir: error: no *.yaml or *.yml files in this directory"$'\n'"1 error, 0 warnings"
}

run_corpus
if [ -n "${MLS_DEV:-}" ] && [ -x "$MLS_DEV" ] && [ "$MLS_DEV" != "$MLS" ]; then
	BIN=$MLS_DEV
	BIN_KIND=$(bin_kind "$MLS_DEV")
	run_corpus
	BIN=$MLS
	BIN_KIND=$(bin_kind "$MLS")
fi

# ---- a directory: each *.yaml / *.yml on its own, not recursive ----

mkdir -p "$T/dir/sub"
cat >"$T/dir/a.yaml" <<'EOF'
services:
  web:
    command: ["sleep", "1000"]
    port: 8080
EOF
cat >"$T/dir/b.yml" <<'EOF'
services:
  web:                  # the same name and port as in a.yaml: another config
    command: ["sleep", "1000"]
    port: 8080
    replicas: 0
EOF
echo 'not: [yaml' >"$T/dir/c.txt"
echo 'not: [yaml' >"$T/dir/sub/d.yaml"
want_dir="dir/b.yml:5:15: error: services.web.replicas: expected an integer from 1 to 1000, got '0'
1 error, 0 warnings"
run_in "$T" mlsv dir
check_case "DIR: every *.yaml and *.yml checked as a config of its own, not subdirectories" 1 "$want_dir"
run_in "$T" mlsv dir/
check_case "DIR/: the same" 1 "$want_dir"
rm "$T/dir/b.yml"
run_in "$T" mlsv dir
check_case "DIR with only good configs: exit 0" 0 "0 errors, 0 warnings"

run_in "$V" mlsv good
[ -n "$(ls "$V"/good/*.todo 2>/dev/null)" ] && todo "good/ holds cases marked TODO"
check_case "tests/validate/good as a DIR: exit 0, no findings" 0 "0 errors, 0 warnings"

run_in "$V" mlsv good/full.yaml bad/depends-self.yaml good/jobs.yaml
check_case "several FILE arguments: each checked, one summary" 1 \
	"bad/depends-self.yaml:4:17: error: services.web.depends_on: a service cannot depend on itself
1 error, 0 warnings"

# ---- files that cannot be read: exit 2 ----

run_in "$T" mlsv nosuch.yaml
check_case "a file that does not exist: exit 2" 2 \
	"nosuch.yaml: error: cannot open: No such file or directory"$'\n'"1 error, 0 warnings"
run_in "$V" mlsv good/jobs.yaml nosuch.yaml
is "$RC" 2 "a good file and a missing one: exit 2"
run_in "$T" mlsv -c dir
check_case "-c DIR: exit 2" 2 "dir: error: is a directory"$'\n'"1 error, 0 warnings"
if [ ! -e /etc/mls/mls.yaml ]; then
	run mlsv
	check_case "no argument: reads /etc/mls/mls.yaml (missing here): exit 2" 2 \
		"/etc/mls/mls.yaml: error: cannot open: No such file or directory"$'\n'"1 error, 0 warnings"
else
	skip_always "/etc/mls/mls.yaml exists on this machine"
fi

# a pipe is read like a file
run bash -c 'printf "services:\n  web:\n    command: [\"true\"]\n" | "$@" /dev/stdin' _ "${VENV[@]}" "$MLS" validate
is "$RC" 0 "a config on a pipe (/dev/stdin): exit 0"
run bash -c 'head -c 17000000 /dev/zero | tr "\0" "#" | "$@" /dev/stdin' _ "${VENV[@]}" "$MLS" validate
check_case "over 16 MiB on a pipe: exit 1" 1 "/dev/stdin: error: file is larger than 16 MiB"$'\n'"1 error, 0 warnings"

# ---- usage errors: exit 2 ----

run mlsv --bogus
is "$RC" 2 "unknown option: exit 2"
like "$ERR" "^mls validate: unknown option '--bogus'" "unknown option: says which"
like "$ERR" "usage: mls validate" "unknown option: usage on stderr"
is "$OUT" "" "unknown option: nothing on stdout"
run mlsv --format xml good.yaml
is "$RC" 2 "--format xml: exit 2"
like "$ERR" "unknown format 'xml'" "--format xml: says which"
run mlsv --format
is "$RC" 2 "--format without a value: exit 2"
run mlsv -c
is "$RC" 2 "-c without a value: exit 2"
run mlsv --profile
is "$RC" 2 "--profile without a value: exit 2"
run mlsv --help
is "$RC" 0 "validate --help: exit 0"
like "$OUT" "^usage: mls validate" "validate --help: usage on stdout"

# ---- --strict ----

run_in "$V" mlsv --strict good/full.yaml
is "$RC" 0 "--strict on a config without warnings: exit 0"
run_in "$V" mlsv --strict warn/empty.yaml
check_case "--strict on a config with warnings: exit 1, the same messages" 1 "$V/warn/empty.expected"
run_in "$V" mlsv warn/empty.yaml --strict
is "$RC" 1 "--strict after the file: exit 1"

# ---- --format json ----

json_ok() { # DESC PYTHON_EXPR (on the document d)
	local st
	json_check "$OUT" "$2"
	st=$?
	if [ $st -eq 77 ]; then
		skip "$1 (no python3)"
	else
		ok $st "$1" || diag "stdout: $OUT"
	fi
}

run_in "$V" mlsv --format json bad/depends-unknown.yaml
is "$RC" 1 "--format json, bad config: exit 1"
json_ok "--format json: one JSON document with valid false" 'd["valid"] is False and len(d["errors"]) == 2'
json_ok "--format json: each finding has file, line, column, severity, message, key" \
	'all(set(e) >= {"file","line","column","severity","message","key"} for e in d["errors"])'
json_ok "--format json: the first finding's values" \
	'd["errors"][0] == {"file": "bad/depends-unknown.yaml", "line": 4, "column": 18, "severity": "error",
	 "message": "services.web.depends_on: unknown service '"'"'databse'"'"' (did you mean '"'"'database'"'"'?)",
	 "key": "services.web.depends_on"}'
is "$ERR" "" "--format json: nothing on stderr"

run_in "$V" mlsv --format=json good/full.yaml
is "$RC" 0 "--format=json, good config: exit 0"
json_ok "--format=json, good config: valid true, no findings" 'd["valid"] is True and d["errors"] == []'

run_in "$V" mlsv --format json warn/empty.yaml
is "$RC" 0 "--format json, warnings only: exit 0"
json_ok "--format json, warnings only: valid, severity warning, no line (0), key null" \
	'd["valid"] is True and d["errors"] == [{"file": "warn/empty.yaml", "line": 0, "column": 0,
	 "severity": "warning", "message": "no services defined", "key": None}]'

run_in "$V" mlsv --format json --strict warn/empty.yaml
is "$RC" 1 "--format json --strict, warnings only: exit 1"

run_in "$T" mlsv --format json nosuch.yaml
is "$RC" 2 "--format json, missing file: exit 2"
json_ok "--format json, missing file: the finding is in the document" \
	'd["valid"] is False and d["errors"][0]["file"] == "nosuch.yaml" and "cannot open" in d["errors"][0]["message"]'

run_in "$V" mlsv --format json bad/env-required.yaml bad/depends-self.yaml
json_ok "--format json, two files: one document with the findings of both" \
	'[e["file"] for e in d["errors"]] == ["bad/env-required.yaml"] * 2 + ["bad/depends-self.yaml"]'

# ---- --format github ----

run_in "$V" mlsv --format github bad/depends-unknown.yaml
is "$RC" 1 "--format github, bad config: exit 1"
is "$OUT" "::error file=bad/depends-unknown.yaml,line=4,col=18::services.web.depends_on: unknown service 'databse' (did you mean 'database'?)
::error file=bad/depends-unknown.yaml,line=4,col=27::services.web.depends_on: unknown service 'redis'" \
	"--format github: one ::error workflow command per finding, on stdout"
run_in "$V" mlsv --format github warn/later-features.yaml
like "$OUT" "^::warning file=warn/later-features\.yaml,line=13,col=5::services\.web\.notify: not supported yet" \
	"--format github: warnings as ::warning"
run_in "$V" mlsv --format github warn/empty.yaml
is "$OUT" "::warning file=warn/empty.yaml::no services defined" "--format github: no line or col when there is none"
cp "$V/bad/depends-self.yaml" "$T/a,b:c.yaml"
run_in "$T" mlsv --format github "a,b:c.yaml"
is "$OUT" "::error file=a%2Cb%3Ac.yaml,line=4,col=17::services.web.depends_on: a service cannot depend on itself" \
	"--format github: ',' and ':' escaped in the file name"

# ---- --profile ----

run_in "$V" mlsv good/profiles.yaml
is "$RC" 0 "profiles: valid without --profile"
run_in "$V" mlsv --profile dev good/profiles.yaml
is "$RC" 0 "profiles: --profile dev (debug and tools active): valid"
run_in "$V" mlsv --profile debug good/profiles.yaml
is "$RC" 1 "profiles: --profile debug alone: debug depends on tools, which is off: exit 1"
like "$ERR" "^good/profiles\.yaml:9:18: error: services\.debug\.depends_on: .*'tools'" \
	"profiles: --profile debug: the dependency on an inactive service is the error"
run_in "$V" mlsv --profile debug --profile dev good/profiles.yaml
is "$RC" 0 "profiles: --profile debug --profile dev: valid"
run_in "$V" mlsv --profile=dev --profile=other good/profiles.yaml
is "$RC" 1 "profiles: --profile=dev --profile=other: tools and tools-too share port 9000"
like "$ERR" "^good/profiles\.yaml:17:11: error: services\.tools-too\.port: port 9000 of tools-too\.1 is also the port of tools\.1" \
	"profiles: the port conflict of two active services"

cat >"$T/prof.yaml" <<'EOF'
services:
  web:
    command: ["sleep", "1000"]
    depends_on: [debug]
  debug:
    command: ["mls-no-such-program"]
    profiles: [dev]
  broken:
    command: ["sleep", "1000"]
    profiles: [never]
    replicas: 0
EOF
run_in "$T" mlsv prof.yaml
check_case "profiles: an active service depending on an inactive one is an error; inactive ones are still checked" 1 \
	"prof.yaml:4:18: error: services.web.depends_on: 'debug' is not enabled by the active profiles
prof.yaml:11:15: error: services.broken.replicas: expected an integer from 1 to 1000, got '0'
2 errors, 0 warnings"
run_in "$T" mlsv --profile dev prof.yaml
check_case "profiles: with --profile dev the dependency is fine, and the program of debug is checked" 1 \
	"prof.yaml:6:14: warning: services.debug.command: program 'mls-no-such-program' not found in PATH
prof.yaml:11:15: error: services.broken.replicas: expected an integer from 1 to 1000, got '0'
1 error, 1 warning"

# ---- several -c files merge: later keys win, maps merge, lists replace ----

cat >"$T/base.yaml" <<'EOF'
services:
  web:
    command: ["sleep", "1000"]
    replicas: 0
    depends_on: [db, cache]
    healthcheck: {http: "http://127.0.0.1:8080/"}
  db:
    command: ["sleep", "1000"]
EOF
cat >"$T/fix-scalar.yaml" <<'EOF'
services:
  web:
    replicas: 2
EOF
cat >"$T/fix-list.yaml" <<'EOF'
services:
  web:
    depends_on: [db]
EOF
cat >"$T/add-tcp.yaml" <<'EOF'
services:
  web:
    healthcheck: {tcp: "127.0.0.1:8080"}
EOF
cat >"$T/new-service.yaml" <<'EOF'
services:
  cache:
    command: ["sleep", "1000"]
EOF
base_errs="base.yaml:4:15: error: services.web.replicas: expected an integer from 1 to 1000, got '0'
base.yaml:5:22: error: services.web.depends_on: unknown service 'cache'"

run_in "$T" mlsv -c base.yaml
check_case "-c base.yaml alone: its errors" 1 "$base_errs
2 errors, 0 warnings"
run_in "$T" mlsv -c base.yaml -c fix-scalar.yaml -c fix-list.yaml
check_case "-c base -c fix-scalar -c fix-list: a later scalar overrides, a later list replaces: valid" 0 \
	"0 errors, 0 warnings"
run_in "$T" mlsv -c base.yaml --config fix-scalar.yaml --config=new-service.yaml
check_case "-c base --config fix-scalar --config=new-service: services maps merge (cache now exists)" 0 \
	"0 errors, 0 warnings"
run_in "$T" mlsv -c fix-scalar.yaml -c base.yaml -c fix-list.yaml
check_case "order matters: base after fix-scalar overrides the fix back" 1 \
	"base.yaml:4:15: error: services.web.replicas: expected an integer from 1 to 1000, got '0'
1 error, 0 warnings"
run_in "$T" mlsv -c base.yaml -c fix-scalar.yaml -c fix-list.yaml -c add-tcp.yaml
check_case "maps merge: healthcheck {http} + {tcp} holds both, an error" 1 \
	"add-tcp.yaml:3:19: error: services.web.healthcheck: 'http' and 'tcp' are mutually exclusive: a health check has exactly one of http, tcp, exec
1 error, 0 warnings"
cat >"$T/reset-http.yaml" <<'EOF'
services:
  web:
    healthcheck: {http: ~, tcp: "127.0.0.1:8080"}
EOF
run_in "$T" mlsv -c base.yaml -c fix-scalar.yaml -c fix-list.yaml -c reset-http.yaml
check_case "maps merge: http: ~ resets the earlier kind, so tcp replaces it: valid" 0 "0 errors, 0 warnings"
run_in "$T" mlsv -c fix-scalar.yaml
check_case "-c of a partial file alone: the service has no command" 1 \
	"fix-scalar.yaml:2:3: error: services.web: missing 'command' (or 'git:', whose autoexec.txt names it, or 'image')
1 error, 0 warnings"
run_in "$T" mlsv -c base.yaml -c fix-scalar.yaml -c fix-list.yaml dir/a.yaml
check_case "-c files and a FILE: two configs" 0 "0 errors, 0 warnings"

# ---- scale: 1,000 services, and more findings than are kept ----

{
	echo "services:"
	for i in $(seq 1 1000); do
		printf '  s%d: {command: ["sleep", "1000"], port: %d, depends_on: [%s]}\n' "$i" $((10000 + i)) "$([ "$i" -gt 1 ] && echo "s$((i - 1))")"
	done
} >"$T/many.yaml"
run_in "$T" mlsv many.yaml
check_case "1,000 services with ports and dependencies: valid" 0 "0 errors, 0 warnings"

{
	echo "services:"
	for i in $(seq 1 1100); do
		printf '  s%d: {command: ["sleep", "1000"], replicas: 0}\n' "$i"
	done
} >"$T/toomany.yaml"
run_in "$T" mlsv toomany.yaml
is "$RC" 1 "1,100 errors: exit 1"
is "$(printf '%s\n' "$ERR" | wc -l)" 1002 "1,100 errors: 1,000 shown, then a note and the summary"
is "$(printf '%s\n' "$ERR" | tail -n 2)" "mls: too many findings; only the first 1000 are shown
1100 errors, 0 warnings" "1,100 errors: the note and the summary count all"

# ---- findings of many files stay grouped by file ----

mkdir "$T/many-inc"
for k in $(seq -w 1 70); do
	{
		for j in $(seq 1 $((100 - 10#$k))); do echo "# padding"; done
		printf 'services:\n  s%s: {command: ["sleep", "1"], replicas: 0}\n' "$k"
	} >"$T/many-inc/f$k.yaml"
done
echo 'include: "many-inc/*.yaml"' >"$T/many-inc.yaml"
run_in "$T" mlsv many-inc.yaml
is "$(printf '%s\n' "$ERR" | sed -n 's/^many-inc\/f\([0-9]*\)\.yaml:.*/\1/p' | tr '\n' ' ')" "$(seq -w 1 70 | tr '\n' ' ')" \
	"70 included files with an error each: the findings in file order"

done_testing
