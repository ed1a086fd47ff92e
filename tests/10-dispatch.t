#!/usr/bin/env bash
# The multi-call binary: --list, --help, --version, --install, links named
# APPLET / mls-APPLET / -mls-APPLET / init, unknown applets, exit codes.
# Needs: MLS (absolute path of the binary), TESTS_DIR.
. "${TESTS_DIR:?}/lib.sh"

APPLETS="supervise ctl health docker-run gitwatch httpd import validate"
STUBS="gitwatch httpd"
# mls health without a URL asks a supervisor: none listens at this socket
export MLS_SOCKET="$T/no-supervisor.sock"

# A config validate accepts, and one it refuses (with a known message)
mkdir -p "$T/cfg"
cat >"$T/cfg/good.yaml" <<'EOF'
services:
  web:
    command: ["/bin/sh", "-c", "exit 0"]
EOF
cat >"$T/cfg/bad.yaml" <<'EOF'
services:
  web:
    command: ["/bin/sh", "-c", "exit 0"]
    replicas: 0
EOF
BAD_MSG="bad.yaml:4:15: error: services.web.replicas: expected an integer from 1 to 1000, got '0'"

# What a stub applet says: "mls NAME: not implemented yet" (gitwatch in a
# build without git says that instead)
# ctl without a command says so (exit 2); supervise without -c reads
# /etc/mls/mls.yaml, which is not there on a build machine (exit 1).
stub_re() {
	if [ "$1" = ctl ]; then
		echo "^mls ctl: no command$"
	elif [ "$1" = supervise ]; then
		echo "^mls supervise: invalid config, not starting"
	elif [ "$1" = health ]; then
		echo "^mls health: cannot reach the supervisor at $T/no-supervisor.sock"
	elif [ "$1" = httpd ]; then
		echo "^mls httpd: no control connection on fd 3: mls supervise starts mls httpd when the config has http:$"
	elif [ "$1" = gitwatch ]; then
		echo "^mls gitwatch: (no control connection on fd 3: mls supervise starts mls gitwatch when the config has git:.*|this build has no git support.*)$"
	else
		echo "^mls $1: not implemented yet$"
	fi
}

# ---- the binary itself ----

run "$MLS" --list
is "$RC" 0 "--list exits 0"
is "$OUT" "$(printf '%s\n' $APPLETS)" "--list prints the eight applets, one per line"
is "$ERR" "" "--list prints nothing on stderr"

run "$MLS" --help
is "$RC" 0 "--help exits 0"
like "$OUT" '^usage: mls APPLET' "--help prints usage on stdout"
is "$ERR" "" "--help prints nothing on stderr"
for a in $APPLETS; do
	like "$OUT" "^  $a +[a-z]" "--help lists $a with its summary"
done

run "$MLS" -h
is "$RC" 0 "-h exits 0"

run "$MLS"
is "$RC" 2 "no arguments: exit 2"
is "$OUT" "" "no arguments: nothing on stdout"
like "$ERR" '^usage: mls APPLET' "no arguments: usage on stderr"

run "$MLS" nosuch
is "$RC" 127 "unknown applet: exit 127"
is "$ERR" "mls: unknown applet 'nosuch'" "unknown applet: the message"
is "$OUT" "" "unknown applet: nothing on stdout"

run "$MLS" init
is "$RC" 127 "'mls init' is not an applet (init works only as a link name)"
is "$ERR" "mls: unknown applet 'init'" "'mls init': the message"

run "$MLS" --nosuch
is "$RC" 2 "unknown option: exit 2"
like "$ERR" "^mls: unknown option '--nosuch'" "unknown option: the message"

# ---- --version ----

run "$MLS" --version
is "$RC" 0 "--version exits 0"
first=$(printf '%s\n' "$OUT" | sed -n 1p)
like "$first" '^mls [^ ]+ \([a-z0-9_]+\)$' "--version: first line 'mls VERSION (ARCH)'"
arch=$(uname -m)
[ "$arch" = armv7l ] && arch=armhf
like "$first" "\\($arch\\)\$" "--version: the architecture is $arch"
like "$OUT" $'\n''features: [+-]git [+-]tls' "--version: a features line"
like "$OUT" $'\n''libyaml [0-9]+\.[0-9]+' "--version: libyaml's version"
like "$OUT" $'\n''cJSON [0-9]+\.[0-9]+' "--version: cJSON's version"
case $OUT in
*"+tls"*) like "$OUT" $'\n''BearSSL [^ ]+' "--version: BearSSL's version (+tls)" ;;
*) unlike "$OUT" 'BearSSL' "--version: no BearSSL line (-tls)" ;;
esac
case $OUT in
*"+git"*) like "$OUT" $'\n''libgit2 [0-9]+\.[0-9]+' "--version: libgit2's version (+git)" ;;
*) unlike "$OUT" 'libgit2' "--version: no libgit2 line (-git)" ;;
esac
is "$ERR" "" "--version prints nothing on stderr"

