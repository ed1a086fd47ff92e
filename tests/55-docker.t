#!/usr/bin/env bash
# Services with image: / build: (issue 12 §3, docs/docker.md), run through
# mls docker-run and the Docker CLI.
#
# NO CONTAINER ENGINE RUNS HERE: the test machines have none (podman fails
# on the host's cgroups). `docker` below is a STAND-IN, a shell script put
# first in PATH that records its arguments and fakes the four calls
# mls docker-run makes (rm, build, run, stop). What this proves is the CLI
# contract: the exact arguments, the order of the calls, logs, signals and
# exit codes. It proves nothing about a real engine.
# Needs: MLS, TESTS_DIR, python3; MLS_DEV for the sanitizer runs.
. "${TESTS_DIR:?}/lib.sh"
. "$TESTS_DIR/sv.sh"

have_python3 || skip_all "needs python3"

D=$T/d           # the stand-in's records: calls, NAME.pid, exit-NAME
mkdir -p "$D" "$T/bin" "$T/pod" "$T/empty" "$T/app" "$T/bad"
touch "$T/app/Dockerfile" "$T/bad/Dockerfile"

# ---- the STAND-IN docker CLI (not Docker: see the top of this file)
cat >"$T/bin/docker" <<'EOF'
#!/bin/sh
# STAND-IN for the Docker CLI, for tests/55-docker.t only: no engine, no
# container. Appends "PROG ARGS" to $STANDIN_DIR/calls and fakes:
#   rm -f NAME         nothing
#   build -t TAG DIR   prints a line; exits 7 when DIR ends in /bad
#   run ... --name NAME ... IMAGE [CMD]
#                      prints a line with PORT and GREETING, records its pid
#                      in NAME.pid, then loops: TERM ends it (143), HUP is
#                      printed; the file exit-NAME (one shot) makes it exit
#                      with the code it holds
#   stop -t N NAME     TERM to the pid recorded for NAME
D=$STANDIN_DIR
echo "${0##*/} $*" >>"$D/calls"
case $1 in
build)
	echo "standin build: $*"
	case $4 in */bad) echo "standin build: failed"; exit 7 ;; esac ;;
stop) kill -TERM "$(cat "$D/$4.pid")" ;;
run)
	name= prev=
	for a; do [ "$prev" = --name ] && name=$a; prev=$a; done
	echo $$ >"$D/$name.pid"
	echo "standin run $name: PORT=${PORT-} GREETING=${GREETING-} MLS_INSTANCE=${MLS_INSTANCE-}"
	trap 'echo "standin run $name: TERM"; exit 143' TERM
	trap 'echo "standin run $name: HUP"' HUP
	while :; do
		if [ -f "$D/exit-$name" ]; then
			c=$(cat "$D/exit-$name"); rm -f "$D/exit-$name"
			echo "standin run $name: exit $c"; exit "$c"
		fi
		sleep 0.05
	done ;;
esac
exit 0
EOF
chmod +x "$T/bin/docker"
cp "$T/bin/docker" "$T/pod/podman-standin"
export STANDIN_DIR=$D

calls() { cat "$D/calls" 2>/dev/null; }
has_call() { grep -qxF -- "$1" "$D/calls" 2>/dev/null; }
# line number of the first call equal to $1 (0: none)
call_at() { grep -nxF -- "$1" "$D/calls" 2>/dev/null | head -1 | cut -d: -f1 | grep . || echo 0; }
# a line of the services' output (supervise's stdout) or of mls's own log (its stderr)
logged() { grep -qF -- "$1" "$SV_OUT"; }
said() { grep -qF -- "$1" "$SV_ERR"; }

cat >"$T/m.yaml" <<EOF
state_dir: $T/s
services:
  web:
    image: "example/web:1"
    port: auto
    replicas: 2
    environment: {GREETING: hello}
    command: [serve, --port, "\${PORT}"]
    stop_grace_period: 3s
    restart_backoff: {initial: 100ms}
  built:
    build: app
  broken:
    build: bad
    restart: "no"
  pod:
    image: alpine
    docker_cli: $T/pod/podman-standin
    stop_signal: INT
EOF

# ---- validate: the stand-in is "a docker CLI in PATH"; without one, a warning
run env PATH="$T/bin:/usr/bin:/bin" "$MLS" validate "$T/m.yaml"
is "$RC" 0 "validate: a docker service is valid"
is "$ERR" "0 errors, 0 warnings" "validate: nothing to say with a CLI in PATH and a Dockerfile in each build:"
run env PATH="$T/empty" "$MLS" validate "$T/m.yaml"
like "$ERR" "m\.yaml:4:12: warning: services\.web\.image: docker CLI not found in PATH" "validate without a CLI: warns for web"
like "$ERR" "services\.built\.build: docker CLI not found in PATH" "... and for built"
unlike "$ERR" "services\.pod\." "... but not for pod (its docker_cli is there)"
rm "$T/bad/Dockerfile"
run env PATH="$T/bin:/usr/bin:/bin" "$MLS" validate "$T/m.yaml"
like "$ERR" "services\.broken\.build: '$T/bad' has no Dockerfile" "validate: a build: directory without a Dockerfile"
touch "$T/bad/Dockerfile"

