#!/bin/bash
# The release binary is what the issue asks for: a static musl executable,
# stripped, at most 1 MiB, that runs. MLS is set by `make test`.
set -u
mls=${MLS:-$(dirname "$0")/../build/mls}

echo "1..6"
n=0
check() { # check DESCRIPTION COMMAND...
	local d=$1; shift
	n=$((n + 1))
	if "$@" >/dev/null 2>&1; then echo "ok $n - $d"; else echo "not ok $n - $d"; fi
}

info=$(file -b "$mls" 2>&1)
echo "# $mls: $info"
check "$mls exists and is executable" test -x "$mls"
check "file says statically linked" grep -q 'statically linked' <<<"$info"
check "file says stripped" grep -q ', stripped' <<<"$info"
# ldd prints "not a dynamic executable" (status 1) for a static binary
check "ldd says not a dynamic executable" \
	bash -c "ldd '$mls' 2>&1 | grep -q 'not a dynamic executable'"
size=$(stat -c %s "$mls" 2>/dev/null || echo 0)
echo "# size: $size bytes"
check "size $size <= 1048576 bytes" test "$size" -le 1048576 -a "$size" -gt 0
check "mls --version runs" "$mls" --version
