#!/bin/sh
# install-tools.sh GROUP...
#
# Make sure the tools a build step needs are there. Silent when they are.
# Otherwise, as root: install them from Debian (apt-get), adding a deb-src
# entry and foreign architectures when needed. Not root: print the exact
# commands to run and exit 1.
#
# Groups (the Makefile asks only for what the current target needs):
#   musl     musl-gcc                                  (make)
#   deps     cmake, dpkg-source, xz, bzip2 and a deb-src index
#            for `apt-get source`                      (the libraries)
#   dev      gcc with ASan/UBSan                       (make dev)
#   test     prove, file, nc, python3, unshare, ps,
#            tzdata, openssl, redis-server, promtool,
#            curl, systemd-analyze, umoci, skopeo, ip  (make test)
#   aarch64  cross gcc + musl for arm64                (ARCH=aarch64)
#   armhf    cross gcc + musl for armhf                (ARCH=armhf)
#   qemu     qemu-aarch64-static, qemu-arm-static      (make test-cross)
#   fuzz     clang + libFuzzer runtime                 (make fuzz)
#   bench    /usr/bin/time, wrk, curl                  (make bench; supervisord
#            for tests/bench/httpd.sh's comparison is not installed:
#            apt-get install supervisor, which enables its own service)
#   demo     python3 (the demo's HTTP service), git    (make demo)
#   browser  chromium, node and npm (the dashboard's
#            browser test, playwright-core)           (make test-browser)
#   boot     qemu-system-x86_64, qemu-system-aarch64,
#            cpio, busybox-static                      (make test-boot)
#   all      every group (CI)
set -eu

[ $# -gt 0 ] || { echo "usage: $0 GROUP..." >&2; exit 2; }

pkgs=        # Debian packages to install
archs=       # foreign architectures to add
need_src=0   # a deb-src entry / source index is missing

have() { command -v "$1" >/dev/null 2>&1; }
want() { pkgs="$pkgs $*"; }

# The libFuzzer runtime of the installed clang
fuzzer_rt() {
	d=$(clang -print-resource-dir 2>/dev/null) &&
		[ -f "$d/lib/linux/libclang_rt.fuzzer-$(uname -m).a" ]
}

# `apt-get source` works once the source index knows a package
have_src_index() { apt-cache showsrc zlib 2>/dev/null | grep -q '^Package:'; }

foreign() { dpkg --print-foreign-architectures 2>/dev/null | grep -qx "$1"; }

check() {
	case $1 in
	musl)
		have musl-gcc || want musl-tools
		have make || want make ;;
	deps)
		have cmake || want cmake
		have dpkg-source || want dpkg-dev
		have xz || want xz-utils
		have bzip2 || want bzip2
		have gcc || want gcc
		have make || want make
		have apt-get || { echo "install-tools: apt-get is needed" >&2; exit 1; }
		have_src_index || need_src=1 ;;
	dev)
		have gcc || want gcc ;;
	test)
		have prove || want perl
		have git || want git               # the repositories of tests/5*-git*.t
		have wrk || want wrk               # TLS keep-alive under load (tests/41-httpd-tls.t)
		have file || want file
		have nc.openbsd || want netcat-openbsd
		# JSON and socket checks in the tests (json is not in python3-minimal)
		python3 -c 'import json, socket, resource' 2>/dev/null || want python3
		# a python3 a second uid may run (tests/34-authz.t; root's may be under /root)
		[ -x /usr/bin/python3 ] || want python3
		have useradd || want passwd        # the second uid of tests/34-authz.t
		have redis-server || want redis-server  # a real sd_notify daemon (tests/35-health.t)
		have unshare || want util-linux   # PID namespace tests (tests/32-pid1.t)
		have ps || want procps
		# the test CA and server certificate of tests/36-health-cli.t
		have openssl || want openssl
		# zones of the cron tests (tests/unit/test_cron.c; skipped without,
		# a failure under CI=true)
		[ -f /usr/share/zoneinfo/Australia/Lord_Howe ] || want tzdata
		# promtool check metrics on mls httpd's /metrics text
		# (tests/unit/test_metrics.c; a failure under CI=true without)
		have promtool || want prometheus
		# mls httpd's tests (tests/40-httpd.t, 41-httpd-tls.t, test_httpsrv)
		have curl || want curl
		# systemd-analyze verify on dist/systemd/mls.service (tests/56-sdnotify.t;
		# the package only installs files: no systemd is started)
		have systemd-analyze || want systemd
		# independent readers of `make image`'s OCI layout (tests/57-image.t)
		have umoci || want umoci
		have ip || want iproute2          # lo up in its network namespace (tests/57-image.t)
		have skopeo || want skopeo ;;
	aarch64)
		have aarch64-linux-gnu-gcc || want gcc-aarch64-linux-gnu
		if [ ! -f /usr/lib/aarch64-linux-musl/musl-gcc.specs ]; then
			want musl-dev:arm64
			foreign arm64 || archs="$archs arm64"
		fi ;;
	armhf)
		have arm-linux-gnueabihf-gcc || want gcc-arm-linux-gnueabihf
		if [ ! -f /usr/lib/arm-linux-musleabihf/musl-gcc.specs ]; then
			want musl-dev:armhf
			foreign armhf || archs="$archs armhf"
		fi ;;
	qemu)
		{ have qemu-aarch64-static && have qemu-arm-static; } ||
			want qemu-user-static ;;
	fuzz)
		have clang || want clang
		{ have clang && fuzzer_rt; } || want libclang-rt-14-dev ;;
	bench)
		[ -x /usr/bin/time ] || want time
		# tests/bench/httpd.sh: requests and TLS handshakes of mls httpd
		have wrk || want wrk
		have curl || want curl ;;
	demo)
		have git || want git               # the demo's repository (scripts/demo-repo.sh)
		have python3 || want python3 ;;
	browser)
		[ -x /usr/bin/chromium ] || want chromium
		have node || want nodejs
		have npm || want npm
		have python3 || want python3 ;;   # the test's services
	boot)
		# the initramfs and the VMs of tests/boot/ (TCG, no KVM needed);
		# the kernels are Debian's, fetched by apt-get download
		have qemu-system-x86_64 || want qemu-system-x86
		have qemu-system-aarch64 || want qemu-system-arm
		have cpio || want cpio
		have dpkg-deb || want dpkg
		[ -x /bin/busybox ] || want busybox-static ;;
	all)
		for g in musl deps dev test aarch64 armhf qemu fuzz bench demo browser boot; do
			check $g
		done ;;
	*)
		echo "install-tools: unknown group '$1'" >&2; exit 2 ;;
	esac
}