# ---- supervise with the stand-in first in PATH
PATH="$T/bin:$PATH" sv_start "$T/m.yaml"
wait_for "web.1 and web.2 run" 10 eval 'state_is web.1 running && state_is web.2 running'
P1=$(field_of web.1 port)
P2=$(field_of web.2 port)
ok $([ "$P1" -gt 0 ] && [ "$P2" -gt 0 ] && [ "$P1" != "$P2" ]; echo $?) "two different auto ports ($P1, $P2)"
wait_for "the stand-in's run for web.1 was called" 10 has_call "docker run --rm --init=false --name mls-web-1 -p $P1:$P1 -e PORT -e MLS_SERVICE -e MLS_INSTANCE -e GREETING example/web:1 serve --port $P1"
ok $(has_call "docker run --rm --init=false --name mls-web-2 -p $P2:$P2 -e PORT -e MLS_SERVICE -e MLS_INSTANCE -e GREETING example/web:1 serve --port $P2"; echo $?) "web.2's run: its own name and port"
R=$(call_at "docker rm -f mls-web-1")
ok $([ "$R" -gt 0 ] && [ "$R" -lt "$(call_at "docker run --rm --init=false --name mls-web-1 -p $P1:$P1 -e PORT -e MLS_SERVICE -e MLS_INSTANCE -e GREETING example/web:1 serve --port $P1")" ]; echo $?) "a stale mls-web-1 is removed before the run"
wait_for "the container's output reaches mls's log" 10 logged "web.1 | standin run mls-web-1: PORT=$P1 GREETING=hello MLS_INSTANCE=1"
wait_for "... web.2's too" 10 logged "web.2 | standin run mls-web-2: PORT=$P2 GREETING=hello MLS_INSTANCE=2"

# build: then run, tagged mls-NAME
wait_for "built.1 runs" 10 state_is built.1 running
wait_for "built's run was called" 10 has_call "docker run --rm --init=false --name mls-built-1 -e MLS_SERVICE -e MLS_INSTANCE mls-built"
B=$(call_at "docker build -t mls-built $T/app")
ok $([ "$(call_at "docker rm -f mls-built-1")" -lt "$B" ] && [ "$B" -gt 0 ] && [ "$B" -lt "$(call_at "docker run --rm --init=false --name mls-built-1 -e MLS_SERVICE -e MLS_INSTANCE mls-built")" ]; echo $?) "rm -f, then build -t mls-built DIR, then run"
ok $(logged "built.1 | standin build: build -t mls-built $T/app"; echo $?) "the build's output is in the log"

# a failing build: no run, the start fails with the build's status
wait_for "broken.1 ends (restart: no)" 10 eval 'state_is broken.1 exited || state_is broken.1 failed'
is "$(field_of broken.1 exit_code)" 7 "broken.1's exit code is the build's (7)"
ok $(! grep -q "run .*mls-broken" "$D/calls"; echo $?) "no run after a failed build"
ok $(logged "mls docker-run: $T/bin/docker build -t mls-broken $T/bad failed: exit status 7"; echo $?) "the log says the build failed"

# docker_cli:
wait_for "pod.1 runs with its docker_cli" 10 has_call "podman-standin run --rm --init=false --name mls-pod-1 --stop-signal SIGINT -e MLS_SERVICE -e MLS_INSTANCE alpine"
ok $(! grep -q "^docker .*mls-pod" "$D/calls"; echo $?) "... and never with the docker in PATH"

# other signals are passed on to the run CLI
ctl signal HUP web.1
wait_for "ctl signal HUP reaches the run CLI (stand-in)" 10 logged "web.1 | standin run mls-web-1: HUP"
is "$(field_of web.1 state)" running "... and web.1 keeps running"

# an exit code of the container propagates; the restart policy applies
PID2=$(pid_of web.2)
echo 3 >"$D/exit-mls-web-2"
wait_for "web.2's container exits 3: the instance's exit code is 3" 10 eval '[ "$(field_of web.2 exit_code)" = 3 ]'
wait_for "... and web.2 is restarted (restart: always)" 10 eval 'state_is web.2 running && [ "$(pid_of web.2)" != "$PID2" ]'
is "$(grep -cxF "docker rm -f mls-web-2" "$D/calls")" 2 "... with rm -f again before its second run"

