#!/usr/bin/env python3
# host_test/interop/50_demo_check.py: host-side ground truth for the kernel
# tests (50_demo*.sh): what the demo and ATA test kernels must have printed
# and written, computed from the image files with zlib and sfdisk.
# Each subcommand prints "ok NAME" / "not ok NAME: why" lines.
import json
import subprocess
import sys
import zlib

MIB = 1 << 20


def say(name, good, why=""):
    print(("ok %s" % name) if good else ("not ok %s: %s" % (name, why)))


def fnv(data):
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def pread(path, off, n):
    with open(path, "rb") as f:
        f.seek(off)
        return f.read(n)


def ata_pattern(lba, n):
    # kernel_shim/ktest.c pattern(): byte i of sector lba.
    out = bytearray()
    for s in range(lba, lba + n):
        k = s + (s >> 8) + (s >> 16) + (s >> 24) + (s >> 32) + 0x5A
        out += bytes((i + k) & 0xFF for i in range(512))
    return bytes(out)


def ata_expect(disks):
    """Expected "read" lines, from the data disks before the boot."""
    lines = []
    for name, path, lba, n in disks:
        lines.append("HDI-ATA: read %s %d %d %08x" % (name, lba, n,
                                                      fnv(pread(path, lba * 512, n * 512))))
    return lines


def cmd_ata_expect(argv):
    # argv: NAME PATH LBA COUNT ...  (LBA may be "end-K": K sectors from the end)
    disks = []
    for i in range(0, len(argv), 4):
        name, path, lba, n = argv[i:i + 4]
        if lba.startswith("end-"):
            import os
            lba = os.path.getsize(path) // 512 - int(lba[4:])
        disks.append((name, path, int(lba), int(n)))
    print("\n".join(ata_expect(disks)))


def cmd_ata_verify(argv):
    # argv: TAG LOG then NAME PATH ORIG ...: every "write" line's sectors
    # hold the pattern; everything else equals ORIG (a copy, or "-": skip).
    tag = argv[0]
    log = open(argv[1], encoding="latin-1").read().splitlines()
    writes = {}
    for ln in log:
        p = ln.split()
        if len(p) == 5 and p[:2] == ["HDI-ATA:", "write"]:
            writes.setdefault(p[2], []).append((int(p[3]), int(p[4])))
    args = argv[2:]
    for i in range(0, len(args), 3):
        name, path, orig = args[i:i + 3]
        ws = writes.get(name, [])
        say("ata-writes-reported-%s-%s" % (tag, name), len(ws) > 0, "no write lines")
        for lba, n in ws:
            got = pread(path, lba * 512, n * 512)
            say("ata-write-%s-%s-%d" % (tag, name, lba), got == ata_pattern(lba, n),
                "sectors %d+%d do not hold the pattern" % (lba, n))
        if orig != "-":
            a = bytearray(open(path, "rb").read())
            b = bytearray(open(orig, "rb").read())
            for lba, n in ws:
                a[lba * 512:(lba + n) * 512] = b[lba * 512:(lba + n) * 512]
            say("ata-rest-unchanged-%s-%s" % (tag, name), a == b,
                "bytes outside the written sectors changed")


def raw_of(img, out):
    subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", img, out],
                   check=True)


def cmd_crc(argv):
    # argv: RAW -> zlib crc32 of the first MiB, 8 lowercase hex digits
    print("%08x" % (zlib.crc32(pread(argv[0], 0, MIB)) & 0xFFFFFFFF))


def cmd_demo_verify(argv):
    # argv: TAG PRE_RAW POST_RAW: the pattern, the table, and nothing else.
    tag, pre, post = argv
    a = open(pre, "rb").read()
    b = open(post, "rb").read()
    say("demo-size-%s" % tag, len(a) == len(b), "virtual size changed")
    pat = bytes(((x >> 9) & 0xFF) for x in range(4 * MIB, 5 * MIB))
    say("demo-pattern-%s" % tag, b[4 * MIB:5 * MIB] == pat,
        "[4 MiB, 5 MiB) is not (x/512)&0xFF")
    say("demo-bootcode-kept-%s" % tag, a[:440] == b[:440], "bytes 0..439 changed")
    say("demo-empty-entries-%s" % tag, b[462:510] == bytes(48),
        "entries 2..4 are not all zero")
    say("demo-magic-%s" % tag, b[510:512] == b"\x55\xaa", "no 55 AA")
    # Everything but sector 0's table area and the pattern is as it was.
    rest_ok = a[512:4 * MIB] == b[512:4 * MIB] and a[5 * MIB:] == b[5 * MIB:]
    say("demo-rest-unchanged-%s" % tag, rest_ok,
        "bytes outside sector 0 and [4 MiB, 5 MiB) changed")
    # The table as util-linux reads it.
    try:
        j = json.loads(subprocess.run(["sfdisk", "-J", post], check=True,
                                      capture_output=True, text=True).stdout)
        t = j["partitiontable"]
        parts = t.get("partitions", [])
        want = [{"start": 2048, "size": 4096, "type": "83"}]
        got = [{"start": p["start"], "size": p["size"], "type": p["type"]}
               for p in parts]
        boot = [p.get("bootable", False) for p in parts]
        say("demo-table-%s" % tag,
            t["label"] == "dos" and got == want and boot == [False],
            "sfdisk -J: %s" % json.dumps(parts))
    except Exception as e:  # noqa: BLE001 - reported as a failure
        say("demo-table-%s" % tag, False, "sfdisk -J failed: %s" % e)


if __name__ == "__main__":
    cmds = {"ata-expect": cmd_ata_expect, "ata-verify": cmd_ata_verify,
            "crc": cmd_crc, "demo-verify": cmd_demo_verify}
    cmds[sys.argv[1]](sys.argv[2:])