for g in "$@"; do check "$g"; done
# shellcheck disable=SC2086
pkgs=$(printf '%s\n' $pkgs | sort -u | tr '\n' ' ' | sed 's/ *$//')
[ -n "$pkgs$archs" ] || [ $need_src -eq 1 ] || exit 0

# --- something is missing ---------------------------------------------------

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
srcfile=/etc/apt/sources.list.d/mls-deb-src.sources

# A deb-src twin of the machine's Debian "deb" entries (deb822 .sources files
# and one-line .list files), in deb822 form.
deb_src_entries() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v code="$codename" 'BEGIN { RS = ""; ORS = "\n\n" }
			/(^|\n)Types:[^\n]*deb([ \t]|\n|$)/ &&
			/(^|\n)URIs:[^\n]*debian/ && $0 ~ ("Suites:[^\n]*" code) {
				out = ""
				n = split($0, l, "\n")
				for (i = 1; i <= n; i++) {
					if (l[i] ~ /^#/) continue
					if (l[i] ~ /^Types:/) l[i] = "Types: deb-src"
					out = out l[i] "\n"
				}
				printf "%s\n", out
			}' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v code="$codename" '$1 == "deb" && $0 ~ /debian/ && $0 ~ code {
			# deb [opts] URI SUITE COMPONENT...
			i = 2; signed = ""
			if ($2 ~ /^\[/) {
				for (; ; i++) {
					o = $i; gsub(/[][]/, "", o)
					if (o ~ /^signed-by=/) signed = substr(o, 11)
					if ($i ~ /\]$/) break
				}
				i++
			}
			comps = ""
			for (j = i + 2; j <= NF; j++) comps = comps " " $j
			printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents:%s\n", $i, $(i+1), comps
			if (signed != "") printf "Signed-By: %s\n", signed
			printf "\n"
		}' "$f"
	done
}

has_deb_src_entry() {
	grep -rqsE '^[[:space:]]*(deb-src[[:space:]]|Types:.*deb-src)' \
		/etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}

if [ "$(id -u)" -ne 0 ]; then
	echo "install-tools: missing tools; as root, run:" >&2
	if [ $need_src -eq 1 ] && ! has_deb_src_entry; then
		echo "  # add a deb-src entry, e.g. $srcfile with:" >&2
		deb_src_entries | sed 's/^/  #   /' >&2
	fi
	for a in $archs; do echo "  dpkg --add-architecture $a" >&2; done
	echo "  apt-get update" >&2
	[ -z "$pkgs" ] || echo "  apt-get install -y $pkgs" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if [ $need_src -eq 1 ] && ! has_deb_src_entry; then
	deb_src_entries >"$srcfile"
	if [ ! -s "$srcfile" ]; then
		rm -f "$srcfile"
		echo "install-tools: found no Debian deb entry to copy as deb-src" >&2
		exit 1
	fi
	echo "install-tools: added $srcfile" >&2
fi
for a in $archs; do
	echo "install-tools: dpkg --add-architecture $a" >&2
	dpkg --add-architecture "$a"
done

# One index may fail while a mirror syncs: go on with the rest.
apt_update() {
	echo "install-tools: apt-get update" >&2
	apt-get update -q >/tmp/mls-apt-update.log 2>&1 ||
		{ grep -E '^(E|W):' /tmp/mls-apt-update.log >&2 || true
		  echo "install-tools: apt-get update reported errors; going on" >&2; }
}
apt_update
# the source index is the one we cannot do without: one more try
if [ $need_src -eq 1 ] && ! have_src_index; then
	sleep 10
	apt_update
fi

# Daemons installed for their binaries (prometheus for promtool,
# redis-server) must not be started: their postinst calls invoke-rc.d,
# which without an init system runs the init.d script (prometheus's
# postinst fails the install if that fails) and on a CI machine would
# leave servers running. A policy-rc.d that exits 101 ("forbidden") is
# Debian's way to say so; one already there is left alone.
if [ -n "$pkgs" ] && [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi

if [ -n "$pkgs" ]; then
	echo "install-tools: apt-get install -y $pkgs" >&2
	# shellcheck disable=SC2086
	apt-get install -y -q $pkgs >/tmp/mls-apt-install.log 2>&1 ||
		{ tail -n 30 /tmp/mls-apt-install.log >&2
		  echo "install-tools: apt-get install failed" >&2; exit 1; }
fi

if [ $need_src -eq 1 ] && ! have_src_index; then
	echo "install-tools: still no source index after apt-get update" >&2
	exit 1
fi
exit 0