# stop: docker stop -t (grace 3s less a fifth = 2) NAME, within the grace
t0=$(date +%s%N)
ctl stop web.1
t1=$(date +%s%N)
is "$RC" 0 "ctl stop web.1"
ok $(has_call "docker stop -t 2 mls-web-1"; echo $?) "ctl stop runs 'docker stop -t 2 mls-web-1'"
is "$(field_of web.1 state)" stopped "web.1 is stopped"
ms=$(((t1 - t0) / 1000000))
ok $([ "$ms" -lt 3000 ]; echo $?) "... within its grace of 3s ($ms ms)"
ok $(logged "web.1 | standin run mls-web-1: TERM"; echo $?) "the stand-in's run got TERM from its stop"
ok $(! said "web.1: still running"; echo $?) "no SIGKILL was needed"
ok $(! has_call "docker stop -t 2 mls-web-2"; echo $?) "web.2 was not stopped"
sv_stop
is "$SV_RC" 0 "the supervisor stops"
ok $(has_call "docker stop -t 2 mls-web-2"; echo $?) "its shutdown stops web.2 with docker stop"
ok $(has_call "podman-standin stop -t 8 mls-pod-1"; echo $?) "... and pod (stop_signal INT, grace 10s) with its docker_cli's stop -t 8"

# ---- no docker CLI at all: that service fails, the others run
cat >"$T/n.yaml" <<EOF
state_dir: $T/s2
services:
  nodock:
    image: alpine
  other:
    command: [/bin/sleep, "1000"]
EOF
for bin in "$MLS" "${MLS_DEV:-}"; do
	[ -n "$bin" ] && [ -x "$bin" ] || continue
	kind=release; [ "$bin" = "$MLS" ] || kind=sanitizer
	rm -rf "$T/s2"
	# supervise with an empty PATH (sv_start itself needs one)
	printf '#!/bin/sh\nPATH=%s exec %s "$@"\n' "$T/empty" "$bin" >"$T/mls-nopath"
	chmod +x "$T/mls-nopath"
	MLS=$T/mls-nopath sv_start "$T/n.yaml"
	wait_for "$kind: other.1 runs" 10 state_is other.1 running
	wait_for "$kind: nodock.1 fails" 10 state_is nodock.1 failed
	ctl status
	like "$OUT" "nodock\.1 +failed .*docker CLI not found" "$kind: ctl status: 'failed ... docker CLI not found'"
	never_within "$kind: no restart loop" 1 eval '[ "$(field_of nodock.1 restarts)" != 0 ]'
	sv_stop
	ERR=$(cat "$SV_ERR")
	no_sanitizer_report "$kind supervise"
done

# ---- mls docker-run itself, under the sanitizer build when there is one
BIN=${MLS_DEV:-$MLS}
[ -x "$BIN" ] || BIN=$MLS
: >"$D/calls"
PATH="$T/bin:$PATH" GREETING=hi "$BIN" docker-run --name mls-x-1 --image img --stop-timeout 5 -e GREETING -- a b \
	>"$T/x.out" 2>"$T/x.err" &
XP=$!
wait_for "docker-run: the run CLI started" 10 has_call "docker run --rm --init=false --name mls-x-1 -e MLS_SERVICE -e MLS_INSTANCE -e GREETING img a b"
wait_for "... its output on docker-run's stdout" 10 grep -q "standin run mls-x-1: PORT= GREETING=hi" "$T/x.out"
kill -TERM "$XP"
wait "$XP"
is "$?" 143 "docker-run: TERM -> docker stop, then the run's status (143)"
ok $(has_call "docker stop -t 5 mls-x-1"; echo $?) "... 'docker stop -t 5 mls-x-1'"
ERR=$(cat "$T/x.err")
no_sanitizer_report "docker-run TERM"
echo 3 >"$D/exit-mls-x-1"
PATH="$T/bin:$PATH" run "$BIN" docker-run --name mls-x-1 --image img
is "$RC" 3 "docker-run: the run's exit code (3)"
no_sanitizer_report "docker-run exit 3"
printf 'A=1\nexport B="two"\n# c\n' >"$T/e.env"
echo 0 >"$D/exit-mls-x-1"
PATH="$T/bin:$PATH" run "$BIN" docker-run --name mls-x-1 --image img -e A --env-file "$T/e.env" --port 8080
ok $(has_call "docker run --rm --init=false --name mls-x-1 -p 8080:8080 -e PORT -e MLS_SERVICE -e MLS_INSTANCE -e A -e B img"; echo $?) "docker-run: an env_file's names as -e, once each"
run env PATH="$T/empty" "$BIN" docker-run --name mls-x-1 --image img
is "$RC" 127 "docker-run without a CLI: exit 127"
like "$ERR" "^mls docker-run: docker CLI not found" "... and says so"
no_sanitizer_report "docker-run no CLI"

done_testing
