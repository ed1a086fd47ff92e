#!/bin/sh
# build-dep.sh PACKAGE SRC PREFIX
#
# Build one library from its unpacked Debian source tree SRC (made by
# fetch-dep.sh) as a static archive, and install its headers and archive
# into PREFIX/include and PREFIX/lib. Scratch files go to PREFIX/build/PACKAGE.
# The Makefile decides the toolchain; this script only carries it out:
#
#   CC          compiler, possibly with arguments
#               ("aarch64-linux-gnu-gcc -specs /usr/lib/...musl-gcc.specs")
#   CFLAGS      flags for compiling the library
#   LDFLAGS     flags for linking (only CMake's compiler checks link)
#   AR, RANLIB  archiver for the target
#   CMAKE_ARGS  extra CMake arguments (cross: system name and processor)
#   JOBS        parallel jobs (default: number of CPUs)
#
# Packages: libyaml, cjson, bearssl, zlib, http-parser, libgit2 (libgit2
# needs zlib and http-parser in PREFIX first).
set -eu

pkg=${1:?usage: build-dep.sh PACKAGE SRC PREFIX}
src=$(cd "${2:?}" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd) # the repository (deps/shim/)
mkdir -p "${3:?}"
prefix=$(cd "$3" && pwd)
: "${CC:?CC not set}" "${AR:=ar}" "${RANLIB:=ranlib}"
: "${CFLAGS=}" "${LDFLAGS=}" "${CMAKE_ARGS=}" "${JOBS:=$(nproc)}"
# __FILE__ (libgit2's and libyaml's assertion messages) relative to the
# source tree: the binary does not depend on, or show, where it was built.
CFLAGS="$CFLAGS -fmacro-prefix-map=$src/="

# Sub-builds get their own job count, not the calling make's jobserver.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES || true

start=$(date +%s)
build=$prefix/build/$pkg
rm -rf "$build"
mkdir -p "$build" "$prefix/include" "$prefix/lib"
log=$build/build.log
exec 3>&2 >"$log" 2>&1 # keep the noise in the log; on failure show its tail
trap 'st=$?; [ $st -eq 0 ] || { tail -n 40 "$log" >&3;
	echo "build-dep: $pkg failed (status $st), full log: $log" >&3; }' EXIT

set -x
# shellcheck disable=SC2086
set -- $CC               # split "compiler args..." for CMake
cc_bin=$1; shift
cc_args=$*

# CMake: the compiler's own arguments go in front of CFLAGS. The build type
# "None" adds no flags of its own: CFLAGS says everything.
cmake_lib() {
	# shellcheck disable=SC2086
	cmake -S "$src" -B "$build" \
		-DCMAKE_BUILD_TYPE=None \
		-DCMAKE_C_COMPILER="$cc_bin" \
		-DCMAKE_C_FLAGS="$cc_args $CFLAGS" \
		-DCMAKE_EXE_LINKER_FLAGS="$LDFLAGS" \
		-DCMAKE_AR="$(command -v "$AR")" \
		-DCMAKE_RANLIB="$(command -v "$RANLIB")" \
		-DCMAKE_INSTALL_PREFIX="$prefix" \
		-DCMAKE_INSTALL_LIBDIR=lib \
		-DBUILD_SHARED_LIBS=OFF \
		$CMAKE_ARGS "$@"
	cmake --build "$build" -j "$JOBS"
	cmake --install "$build"
}

# compile C files from SRC into one archive PREFIX/lib/libNAME.a
archive() {
	name=$1; shift
	objs=
	for c in "$@"; do
		o=$build/$(basename "$c" .c).o
		# shellcheck disable=SC2086
		$CC $CFLAGS -c "$src/$c" -o "$o"
		objs="$objs $o"
	done
	rm -f "$prefix/lib/lib$name.a"
	# shellcheck disable=SC2086
	$AR rcD "$prefix/lib/lib$name.a" $objs
	$RANLIB "$prefix/lib/lib$name.a"
}

case $pkg in
libyaml)
	cmake_lib -DBUILD_TESTING=OFF -DINSTALL_CMAKE_DIR=lib/cmake/yaml
	;;
