#!/bin/bash
# test-cross.sh NATIVE_MLS CROSS_MLS...
#
# Run each cross-built mls under its qemu-user emulator (chosen from the ELF
# machine): `mls --version` must work and name the right arch, and
# `mls validate config/` must print the same report and exit with the same
# status as the native binary; `mls supervise` runs a service and serves
# the API over TLS (mls httpd). Prints TAP; exits non-zero on any failure.
#
# supervise starts mls httpd by exec'ing its own (foreign) binary: that
# needs the kernel to hand foreign ELF files to qemu (binfmt_misc), as on
# a build host with qemu-user-static registered. Done here when missing
# (root: mount binfmt_misc, register Debian's /usr/lib/binfmt.d entry).
set -u

binfmt() { # binfmt ARCH (qemu's name: aarch64, arm)
	local d=/proc/sys/fs/binfmt_misc
	[ -e "$d/qemu-$1" ] && return 0
	[ -e "$d/register" ] || mount -t binfmt_misc binfmt_misc "$d" 2>/dev/null || return 1
	[ -e "$d/qemu-$1" ] || cat "/usr/lib/binfmt.d/qemu-$1.conf" >"$d/register" 2>/dev/null || return 1
	[ -e "$d/qemu-$1" ]
}

native=${1:?usage: test-cross.sh NATIVE_MLS CROSS_MLS...}
shift
config=${CONFIG_DIR:-config}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $*"; }

"$native" validate "$config" >"$tmp/native.out" 2>&1
native_st=$?

for bin in "$@"; do
	case $(file -b "$bin") in
	*aarch64*) qemu=qemu-aarch64-static arch=aarch64 qarch=aarch64 ;;
	*ARM*)     qemu=qemu-arm-static arch=armhf qarch=arm ;;
	*) not_ok "$bin: unknown machine: $(file -b "$bin")"; continue ;;
	esac
	if binfmt $qarch; then
		ok "$arch: binfmt_misc hands $arch ELF files to qemu"
	else
		not_ok "$arch: binfmt_misc hands $arch ELF files to qemu (needs root and binfmt_misc; mls httpd cannot start)"
	fi

	if file -b "$bin" | grep -q 'statically linked'; then
		ok "$bin is statically linked"
	else
		not_ok "$bin is statically linked"
	fi

	if out=$("$qemu" "$bin" --version 2>&1); then
		ok "$arch: mls --version: ${out%%$'\n'*}"
		case $out in
		*"$arch"*) ok "$arch: --version names $arch" ;;
		*) not_ok "$arch: --version names $arch" ;;
		esac
	else
		not_ok "$arch: mls --version (status $?): ${out%%$'\n'*}"
	fi

	"$qemu" "$bin" validate "$config" >"$tmp/$arch.out" 2>&1
	st=$?
	if [ $st -gt 1 ]; then
		not_ok "$arch: mls validate $config exits 0 or 1 (got $st)"
		sed 's/^/# /' "$tmp/$arch.out"
	else
		ok "$arch: mls validate $config exits $st"
	fi
	if [ $st -eq $native_st ] && cmp -s "$tmp/native.out" "$tmp/$arch.out"; then
		ok "$arch: validate report and status are the native ones"
	else
		not_ok "$arch: validate report and status are the native ones"
		echo "# native status $native_st, $arch status $st"
		diff "$tmp/native.out" "$tmp/$arch.out" | sed 's/^/# /'
	fi

	# supervise and ctl under emulation: a service runs, ctl sees it,
	# ctl shutdown ends the supervisor with status 0
	sd=$tmp/$arch.state
	port=$((19300 + n))
	printf 'state_dir: %s\nhttp: {listen: "127.0.0.1:%d", tls: auto}\nservices:\n  sleeper: {command: ["sleep", "30"]}\n' \
		"$sd" "$port" >"$tmp/$arch.yaml"
	"$qemu" "$bin" supervise -c "$tmp/$arch.yaml" >"$tmp/$arch.sv" 2>&1 &
	svpid=$!
	up=0
	for _ in $(seq 500); do # up to 10 s, polling every 20 ms
		if "$qemu" "$bin" ctl -s "$sd/mls.sock" status 2>/dev/null | grep -q '^sleeper\.1 *running'; then
			up=1
			break
		fi
		sleep 0.02
	done
	if [ $up = 1 ]; then
		ok "$arch: mls supervise runs a service, mls ctl status sees it running"
	else
		not_ok "$arch: mls supervise runs a service, mls ctl status sees it running"
		sed 's/^/# /' "$tmp/$arch.sv"
	fi
	# mls httpd under emulation: TLS auto (P-256 key and certificate made
	# by this build), the API through it
	got=
	for _ in $(seq 500); do
		got=$(curl -s --max-time 5 --cacert "$sd/tls/cert.pem" "https://localhost:$port/healthz" 2>/dev/null) && [ "$got" = ok ] && break
		sleep 0.02
	done
	if [ "$got" = ok ] && curl -s --max-time 5 --cacert "$sd/tls/cert.pem" "https://localhost:$port/api/v1/status" | grep -q '"name":"sleeper"'; then
		ok "$arch: mls httpd serves /healthz and /api/v1/status over TLS (tls: auto, certificate verified)"
	else
		not_ok "$arch: mls httpd serves /healthz and /api/v1/status over TLS (got '$got')"
		sed 's/^/# /' "$tmp/$arch.sv"
	fi
	"$qemu" "$bin" ctl -s "$sd/mls.sock" shutdown >/dev/null 2>&1
	wait $svpid
	st=$?
	if [ $st -eq 0 ]; then
		ok "$arch: mls ctl shutdown: supervise exits 0"
	else
		not_ok "$arch: mls ctl shutdown: supervise exits 0 (got $st)"
		kill -9 $svpid 2>/dev/null
	fi
done

echo "1..$n"
echo "test-cross: $((n - fail)) passed, $fail failed"
[ $fail -eq 0 ]
