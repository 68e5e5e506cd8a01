#!/usr/bin/env python3
"""Writes a docker-archive tar (what `ctr images import` loads) of a one-layer image built
from busybox-static: the cluster's pause image, since nothing can be pulled from a public
registry here. Usage: mkimage.py OUT.tar NAME:TAG BUSYBOX CMD..."""
import hashlib
import io
import json
import sys
import tarfile

out, ref, busybox, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode="w") as t:
    for d in ("bin", "tmp", "proc", "sys", "dev", "etc"):
        info = tarfile.TarInfo(d)
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        t.addfile(info)
    t.add(busybox, "bin/busybox")
    for tool in ("sh", "sleep"):
        link = tarfile.TarInfo(f"bin/{tool}")
        link.type, link.linkname = tarfile.SYMTYPE, "busybox"
        t.addfile(link)
layer_bytes = layer.getvalue()
diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
config = json.dumps({
    "architecture": "amd64", "os": "linux",
    "config": {"Cmd": cmd, "Env": ["PATH=/bin"]},
    "rootfs": {"type": "layers", "diff_ids": [diff_id]},
}).encode()
config_name = hashlib.sha256(config).hexdigest() + ".json"
manifest = json.dumps([{"Config": config_name, "RepoTags": [ref], "Layers": ["layer.tar"]}]).encode()
with tarfile.open(out, "w") as t:
    for name, data in (("layer.tar", layer_bytes), (config_name, config), ("manifest.json", manifest)):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
