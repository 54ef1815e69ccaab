#!/usr/bin/env python3
# host_test/interop/qcow2_read_cmp.py: compares edqcow2's JSON (map, info,
# snapshot list) with qemu-img's. Prints nothing when they agree, else one
# line saying where they differ. Used by 20_qcow2_read.sh.
import json
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def map_cmp(ours, theirs):
    # qemu-img before 8.2 has no "compressed" key; compare it when present
    if len(ours) != len(theirs):
        return "extent count %d vs qemu %d (first diff: %s)" % (
            len(ours), len(theirs), first_diff(ours, theirs))
    for a, b in zip(ours, theirs):
        for k in set(a) | set(b):
            if k == "compressed" and k not in b:
                continue
            if a.get(k) != b.get(k):
                return "at start %s: %s=%s, qemu %s" % (
                    b.get("start"), k, a.get(k), b.get(k))
    return ""


def first_diff(ours, theirs):
    for a, b in zip(ours, theirs):
        a = {k: v for k, v in a.items() if k in b}
        if a != b:
            return "%s vs %s" % (a, b)
    return "tail"


INFO_KEYS = ["virtual-size", "filename", "cluster-size", "format",
             "backing-filename", "backing-filename-format",
             "full-backing-filename", "dirty-flag", "format-specific",
             "snapshots", "actual-size"]


def info_cmp(ours, theirs):
    for k in INFO_KEYS:
        if ours.get(k) != theirs.get(k):
            return "%s: %s, qemu %s" % (k, ours.get(k), theirs.get(k))
    extra = set(ours) - set(theirs)
    if extra:
        return "fields qemu lacks: %s" % sorted(extra)
    return ""


def snap_cmp(ours, theirs):
    # theirs: qemu-img info's "snapshots" list
    a = ours.get("snapshots", [])
    b = theirs.get("snapshots", [])
    return "" if a == b else "snapshots %s, qemu %s" % (a, b)


def main():
    kind, ours, theirs = sys.argv[1], load(sys.argv[2]), load(sys.argv[3])
    fn = {"map": map_cmp, "info": info_cmp, "snap": snap_cmp}[kind]
    msg = fn(ours, theirs)
    if msg:
        print(msg[:600])


if __name__ == "__main__":
    main()