# ---- each applet through 'mls APPLET' ----

for a in $APPLETS; do
	run "$MLS" "$a" --help
	is "$RC" 0 "mls $a --help exits 0"
	like "$OUT" "^usage: mls $a" "mls $a --help: usage on stdout"
	is "$ERR" "" "mls $a --help: nothing on stderr"
done

for a in $STUBS; do
	run "$MLS" "$a"
	is "$RC" 1 "mls $a with nothing to do exits 1"
	like "$ERR" "$(stub_re "$a")" "mls $a says why"
done

run "$MLS" validate "$T/cfg/good.yaml"
is "$RC" 0 "mls validate GOOD exits 0"
run_in "$T/cfg" "$MLS" validate bad.yaml
is "$RC" 1 "mls validate BAD exits 1"
like "$ERR" "^$(printf '%s' "$BAD_MSG" | sed 's/[][().*^$]/\\&/g')\$" "mls validate BAD: the message"

# ---- links ----

mkdir "$T/links"
for name in mls-ctl ctl mls-validate validate init mls-nosuch mls-init; do
	ln -s "$MLS" "$T/links/$name"
done

run "$T/links/mls-ctl"
is "$RC" 2 "link mls-ctl runs ctl (exit 2: no command)"
like "$ERR" "$(stub_re ctl)" "link mls-ctl runs ctl (its message)"

run "$T/links/ctl"
is "$RC" 2 "link ctl runs ctl (exit 2: no command)"
like "$ERR" "$(stub_re ctl)" "link ctl runs ctl (its message)"

run "$T/links/mls-ctl" --help
is "$RC" 0 "link mls-ctl --help exits 0"
like "$OUT" '^usage: mls ctl' "link mls-ctl --help: ctl's usage"

run "$T/links/mls-validate" "$T/cfg/good.yaml"
is "$RC" 0 "link mls-validate on a good config: exit 0"
run_in "$T/cfg" "$T/links/mls-validate" bad.yaml
is "$RC" 1 "link mls-validate on a bad config: exit 1"
like "$ERR" "replicas: expected an integer from 1 to 1000" "link mls-validate on a bad config: the message"

run_in "$T/cfg" "$T/links/validate" bad.yaml
is "$RC" 1 "link validate on a bad config: exit 1"
like "$ERR" "replicas: expected an integer from 1 to 1000" "link validate on a bad config: the message"

# argv[0] with a leading '-' (login shells, init)
run bash -c 'exec -a -mls-validate "$0" "$1"' "$MLS" "$T/cfg/good.yaml"
is "$RC" 0 "argv[0] -mls-validate on a good config: exit 0"
run_in "$T/cfg" bash -c 'exec -a -mls-validate "$0" "$1"' "$MLS" bad.yaml
is "$RC" 1 "argv[0] -mls-validate on a bad config: exit 1"
like "$ERR" "replicas: expected an integer from 1 to 1000" "argv[0] -mls-validate: validate's message"
run bash -c 'exec -a -ctl "$0"' "$MLS"
is "$RC" 2 "argv[0] -ctl runs ctl (exit 2: no command)"
like "$ERR" "$(stub_re ctl)" "argv[0] -ctl runs ctl (its message)"
run bash -c 'exec -a -mls-ctl "$0"' "$MLS"
like "$ERR" "$(stub_re ctl)" "argv[0] -mls-ctl runs ctl"
run bash -c 'exec -a /some/dir/-mls-ctl "$0"' "$MLS"
like "$ERR" "$(stub_re ctl)" "argv[0] /some/dir/-mls-ctl runs ctl"

run "$T/links/init"
is "$RC" 1 "link init runs supervise (exit 1)"
like "$ERR" "$(stub_re supervise)" "link init runs supervise (its message)"
run bash -c 'exec -a -init "$0"' "$MLS"
like "$ERR" "$(stub_re supervise)" "argv[0] -init runs supervise"

run "$T/links/mls-nosuch"
is "$RC" 127 "link mls-nosuch: exit 127"
is "$ERR" "mls: unknown applet 'nosuch'" "link mls-nosuch: the message"

# a link under a name that is no applet: unknown applet, as `mls NAME`
ln -s "$MLS" "$T/links/frobnicate"
run "$T/links/frobnicate"
is "$RC" 127 "link frobnicate: exit 127"
is "$ERR" "mls: unknown applet 'frobnicate'" "link frobnicate: the message on stderr"
is "$OUT" "" "link frobnicate: nothing on stdout"
run "$T/links/frobnicate" --list
is "$RC" 127 "link frobnicate --list: exit 127 (not the multi-call binary)"
is "$ERR" "mls: unknown applet 'frobnicate'" "link frobnicate --list: the message"
is "$OUT" "" "link frobnicate --list: nothing on stdout"
run bash -c 'exec -a -frobnicate "$0"' "$MLS"
is "$RC" 127 "argv[0] -frobnicate: exit 127"
is "$ERR" "mls: unknown applet 'frobnicate'" "argv[0] -frobnicate: the message, without the '-'"
run bash -c 'exec -a /some/dir/frobnicate "$0" validate' "$MLS"
is "$RC" 127 "argv[0] /some/dir/frobnicate validate: exit 127 (argv[1] is not looked at)"

