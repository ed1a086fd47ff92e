#!/usr/bin/env bash
# The container image without an engine (issue 13 §4, docs/container.md):
# scripts/oci-image.py writes docker/Dockerfile's image as an OCI layout
# tar. Checked against the image-spec (media types, digests and sizes of
# the blobs, diff_ids, the config's fields, the layer's files and owners),
# reproducible, read by umoci and skopeo (independent readers), and run as
# a runtime would: its layer unpacked, `unshare --root --pid` with the
# config's Entrypoint, User and Env; its HEALTHCHECK exits 0; its
# StopSignal ends it with status 0.
# Needs: MLS, TESTS_DIR, python3, umoci, skopeo; root and unshare for the run.
. "${TESTS_DIR:?}/lib.sh"

have_python3 || skip_all "needs python3"
TOP=$TESTS_DIR/..
NS_INIT= U_PID=
cleanup57() {
	[ -n "$NS_INIT" ] && kill -KILL "$NS_INIT" 2>/dev/null
	[ -n "$U_PID" ] && wait "$U_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup57 EXIT

IMG=$T/image.tar
run env SOURCE_DATE_EPOCH=1700000000 python3 "$TOP/scripts/oci-image.py" "$IMG" "$MLS" "$TOP/docker/root" x86_64 t1
is "$RC" 0 "oci-image.py builds the image" || diag "$ERR"
run env SOURCE_DATE_EPOCH=1700000000 python3 "$TOP/scripts/oci-image.py" "$T/again.tar" "$MLS" "$TOP/docker/root" x86_64 t1
cmp -s "$IMG" "$T/again.tar"
ok $? "reproducible: the same inputs give the same bytes"

mkdir -p "$T/oci"
tar -xf "$IMG" -C "$T/oci"
ok $? "the image is a tar"

# ---- the layout against the image-spec, and the config's fields
# (a file: run's stdin is /dev/null)
cat >"$T/check.py" <<'EOF'
import gzip, hashlib, io, json, os, re, sys, tarfile
d, dockerfile = sys.argv[1], sys.argv[2]
fails = []
def check(c, what):
    print(("ok: " if c else "FAIL: ") + what)
    if not c: fails.append(what)
def blob(desc):
    alg, hx = desc["digest"].split(":")
    b = open(os.path.join(d, "blobs", alg, hx), "rb").read()
    check(alg == "sha256" and hashlib.sha256(b).hexdigest() == hx, "digest of %s matches its blob" % desc["mediaType"])
    check(desc["size"] == len(b), "size of %s matches its blob (%d)" % (desc["mediaType"], len(b)))
    return b
check(json.load(open(os.path.join(d, "oci-layout"))) == {"imageLayoutVersion": "1.0.0"}, "oci-layout 1.0.0")
idx = json.load(open(os.path.join(d, "index.json")))
check(idx["schemaVersion"] == 2 and idx["mediaType"] == "application/vnd.oci.image.index.v1+json", "index.json: schemaVersion 2, index media type")
check(len(idx["manifests"]) == 1, "index.json: one manifest")
md = idx["manifests"][0]
check(md["mediaType"] == "application/vnd.oci.image.manifest.v1+json", "index: manifest media type")
check(md["platform"] == {"architecture": "amd64", "os": "linux"}, "index: platform linux/amd64")
check(md["annotations"]["org.opencontainers.image.ref.name"] == "t1", "index: ref.name is the tag")
m = json.loads(blob(md))
check(m["schemaVersion"] == 2 and m["mediaType"] == md["mediaType"], "manifest: schemaVersion 2, its media type")
check(m["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json", "manifest: config media type")
check(len(m["layers"]) == 1 and m["layers"][0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip", "manifest: one tar+gzip layer")
cfg = json.loads(blob(m["config"]))
layer = blob(m["layers"][0])
raw = gzip.decompress(layer)
check(cfg["rootfs"] == {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]}, "config: diff_ids = sha256 of the uncompressed layer")
check(cfg["architecture"] == "amd64" and cfg["os"] == "linux", "config: amd64, linux")
check(cfg["created"] == "2023-11-14T22:13:20Z", "config: created is SOURCE_DATE_EPOCH")
c = cfg["config"]
check(c["Entrypoint"] == ["/mls", "supervise"], "config: Entrypoint /mls supervise")
check(c["User"] == "65532:65532", "config: User 65532:65532 (not root)")
check(c["StopSignal"] == "SIGTERM", "config: StopSignal SIGTERM")
check(c["Healthcheck"]["Test"] == ["CMD", "/mls", "health"], "config: Healthcheck /mls health")
check(any(e.startswith("PATH=") for e in c["Env"]), "config: Env has PATH")
check("Cmd" not in c, "config: no Cmd")
# the same as docker/Dockerfile says
df = open(dockerfile).read()
check('ENTRYPOINT ["/mls", "supervise"]' in df and 'CMD ["/mls", "health"]' in df and "STOPSIGNAL SIGTERM" in df
      and "USER 65532:65532" in df, "docker/Dockerfile says the same Entrypoint, Healthcheck, StopSignal, User")
hc = re.search(r"HEALTHCHECK --interval=(\d+)s --timeout=(\d+)s --start-period=(\d+)s --retries=(\d+)", df)
h = c["Healthcheck"]
check(hc and [int(x) * 10**9 for x in hc.groups()[:3]] == [h["Interval"], h["Timeout"], h["StartPeriod"]]
      and int(hc.group(4)) == h["Retries"], "the Healthcheck's timings are the Dockerfile's")
env = re.search(r"^ENV (.*)$", df, re.M)
check(env and c["Env"] == [env.group(1)], "the Env is the Dockerfile's")
# Docker's manifest.json (for Docker before 25)
dm = json.load(open(os.path.join(d, "manifest.json")))
check(dm == [{"Config": "blobs/sha256/" + m["config"]["digest"][7:], "RepoTags": ["mls:t1"],
              "Layers": ["blobs/sha256/" + m["layers"][0]["digest"][7:]]}], "manifest.json (docker load) names the same blobs")
# the layer
t = tarfile.open(fileobj=io.BytesIO(raw))
mem = {x.name: x for x in t.getmembers()}
check(sorted(mem) == ["etc", "etc/group", "etc/mls", "etc/mls/mls.yaml", "etc/passwd", "mls", "run", "run/mls"],
      "layer: only /mls, /etc/{passwd,group,mls/mls.yaml}, /run/mls (got %s)" % sorted(mem))
check([x.name for x in t.getmembers()] == sorted(mem), "layer: entries sorted")
check(all(x.mtime == 1700000000 for x in t.getmembers()), "layer: fixed mtimes")
check(all((x.uid, x.gid) == ((65532, 65532) if x.name == "run/mls" else (0, 0)) and x.uname == x.gname == ""
          for x in t.getmembers()), "layer: owned by root, /run/mls by 65532, no names")
check(mem["mls"].mode == 0o755 and mem["mls"].size > 100000, "layer: /mls executable")
pw = t.extractfile("etc/passwd").read().decode()
check(re.search(r"^mls:x:65532:65532:", pw, re.M) is not None, "layer: /etc/passwd has the user 65532")
check(re.search(r"^mls:x:65532:", t.extractfile("etc/group").read().decode(), re.M) is not None, "layer: /etc/group has 65532")
print("compressed %d" % len(layer))
sys.exit(1 if fails else 0)
EOF
run python3 "$T/check.py" "$T/oci" "$TOP/docker/Dockerfile"
is "$RC" 0 "the OCI layout and config follow the image-spec and the Dockerfile"
printf '%s\n' "$OUT$ERR" | grep -v '^ok: ' | sed 's/^/# /'
SIZE=$(printf '%s\n' "$OUT" | sed -n 's/^compressed //p')
ok $([ -n "$SIZE" ] && [ "$SIZE" -lt 1048576 ] && echo 0 || echo 1) "the image is under 1 MiB compressed ($SIZE bytes)"

# ---- independent readers: umoci (unpacks, checking every digest) and skopeo
if ! command -v umoci >/dev/null 2>&1; then
	skip "umoci is not installed (scripts/install-tools.sh test)"
else
	run umoci unpack --image "$T/oci:t1" "$T/bundle"
	is "$RC" 0 "umoci unpacks the image (digests checked)" || diag "$ERR"
	run python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
p = c["process"]
print(p["args"], p["user"]["uid"], p["user"]["gid"])' "$T/bundle/config.json"
	is "$OUT" "['/mls', 'supervise'] 65532 65532" "umoci's runtime config: args /mls supervise as 65532:65532"
	cmp -s "$MLS" "$T/bundle/rootfs/mls"
	ok $? "umoci's rootfs holds this /mls"
fi
if ! command -v skopeo >/dev/null 2>&1; then
	skip "skopeo is not installed (scripts/install-tools.sh test)"
else
	run skopeo inspect "oci-archive:$IMG"
	is "$RC" 0 "skopeo inspect reads the archive" || diag "$ERR"
	json_check "$OUT" 'd["Architecture"] == "amd64" and d["Os"] == "linux" and len(d["Layers"]) == 1'
	ok $? "skopeo: amd64, linux, one layer"
	run skopeo copy "oci-archive:$IMG" "docker-archive:$T/docker.tar:mls:t1"
	is "$RC" 0 "skopeo converts it to a docker-archive (docker load's older format)" || diag "$ERR"
fi

# ---- run it as a runtime would
R=$T/root
mkdir -p "$R"
tar -xzf "$T/oci/blobs/sha256/$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/index.json"))["manifests"][0]["digest"][7:]; print(json.load(open(sys.argv[1]+"/blobs/sha256/"+m))["layers"][0]["digest"][7:])' "$T/oci")" -C "$R" --numeric-owner
is "$(stat -c %u:%g "$R/run/mls" 2>/dev/null)" 65532:65532 "unpacked: /run/mls belongs to the image's user"
# what a runtime adds: /proc, /dev/null, the secret the image's README mounts
mkdir -p "$R/proc" "$R/dev" "$R/run/secrets"
echo "image-test-token-0123456789" >"$R/run/secrets/mls_token"
chmod 644 "$R/run/secrets/mls_token"
if ! mknod -m 666 "$R/dev/null" c 1 3 2>/dev/null || ! unshare --net --pid --fork --mount --mount-proc --root "$R" /mls --version >/dev/null 2>&1; then
	skip "run: cannot mknod or unshare --root here (not root?)"
else
	# the config's Entrypoint, User and Env, as a runtime reads them
	CFG=$(python3 -c 'import json,sys; d=sys.argv[1]; m=json.load(open(d+"/index.json"))["manifests"][0]["digest"][7:]; print(d+"/blobs/sha256/"+json.load(open(d+"/blobs/sha256/"+m))["config"]["digest"][7:])' "$T/oci")
	field() { python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["config"]; v=eval(sys.argv[2]); print("\n".join(v) if isinstance(v, list) else v)' "$CFG" "$1"; }
	mapfile -t ENTRY < <(field 'c["Entrypoint"]')
	mapfile -t ENVS < <(field 'c["Env"]')
	mapfile -t HC < <(field 'c["Healthcheck"]["Test"][1:]')
	USR=$(field 'c["User"]')
	STOPSIG=$(field 'c["StopSignal"]')
	# its own network namespace (port 9000 is not the host's)
	env -i "${ENVS[@]}" unshare --net --pid --fork --mount --mount-proc --root "$R" \
		--setuid "${USR%%:*}" --setgid "${USR##*:}" "${ENTRY[@]}" >"$T/run.out" 2>"$T/run.err" &
	U_PID=$!
	child() { NS_INIT=$(tr -d ' \n' <"/proc/$U_PID/task/$U_PID/children" 2>/dev/null); [ -n "$NS_INIT" ]; }
	wait_for "run: the entrypoint started" 10 child
	insider() { nsenter -t "$NS_INIT" --mount --pid --net --root --wd -S "${USR%%:*}" -G "${USR##*:}" "$@"; }
	up() { insider /mls ctl status 2>/dev/null | grep -q '^mls-httpd\.1 *running'; }
	wait_for "run: the image's service (mls-httpd) is running" 10 up
	is "$(sed -n 's/^NSpid:[[:space:]]*[0-9]*[[:space:]]*//p' "/proc/$NS_INIT/status")" 1 "run: mls is PID 1"
	is "$(awk '/^Uid:/ {print $2}' "/proc/$NS_INIT/status")" 65532 "run: as uid 65532"
	like "$(cat "$T/run.err")" 'supervise starting, pid 1,' "run: supervise started from /etc/mls/mls.yaml"
	nsenter -t "$NS_INIT" --net ip link set lo up
	listening() { grep -q 'listening on https://0.0.0.0:9000' "$T/run.out"; }
	wait_for "run: httpd listens on 9000 with TLS" 10 listening
	run insider "${HC[@]}"
	is "$RC" 0 "run: the HEALTHCHECK (${HC[*]}) exits 0" || diag "$ERR"
	if command -v curl >/dev/null 2>&1; then
		run nsenter -t "$NS_INIT" --net curl -sk https://127.0.0.1:9000/healthz
		is "$OUT" ok "run: /healthz answers ok over https"
	else
		skip "curl is not installed"
	fi
	kill -"${STOPSIG#SIG}" "$NS_INIT"
	wait "$U_PID"
	is "$?" 0 "run: the StopSignal ($STOPSIG) ends it with status 0"
	U_PID= NS_INIT=
	like "$(cat "$T/run.err")" 'all services stopped, exiting with status 0' "run: every service stopped first"
fi

done_testing
