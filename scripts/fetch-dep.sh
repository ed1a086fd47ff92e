#!/bin/sh
# fetch-dep.sh PACKAGE SRC_DIR
#
# Get one pinned Debian source package and unpack it, with Debian's patches
# applied, into SRC_DIR/PACKAGE/.
#
#   1. The files are downloaded with `apt-get source --download-only
#      PACKAGE=VERSION` into SRC_DIR/dl/PACKAGE/ (a cache: kept between runs,
#      downloaded again only when a file is missing or does not match).
#   2. Every file is checked against the sha256 in deps/sources.lock, and the
#      .dsc may name no file that the lock does not list. Any mismatch stops
#      the build.
#   3. `dpkg-source -x` unpacks the .orig tarball and applies the
#      .debian.tar.* (Debian's patch series, security fixes included); it also
#      checks every file against the checksums in the .dsc.
#
# SRC_DIR/PACKAGE/.extracted records the version; it is the Makefile's stamp.
# LOCK overrides the lock file (default: deps/sources.lock beside this script).
set -eu

pkg=${1:?usage: fetch-dep.sh PACKAGE SRC_DIR}
src=${2:?usage: fetch-dep.sh PACKAGE SRC_DIR}
here=$(cd "$(dirname "$0")" && pwd)
lock=${LOCK:-$here/../deps/sources.lock}

die() { echo "fetch-dep: $pkg: $*" >&2; exit 1; }

# The lock's lines for this package: "package version file sha256"
lines=$(awk -v p="$pkg" '$1 == p && $0 !~ /^#/ { print $2, $3, $4 }' "$lock")
[ -n "$lines" ] || die "not in $lock"
version=$(echo "$lines" | awk '{ print $1 }' | sort -u)
[ "$(echo "$version" | wc -l)" -eq 1 ] || die "more than one version in $lock"

mkdir -p "$src/dl/$pkg"
src=$(cd "$src" && pwd)
dl=$src/dl/$pkg

# sha256sum -c input for this package's files
sums=$(echo "$lines" | awk '{ print $3 "  " $2 }')

verify() { (cd "$dl" && echo "$sums" | sha256sum --quiet --strict -c -) >/dev/null 2>&1; }

if ! verify; then
	echo "fetch-dep: downloading $pkg=$version" >&2
	# a file that fails its check is removed so apt-get fetches it again
	echo "$lines" | while read -r _ f sum; do
		[ -f "$dl/$f" ] || continue
		[ "$(sha256sum <"$dl/$f" | cut -d' ' -f1)" = "$sum" ] || rm -f "$dl/$f"
	done
	# As root apt drops to the _apt user to download, which cannot write
	# here; download as root instead of warning about it.
	sandbox=
	[ "$(id -u)" -eq 0 ] && sandbox="-o APT::Sandbox::User=root"
	if ! (cd "$dl" && apt-get source -q $sandbox --download-only \
			"$pkg=$version" >"$dl/apt.log" 2>&1); then
		cat "$dl/apt.log" >&2
		die "apt-get source failed. Is there a deb-src entry and a fresh
  apt index (scripts/install-tools.sh sets them up)? Is $version still in
  the archive (see deps/README.md for how to bump)?"
	fi
	if ! verify; then
		(cd "$dl" && echo "$sums" | sha256sum --strict -c - >&2) || true
		die "downloaded files do not match deps/sources.lock: refusing them"
	fi
fi

# Every file the .dsc names must be one the lock pinned (so dpkg-source only
# reads verified files).
dsc=$(echo "$lines" | awk '$2 ~ /\.dsc$/ { print $2 }')
[ -n "$dsc" ] || die "no .dsc in $lock"
for f in $(awk '/^Checksums-Sha256:/ { on = 1; next } /^[^ ]/ { on = 0 }
		on && NF == 3 { print $3 }' "$dl/$dsc"); do
	echo "$lines" | awk '{ print $2 }' | grep -qxF "$f" ||
		die "$dsc names $f, which deps/sources.lock does not pin"
done

# Unpack afresh (patches applied by dpkg-source). Unsigned-key warnings are
# expected: the lock's sha256 sums are what we trust.
rm -rf "${src:?}/$pkg"
dpkg-source --no-copy -x "$dl/$dsc" "$src/$pkg" >"$dl/dpkg-source.log" 2>&1 ||
	{ cat "$dl/dpkg-source.log" >&2; die "dpkg-source -x failed"; }
echo "$pkg $version" >"$src/$pkg/.extracted"
echo "fetch-dep: $pkg $version verified and unpacked in $src/$pkg" >&2
