#!/bin/bash
# test-cross.sh NATIVE_MLS CROSS_MLS...
#
# Run each cross-built mls under its qemu-user emulator (chosen from the ELF
# machine): `mls --version` must work and name the right arch, and
# `mls validate config/` must print the same report and exit with the same
# status as the native binary. Prints TAP; exits non-zero on any failure.
set -u

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
	*aarch64*) qemu=qemu-aarch64-static arch=aarch64 ;;
	*ARM*)     qemu=qemu-arm-static arch=armhf ;;
	*) not_ok "$bin: unknown machine: $(file -b "$bin")"; continue ;;
	esac

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
	printf 'state_dir: %s\nservices:\n  sleeper: {command: ["sleep", "30"]}\n' "$sd" >"$tmp/$arch.yaml"
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