cjson)
	# One file; Debian's CMake build adds nothing that matters here. Its one
	# sscanf("%lg") goes to deps/shim/cjson-sscanf.c (strtod): musl's
	# scanf stays out of mls (docs/size.md)
	CFLAGS="$CFLAGS -Dsscanf=mls_cjson_sscanf" archive cjson cJSON.c
	# shellcheck disable=SC2086
	$CC $CFLAGS -c "$here/deps/shim/cjson-sscanf.c" -o "$build/cjson-sscanf.o"
	$AR rD "$prefix/lib/libcjson.a" "$build/cjson-sscanf.o"
	$RANLIB "$prefix/lib/libcjson.a"
	# <cJSON.h> as upstream, <cjson/cJSON.h> as Debian installs it
	mkdir -p "$prefix/include/cjson"
	cp "$src/cJSON.h" "$prefix/include/cJSON.h"
	cp "$src/cJSON.h" "$prefix/include/cjson/cJSON.h"
	;;
http-parser)
	# Upstream's "library" target: non-strict mode
	CFLAGS="$CFLAGS -DHTTP_PARSER_STRICT=0" archive http_parser http_parser.c
	cp "$src/http_parser.h" "$prefix/include/"
	;;
zlib)
	# zlib's own configure, run out of tree. DYNAMIC_CRC_TABLE: crc32's
	# tables (9 KiB of rodata, in every mls binary) are computed at first
	# use into bss instead (docs/size.md)
	(cd "$build" && CC="$CC" CFLAGS="$CFLAGS -DDYNAMIC_CRC_TABLE" AR="$AR" RANLIB="$RANLIB" \
		"$src/configure" --static --prefix="$prefix" --libdir="$prefix/lib")
	make -C "$build" -j "$JOBS" libz.a
	make -C "$build" install
	;;
bearssl)
	# BearSSL's make runs in its tree; BUILD puts every output in $build.
	make -C "$src" -j "$JOBS" lib CONF=Unix BUILD="$build" \
		CC="$CC" CFLAGS="-W -Wall $CFLAGS" AR="$AR" ARFLAGS=rcsD
	cp "$build/libbearssl.a" "$prefix/lib/"
	# <bearssl.h> as upstream, <bearssl/bearssl.h> as Debian installs it
	mkdir -p "$prefix/include/bearssl"
	cp "$src"/inc/*.h "$prefix/include/"
	cp "$src"/inc/*.h "$prefix/include/bearssl/"
	;;
libgit2)
	[ -f "$prefix/lib/libz.a" ] && [ -f "$prefix/lib/libhttp_parser.a" ] ||
		{ echo "build zlib and http-parser into $prefix first" >&3; exit 1; }
	# No HTTPS backend (mls registers its own BearSSL stream), no SSH,
	# threads or iconv; POSIX regcomp (Debian's +ds source has no bundled
	# pcre); zlib and http-parser: ours, never the host's glibc ones.
	cmake_lib \
		-DBUILD_TESTS=OFF -DBUILD_CLI=OFF -DBUILD_EXAMPLES=OFF \
		-DBUILD_FUZZERS=OFF \
		-DUSE_HTTPS=OFF -DUSE_SSH=OFF -DUSE_GSSAPI=OFF \
		-DUSE_NTLMCLIENT=OFF -DUSE_ICONV=OFF -DUSE_THREADS=OFF \
		-DREGEX_BACKEND=regcomp -DUSE_HTTP_PARSER=system \
		-DDEPRECATE_HARD=ON \
		-DUSE_BUNDLED_ZLIB=OFF \
		-DENABLE_REPRODUCIBLE_BUILDS=ON \
		-DZLIB_INCLUDE_DIR="$prefix/include" \
		-DZLIB_LIBRARY="$prefix/lib/libz.a" \
		-DHTTP_PARSER_INCLUDE_DIR="$prefix/include" \
		-DHTTP_PARSER_LIBRARY="$prefix/lib/libhttp_parser.a"
	;;
*)
	echo "build-dep: unknown package $pkg" >&3
	exit 1
	;;
esac
set +x
echo "build-dep: $pkg built into $prefix in $(( $(date +%s) - start )) s" >&3
