#!/bin/sh
# mk-rootfs.sh MLS OUT.tar.gz: the rootfs/ overlay with MLS as
# /usr/local/bin/mls, as a tarball to unpack over a Raspberry Pi OS /
# Debian root filesystem (rootfs/README.md).
#
# Holds files and the directories mls owns (etc/mls, usr/local/lib/mls),
# never an entry for a directory the image already has (/sbin, /usr,
# /etc...): on a merged-/usr image /sbin is a symlink, and a directory
# entry would replace it. /sbin/init and /usr/local/bin/mls-init are links
# to /usr/local/bin/mls (a link named init or mls-init runs supervise).
# Reproducible: names sorted, owners root, mtimes SOURCE_DATE_EPOCH
# (default 0), gzip -n.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 MLS OUT.tar.gz" >&2; exit 2; }
mls=$1 out=$2
src=$(cd "$(dirname "$0")/../rootfs" && pwd)
stage=$(mktemp -d "${TMPDIR:-/tmp}/mls-rootfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

(cd "$src" && find etc usr -type f) | while read -r f; do
	mkdir -p "$stage/$(dirname "$f")"
	cp "$src/$f" "$stage/$f"
done
chmod 755 "$stage"/usr/local/lib/mls/*
chmod 644 "$stage"/etc/mls/*
chmod 755 "$stage/etc/mls" "$stage/usr/local/lib/mls"
mkdir -p "$stage/usr/local/bin" "$stage/sbin"
cp "$mls" "$stage/usr/local/bin/mls"
chmod 755 "$stage/usr/local/bin/mls"
ln -s mls "$stage/usr/local/bin/mls-init"
ln -s /usr/local/bin/mls "$stage/sbin/init"

list=$stage.list
(cd "$stage" && { find . ! -type d; echo ./etc/mls; echo ./usr/local/lib/mls; } | sed 's|^\./||' | LC_ALL=C sort) >"$list"
tmp=$out.tmp
tar -C "$stage" --no-recursion -T "$list" --sort=name --format=gnu \
	--owner=0 --group=0 --numeric-owner --mtime="@${SOURCE_DATE_EPOCH:-0}" -cf - | gzip -n -9 >"$tmp"
rm -f "$list"
mv -f "$tmp" "$out"
echo "$out: $(stat -c %s "$out") bytes; $(tar -tzf "$out" | wc -l) entries"
