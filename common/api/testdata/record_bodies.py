#!/usr/bin/env python3
"""Runs the recording probe apiserver (kubectl_probe_server.py) with two additions for the golden
files of common/api:
  - every request body is also kept byte for byte, as DIR/bodies/<seq>-<method>-<path>.<pb|json>
    (the probe's own log decodes protobuf bodies only approximately);
  - discovery also lists the resources given with --add-resource group/version/plural/Kind[/cluster]
    (repeatable), so that `kubectl create -f` can map every kind of the manifests.

Usage: record_bodies.py PATH/TO/kubectl_probe_server.py [--add-resource G/V/P/K[/cluster]]... --dir DIR [probe options...]
"""
import importlib.util
import os
import sys


def main():
    probe_path = sys.argv[1]
    rest, extra = [], []
    args = sys.argv[2:]
    while args:
        a = args.pop(0)
        if a == "--add-resource":
            extra.append(args.pop(0))
        else:
            rest.append(a)
    sys.argv = [probe_path] + rest
    spec = importlib.util.spec_from_file_location("kubectl_probe_server", probe_path)
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    for e in extra:
        parts = e.split("/")
        group, version, plural, kind = parts[:4]
        r = probe.R(group, version, plural, kind, namespaced=not (len(parts) > 4 and parts[4] == "cluster"))
        probe.RESOURCES.append(r)
        probe.BY_GP[(r["group"], r["plural"])] = r
        if r["group"] and r["group"] not in probe.GROUP_ORDER:
            probe.GROUP_ORDER.append(r["group"])
    original = probe.Handler.record

    def record(self, status, ctype, note=""):
        original(self, status, ctype, note)
        body = getattr(self, "_body_raw", b"")
        if not body:
            return
        out = os.path.join(probe.ARGS.dir, "bodies")
        os.makedirs(out, exist_ok=True)
        ext = "pb" if body[:4] == b"k8s\x00" else "json"
        path = self.url.path.strip("/").replace("/", "_")
        name = "%04d-%s-%s.%s" % (probe.SEQ[0], self.command, path, ext)
        with open(os.path.join(out, name), "wb") as f:
            f.write(body)

    probe.Handler.record = record
    probe.main()


if __name__ == "__main__":
    main()
