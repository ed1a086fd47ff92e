#!/usr/bin/env bash
# The rootfs/ overlay (issue 13 §1, packaging only; rootfs/README.md):
# scripts/mk-rootfs.sh's tarball holds exactly the files, links and
# directories it should, is reproducible, unpacks over a merged-/usr
# Debian tree the way the README says without replacing its /sbin
# symlink, and `mls validate` accepts the shipped config inside that tree.
# Nothing here boots anything (the VM boot test is init mode's).
# Needs: MLS, TESTS_DIR; root and unshare --root for the validate step.
. "${TESTS_DIR:?}/lib.sh"
TOP=$TESTS_DIR/..

run env SOURCE_DATE_EPOCH=1700000000 "$TOP/scripts/mk-rootfs.sh" "$MLS" "$T/r.tar.gz"
is "$RC" 0 "mk-rootfs.sh builds the tarball" || diag "$ERR"
run env SOURCE_DATE_EPOCH=1700000000 "$TOP/scripts/mk-rootfs.sh" "$MLS" "$T/r2.tar.gz"
cmp -s "$T/r.tar.gz" "$T/r2.tar.gz"
ok $? "reproducible: the same bytes twice"

LIST=$(tar -tzvf "$T/r.tar.gz" | awk '{print $1, $2, $6, $7, $8}')
is "$(tar -tzf "$T/r.tar.gz" | tr '\n' ' ')" "etc/mls/ etc/mls/mls.yaml sbin/init usr/local/bin/mls usr/local/bin/mls-init usr/local/lib/mls/ usr/local/lib/mls/getty usr/local/lib/mls/net-up usr/local/lib/mls/park usr/local/lib/mls/serial-getty usr/local/lib/mls/sshd " \
	"the tarball holds the config, the binary, its links and the helpers; no entry for /sbin, /usr or /etc"
like "$LIST" '^lrwxrwxrwx 0/0 sbin/init -> /usr/local/bin/mls$' "/sbin/init -> /usr/local/bin/mls"
like "$LIST" '^lrwxrwxrwx 0/0 usr/local/bin/mls-init -> mls$' "/usr/local/bin/mls-init -> mls (for init= on the kernel command line)"
like "$LIST" '^-rwxr-xr-x 0/0 usr/local/bin/mls *$' "/usr/local/bin/mls, 0755, root"
unlike "$LIST" '^[^ ]+ [1-9]' "every entry owned by root"
for f in getty net-up park serial-getty sshd; do
	sh -n "$TOP/rootfs/usr/local/lib/mls/$f"
	ok $? "helper $f: sh -n"
done

# a merged-/usr Debian tree: /sbin a symlink, systemd's /sbin/init
D=$T/deb
mkdir -p "$D/usr/sbin" "$D/usr/bin" "$D/etc" "$D/usr/local/bin" "$D/lib/systemd" "$D/proc" "$D/dev"
ln -s usr/sbin "$D/sbin"
ln -s usr/bin "$D/bin"
ln -s /lib/systemd/systemd "$D/usr/sbin/init"
# what the README says: tar -xpzf ... --keep-directory-symlink -C ROOT
tar -xpzf "$T/r.tar.gz" --keep-directory-symlink -C "$D"
ok $? "unpacks over the tree as the README says"
is "$(readlink "$D/sbin")" usr/sbin "the image's /sbin is still its symlink to usr/sbin"
is "$(readlink "$D/usr/sbin/init")" /usr/local/bin/mls "/sbin/init (usr/sbin/init) is now mls"
cmp -s "$MLS" "$D/usr/local/bin/mls"
ok $? "/usr/local/bin/mls is the binary"
grep -q '^README' <(tar -tzf "$T/r.tar.gz")
ok $((! $?)) "rootfs/README.md is not shipped"

# mls validate on the shipped config, inside that tree (its commands are
# the helpers there)
cp /bin/sh "$D/usr/bin/sh" 2>/dev/null
if ! unshare --mount --root "$D" /usr/local/bin/mls --version >/dev/null 2>&1; then
	skip "validate inside the tree: unshare --root fails here (not root?)"
else
	run unshare --mount --root "$D" /usr/local/bin/mls validate /etc/mls/mls.yaml
	is "$RC" 0 "mls validate accepts the shipped /etc/mls/mls.yaml"
	is "$ERR$OUT" "0 errors, 0 warnings" "... with no warning"
	run unshare --mount --root "$D" /usr/local/bin/mls-init -c /nonexistent.yaml
	like "$ERR" '^mls supervise: invalid config' "mls-init runs mls supervise (the init= target)"
fi
run "$MLS" validate --format json "$TOP/rootfs/etc/mls/mls.yaml"
is "$RC" 0 "mls validate: the config has no error outside the tree either (its commands are only missing here)"

done_testing
