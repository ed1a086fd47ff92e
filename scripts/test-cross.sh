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
done

echo "1..$n"
echo "test-cross: $((n - fail)) passed, $fail failed"
[ $fail -eq 0 ]
