#!/usr/bin/env python3
"""oci-image.py OUT.tar MLS ROOT ARCH [TAG]: the image docker/Dockerfile
describes, built without a container engine, as an OCI image layout in a
tar file (what `docker save` writes and `docker load` / `podman load` /
`skopeo copy oci-archive:` read; docs/container.md).

One layer: ROOT's tree (docker/root: /etc/passwd, /etc/group,
/etc/mls/mls.yaml, /run/mls owned by the image's user) plus MLS as /mls.
Reproducible: entries sorted, mtimes SOURCE_DATE_EPOCH (default 0),
owners numeric with no names, gzip without a name or time; the same
inputs give the same bytes.

The tar holds: oci-layout, index.json, blobs/sha256/{layer, config,
manifest}, and a Docker manifest.json (Docker before 25 loads only that).

Keep the config below in step with docker/Dockerfile (tests/57-image.t
compares them)."""
import gzip, hashlib, io, json, os, sys, tarfile

USER = "65532:65532"      # mls in docker/root/etc/passwd
OWNED = {"run/mls"}       # directories the user owns (state_dir)
ARCHS = {"x86_64": ("amd64", None), "aarch64": ("arm64", "v8"), "armhf": ("arm", "v7")}
SEC = 1000000000          # Docker's durations are nanoseconds

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def layer_tar(mls, root, mtime):
    """The uncompressed layer: (path in image, source or None, mode, owner)"""
    entries = {"mls": (mls, 0o755)}
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        for n in dirs:
            p = os.path.normpath(os.path.join(rel, n))
            entries[p] = (None, 0o755)
        for n in files:
            if n == ".keep":
                continue  # git keeps empty directories only with a file
            p = os.path.normpath(os.path.join(rel, n))
            entries[p] = (os.path.join(d, n), 0o644)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for p in sorted(entries):
            src, mode = entries[p]
            ti = tarfile.TarInfo(p)
            ti.mtime = mtime
            ti.mode = mode
            ti.uid, ti.gid = (65532, 65532) if p in OWNED else (0, 0)
            ti.uname = ti.gname = ""
            if src is None:
                ti.type = tarfile.DIRTYPE
                t.addfile(ti)
            else:
                with open(src, "rb") as f:
                    data = f.read()
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def gz(data, mtime):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=mtime, compresslevel=9) as g:
        g.write(data)
    return buf.getvalue()


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def canon(o):
    return json.dumps(o, sort_keys=True, separators=(",", ":")).encode()


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__.split("\n")[0])
    out, mls, root, arch = sys.argv[1:5]
    tag = sys.argv[5] if len(sys.argv) == 6 else "latest"
    if arch not in ARCHS:
        sys.exit("oci-image: ARCH must be one of %s" % ", ".join(ARCHS))
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    created = "%04d-%02d-%02dT%02d:%02d:%02dZ" % __import__("time").gmtime(epoch)[:6]

    raw = layer_tar(mls, root, epoch)
    layer = gz(raw, epoch)
    goarch, variant = ARCHS[arch]
    config = {
        "created": created,
        "architecture": goarch,
        "os": "linux",
        "config": {
            "User": USER,
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Entrypoint": ["/mls", "supervise"],
            "WorkingDir": "/",
            "ExposedPorts": {"9000/tcp": {}},
            "StopSignal": "SIGTERM",
            # Docker's extension of the config (HEALTHCHECK)
            "Healthcheck": {"Test": ["CMD", "/mls", "health"], "Interval": 10 * SEC,
                            "Timeout": 5 * SEC, "StartPeriod": 10 * SEC, "Retries": 3},
        },
        "rootfs": {"type": "layers", "diff_ids": [sha(raw)]},
        "history": [{"created": created, "created_by": "make image (scripts/oci-image.py)"}],
    }
    if variant:
        config["variant"] = variant
    cfg = canon(config)
    manifest = canon({
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": {"mediaType": MT_CONFIG, "digest": sha(cfg), "size": len(cfg)},
        "layers": [{"mediaType": MT_LAYER, "digest": sha(layer), "size": len(layer)}],
    })
    platform = {"architecture": goarch, "os": "linux"}
    if variant:
        platform["variant"] = variant
    index = canon({
        "schemaVersion": 2,
        "mediaType": MT_INDEX,
        "manifests": [{
            "mediaType": MT_MANIFEST, "digest": sha(manifest), "size": len(manifest),
            "platform": platform,
            "annotations": {"io.containerd.image.name": "docker.io/library/mls:" + tag,
                            "org.opencontainers.image.ref.name": tag},
        }],
    })
    blob = lambda b: "blobs/sha256/" + sha(b)[7:]
    docker = canon([{"Config": blob(cfg), "RepoTags": ["mls:" + tag], "Layers": [blob(layer)]}])

    files = [("oci-layout", canon({"imageLayoutVersion": "1.0.0"})), ("index.json", index),
             ("manifest.json", docker), (blob(layer), layer), (blob(cfg), cfg), (blob(manifest), manifest)]
    dirs = ["blobs", "blobs/sha256"]
    tmp = out + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.USTAR_FORMAT) as t:
        for p, data in sorted([(d, None) for d in dirs] + files, key=lambda e: e[0]):
            ti = tarfile.TarInfo(p)
            ti.mtime = epoch
            ti.uname = ti.gname = ""
            if data is None:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            else:
                ti.mode, ti.size = 0o644, len(data)
                t.addfile(ti, io.BytesIO(data))
    os.replace(tmp, out)
    print("%s: mls:%s %s, layer %d bytes gzip (%d uncompressed), manifest %s"
          % (out, tag, goarch + ("/" + variant if variant else ""), len(layer), len(raw), sha(manifest)))


main()
