#!/usr/bin/env python3
"""tools/size.py: the table `make size` prints (tools/size.mk builds the
objects): .text bytes of core/ per configuration of include/hdi/config.h and
per module, what a reader links (only the functions it reaches), and the
read-only stage-2 example; then the size targets, failing when one is
missed.

  size.py --size SIZE --ld LD [--ld-flag F]... --src core
          --config NAME=OBJDIR ... [--reader-config NAME]
          [--stage2 ELF MAP] [--target NAME=BYTES]...
"""
import argparse
import os
import re
import subprocess
import sys

# What a program that only reads links: open, read, the device view,
# MBR reading, a partition as a device, CRC-32.
READER = """hdi_qcow2_open_ro hdi_qcow2_read hdi_qcow2_bdev hdi_qcow2_close
hdi_qcow2_errmsg hdi_mbr_read hdi_mbr_partdev_init hdi_bdev_pread
hdi_bdev_size hdi_crc32 hdi_strerror""".split()

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def includes(src, f, seen=None):
    """Core headers file f includes, directly or through other headers."""
    seen = set() if seen is None else seen
    with open(os.path.join(src, f), encoding="utf-8") as fh:
        for i in INCLUDE.findall(fh.read()):
            i = os.path.basename(i)
            if i not in seen and os.path.exists(os.path.join(src, i)):
                seen.add(i)
                includes(src, i, seen)
    return seen


def module_of(src, f):
    """Module of core file f, from its name and its private headers."""
    incs = includes(src, f)
    if f.startswith("qcow2_"):
        if "qcow2_wr.h" in incs:
            return "qcow2 write side"
        if "qcow2_check_int.h" in incs:
            return "qcow2 check side"
        return "qcow2 read side"
    for prefix, name in (("inflate", "zlib (inflate)"), ("zstd", "zstd"),
                         ("mbr", "MBR"), ("gpt", "GPT"), ("bdev", "bdev"),
                         ("errors", "bdev"), ("crc32", "crc32")):
        if f.startswith(prefix):
            return name
    return f[:-2]


def text_of(size, path):
    """Bytes of the .text sections (all .text.* with -ffunction-sections)."""
    out = subprocess.run([size, "-A", path], capture_output=True, text=True,
                         check=True).stdout
    return sum(int(m.group(1)) for m in
               re.finditer(r"^\.text\S*\s+(\d+)", out, re.M))


def reader_link(ld, ldflags, size, objdir, src):
    lib = os.path.join(objdir, "reader-probe.a")
    out = os.path.join(objdir, "reader-probe.o")
    objs = [os.path.join(objdir, f[:-2] + ".o") for f in sorted(os.listdir(src))
            if f.endswith(".c")]
    if os.path.exists(lib):
        os.unlink(lib)
    ar = ld[:-2] + "ar" if ld.endswith("ld") else "ar"
    subprocess.run([ar, "rcs", lib] + objs, check=True)
    cmd = [ld] + ldflags + ["-r", "--gc-sections", "-o", out]
    for s in READER:
        cmd += ["-u", s]
    subprocess.run(cmd + [lib], check=True)
    return text_of(size, out)


def undefined(ld, ldflags, size, objdir, src):
    """Symbols still undefined once every object of a configuration is
    linked together, beyond the four a kernel supplies."""
    out = os.path.join(objdir, "all-probe.o")
    objs = [os.path.join(objdir, f[:-2] + ".o") for f in sorted(os.listdir(src))
            if f.endswith(".c")]
    subprocess.run([ld] + ldflags + ["-r", "-o", out] + objs, check=True)
    nm = size[:-4] + "nm" if size.endswith("size") else "nm"
    res = subprocess.run([nm, "-u", out], capture_output=True, text=True,
                         check=True).stdout.split()
    return sorted(set(s for s in res if s != "U") -
                  {"memcpy", "memmove", "memset", "memcmp"})


def stage2_core(map_path):
    """.text the stage 2 links from the core library, from its linker map
    (an input section line names its size and archive member; a long
    section name puts them on the next line)."""
    total, in_map, pending = 0, False, False
    sec = re.compile(r"^ (\.text\S*)(?:\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S+))?\s*$")
    cont = re.compile(r"^\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S+)\s*$")
    with open(map_path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("Linker script and memory map"):
                in_map = True
                continue
            if not in_map:
                continue
            m = sec.match(line)
            if m:
                pending = m.group(2) is None
                if not pending and "libhdi.a(" in m.group(3):
                    total += int(m.group(2), 16)
                continue
            if pending:
                m = cont.match(line)
                if m and "libhdi.a(" in m.group(2):
                    total += int(m.group(1), 16)
            pending = False
    return total


def kib(n):
    return "%.1f" % (n / 1024.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", required=True)
    ap.add_argument("--ld", required=True)
    ap.add_argument("--ld-flag", action="append", default=[])
    ap.add_argument("--src", required=True)
    ap.add_argument("--config", action="append", required=True)
    ap.add_argument("--reader-config", action="append", default=[])
    ap.add_argument("--stage2", nargs=2)
    ap.add_argument("--target", action="append", default=[])
    ap.add_argument("--title", default="")
    a = ap.parse_args()

    configs = [c.split("=", 1) for c in a.config]
    files = sorted(f for f in os.listdir(a.src) if f.endswith(".c"))
    modules = {}
    for f in files:
        modules.setdefault(module_of(a.src, f), []).append(f)
    rows, totals = [], {}
    for mod in sorted(modules):
        row = [mod]
        for name, d in configs:
            n = sum(text_of(a.size, os.path.join(d, f[:-2] + ".o"))
                    for f in modules[mod])
            totals[name] = totals.get(name, 0) + n
            row.append(n)
        rows.append(row)
    measured = {}
    ok = True
    for name, d in configs:
        bad = undefined(a.ld, a.ld_flag, a.size, d, a.src)
        if bad:
            ok = False
            print("config %s: undefined symbols: %s" % (name, " ".join(bad)))
    for name, d in configs:
        measured["total:" + name] = totals[name]
    link_row = ["reader link (gc-sections)"]
    for name, d in configs:
        if name in a.reader_config:
            n = reader_link(a.ld, a.ld_flag, a.size, d, a.src)
            measured["reader:" + name] = n
            link_row.append(n)
        else:
            link_row.append(None)

    w = max(len(r[0]) for r in rows + [link_row]) + 2
    if a.title:
        print(a.title)
    print("%-*s" % (w, ".text bytes") +
          "".join("%14s" % name for name, _ in configs))
    for r in rows + [["all of core/"] + [totals[n] for n, _ in configs], link_row]:
        print("%-*s" % (w, r[0]) + "".join(
            "%14s" % ("-" if v is None else "%d" % v) for v in r[1:]))
    if a.stage2:
        elf, mp = a.stage2
        whole = text_of(a.size, elf)
        core = stage2_core(mp)
        measured["stage2"] = whole
        measured["stage2-core"] = core
        print("stage-2 example (%s): %d bytes of .text, %d of them from the core"
              % (os.path.basename(elf), whole, core))
    for t in a.target:
        key, limit = t.rsplit("=", 1)
        got = measured.get(key)
        good = got is not None and got <= int(limit)
        ok &= good
        print("target %-28s %8s KiB <= %s KiB: %s" % (
            key, "?" if got is None else kib(got), kib(int(limit)),
            "ok" if good else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