# the multi-call binary: mls, and renamed copies starting with mls but not
# mls- (mls.debug is the unstripped binary in build/obj/), an empty argv[0]
mkdir "$T/links/d"
ln -s "$MLS" "$T/links/d/mls"
run "$T/links/d/mls"
is "$RC" 2 "link mls in another directory, no arguments: exit 2, as before"
like "$ERR" '^usage: mls APPLET' "link mls, no arguments: usage on stderr"
is "$OUT" "" "link mls, no arguments: nothing on stdout"
for name in mls.debug mls.static mls_x86_64; do
	ln -s "$MLS" "$T/links/$name"
	run "$T/links/$name" --list
	is "$RC" 0 "link $name: the multi-call binary (--list exits 0)"
	is "$OUT" "$(printf '%s\n' $APPLETS)" "link $name: --list output"
done
run "$T/links/mls.debug"
is "$RC" 2 "link mls.debug, no arguments: exit 2"
like "$ERR" '^usage: mls APPLET' "link mls.debug, no arguments: usage on stderr"
run "$T/links/mls.debug" frobnicate
is "$RC" 127 "link mls.debug frobnicate: exit 127"
is "$ERR" "mls: unknown applet 'frobnicate'" "link mls.debug frobnicate: the message"
run bash -c 'exec -a "" "$0" --list' "$MLS"
is "$RC" 0 "an empty argv[0]: the multi-call binary (--list exits 0)"
ln -s "$MLS" "$T/links/mls-static"
run "$T/links/mls-static" --list
is "$RC" 127 "link mls-static: mls- names an applet link, unknown applet (exit 127)"
is "$ERR" "mls: unknown applet 'static'" "link mls-static: the message"

# ---- --install ----
# Hard links need DIR on the binary's file system: work on a copy in $T.
mkdir "$T/bin" "$T/hard" "$T/sym" "$T/foreign"
cp "$MLS" "$T/bin/mls"
SELF="$T/bin/mls"
self_ino=$(stat -c %i "$SELF")

run "$SELF" --install "$T/hard"
is "$RC" 0 "--install DIR exits 0"
is "$ERR" "" "--install DIR: nothing on stderr"
want_links=$(printf 'mls-%s\n' $APPLETS | sort)
is "$(ls "$T/hard")" "$want_links" "--install DIR: mls-APPLET for the seven applets"
st=0
for a in $APPLETS; do
	f="$T/hard/mls-$a"
	if [ -L "$f" ] || [ "$(stat -c %i "$f")" != "$self_ino" ]; then st=1; diag "$f is not a hard link to $SELF"; fi
done
ok $st "--install DIR: hard links (same inode as the binary)"
run "$T/hard/mls-health"
like "$ERR" "$(stub_re health)" "--install DIR: mls-health runs health"

run "$SELF" --install "$T/hard"
is "$RC" 0 "--install DIR again (own links already there): exit 0"
is "$ERR" "" "--install DIR again: nothing on stderr"

run "$SELF" --install -s "$T/sym"
is "$RC" 0 "--install -s DIR exits 0"
is "$(ls "$T/sym")" "$want_links" "--install -s DIR: mls-APPLET for the seven applets"
st=0
for a in $APPLETS; do
	f="$T/sym/mls-$a"
	if ! [ -L "$f" ] || [ "$(stat -L -c %i "$f")" != "$self_ino" ]; then st=1; diag "$f is not a symlink to $SELF"; fi
done
ok $st "--install -s DIR: symlinks to the binary"
run "$T/sym/mls-validate" "$T/cfg/good.yaml"
is "$RC" 0 "--install -s DIR: mls-validate runs validate"

echo "not mls" >"$T/foreign/mls-ctl"
run "$SELF" --install "$T/foreign"
is "$RC" 1 "--install into a DIR with a foreign mls-ctl: exit 1"
is "$(cat "$T/foreign/mls-ctl")" "not mls" "--install: the foreign mls-ctl is left alone"
like "$ERR" "mls-ctl exists and is not a link to mls" "--install: says it left mls-ctl alone"
st=0
for a in $APPLETS; do
	[ "$a" = ctl ] && continue
	[ "$(stat -c %i "$T/foreign/mls-$a" 2>/dev/null)" = "$self_ino" ] || st=1
done
ok $st "--install: the other five links are still made"

run "$SELF" --install
is "$RC" 2 "--install without DIR: exit 2"
run "$SELF" --install -s
is "$RC" 2 "--install -s without DIR: exit 2"
run "$SELF" --install "$T/nonexistent"
is "$RC" 1 "--install into a missing DIR: exit 1"
like "$ERR" "cannot create" "--install into a missing DIR: says why"

done_testing
