#!/usr/bin/env python3
"""host_test/layers.py: checks that core/ depends one way (rule 7).

  layers.py graph SRCDIR OBJDIR NM
      The #include graph of SRCDIR (core/) and the symbol graph of its
      objects in OBJDIR (who calls whom, from `nm`) must have no cycle
      between files. Prints every cycle with the symbols that make it.
  layers.py readonly SRCDIR LIB LD [LDFLAGS...]
      Links the read-only entry points out of the static library LIB (as a
      reader's program does: only the members it needs) and fails if a
      member of the write side or the check side comes in.

Prints "ok NAME" / "not ok NAME: why" lines for host_test/run.sh and exits
non-zero on a failure.
"""
import os
import re
import subprocess
import sys

# What a program that only reads needs: open, read, the block-device view,
# info, map, snapshots listed and viewed, bitmaps listed, MBR reading, a
# partition as a device.
READER = """hdi_qcow2_open_ro hdi_qcow2_read hdi_qcow2_bdev hdi_qcow2_close
hdi_qcow2_flush hdi_qcow2_info hdi_qcow2_map hdi_qcow2_errmsg hdi_qcow2_probe
hdi_qcow2_snapshot_get hdi_qcow2_snapshot_find hdi_qcow2_snapshot_select
hdi_qcow2_bitmap_get hdi_mbr_read hdi_mbr_get hdi_mbr_range
hdi_mbr_partdev_init hdi_bdev_read hdi_bdev_pread hdi_bdev_size""".split()

# Private headers of the sides a reader must not link.
WRITE_SIDE_HEADERS = ("qcow2_wr.h", "qcow2_check_int.h")
# Public entries of those sides (whatever file they end up in).
WRITE_SIDE_SYMBOLS = re.compile(
    r"^hdi_(qcw_|qc_check|qc_ck_|qc_repair|qc_rw_|qcow2_(write|discard|"
    r"resize|create|check|open)$|mbr_write)")

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def report(ok, name, why=""):
    print(("ok %s" % name) if ok else ("not ok %s: %s" % (name, why)))
    return ok


def cycles(graph):
    """Strongly connected components with more than one node (Tarjan),
    plus nodes with an edge to themselves."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        # iterative Tarjan: (node, iterator over its successors)
        work = [(v, iter(sorted(graph.get(v, ()))))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        while work:
            node, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    break
                if w in on:
                    low[node] = min(low[node], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == node:
                            break
                    if len(comp) > 1 or node in graph.get(node, ()):
                        out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def include_graph(src):
    g = {}
    for f in sorted(os.listdir(src)):
        if not f.endswith((".c", ".h")):
            continue
        with open(os.path.join(src, f), encoding="utf-8") as fh:
            text = fh.read()
        g[f] = {os.path.basename(i) for i in INCLUDE.findall(text)
                if os.path.exists(os.path.join(src, os.path.basename(i)))}
    return g


def nm_symbols(nm, obj):
    out = subprocess.run([nm, obj], capture_output=True, text=True,
                         check=True).stdout
    defined, undef = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undef.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRCGSV":
            defined.add(parts[2])
    return defined, undef


def symbol_graph(src, objdir, nm):
    defs, undefs = {}, {}
    for f in sorted(os.listdir(src)):
        if not f.endswith(".c"):
            continue
        obj = os.path.join(objdir, f[:-2] + ".o")
        if not os.path.exists(obj):
            raise SystemExit("not ok layers-objects: %s missing" % obj)
        defs[f], undefs[f] = nm_symbols(nm, obj)
    owner = {s: f for f, ds in defs.items() for s in ds}
    g, why = {}, {}
    for f, us in undefs.items():
        g[f] = set()
        for s in sorted(us):
            t = owner.get(s)
            if t and t != f:
                g[f].add(t)
                why.setdefault((f, t), s)
    return g, why


def describe(comp, g, why):
    edges = ["%s->%s (%s)" % (a, b, why.get((a, b), "#include"))
             for a in comp for b in sorted(g.get(a, ())) if b in comp]
    return "cycle {%s}: %s" % (" ".join(comp), "; ".join(edges))


def cmd_graph(src, objdir, nm):
    ok = True
    g = include_graph(src)
    bad = cycles(g)
    ok &= report(not bad, "layers-include-acyclic",
                 " | ".join(describe(c, g, {}) for c in bad))
    g, why = symbol_graph(src, objdir, nm)
    bad = cycles(g)
    ok &= report(not bad, "layers-objects-acyclic",
                 " | ".join(describe(c, g, why) for c in bad))
    return ok


def write_side_files(src):
    """Core files that include a write- or check-side private header,
    directly or through another header."""
    g = include_graph(src)
    side = set(WRITE_SIDE_HEADERS)
    grew = True
    while grew:
        grew = False
        for f, incs in g.items():
            if f not in side and incs & side:
                side.add(f)
                grew = True
    return {f for f in side if f.endswith(".c")}


def cmd_readonly(src, lib, ld, ldflags):
    out_o = lib + ".readonly-probe.o"
    cmd = [ld] + ldflags + ["-r", "-t", "-t", "-o", out_o]
    for s in READER:
        cmd += ["-u", s]
    cmd.append(lib)
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        return report(False, "layers-readonly-link", res.stderr.strip()[-300:])
    members = set(re.findall(r"\)([A-Za-z0-9_]+)\.o$", res.stdout, re.M))
    nm = ld[:-2] + "nm" if ld.endswith("ld") else "nm"
    defined, _ = nm_symbols(nm, out_o)
    os.unlink(out_o)
    pulled = sorted(m + ".c" for m in members if m + ".c" in write_side_files(src))
    syms = sorted(s for s in defined if WRITE_SIDE_SYMBOLS.match(s))
    if not members:
        return report(False, "layers-readonly-link", "no member linked (-t output changed?)")
    return report(not pulled and not syms, "layers-readonly-link",
                  "a reader links %s %s" % (" ".join(pulled), " ".join(syms)))


def main(argv):
    if len(argv) >= 5 and argv[1] == "graph":
        return cmd_graph(argv[2], argv[3], argv[4])
    if len(argv) >= 5 and argv[1] == "readonly":
        return cmd_readonly(argv[2], argv[3], argv[4], argv[5:])
    sys.stderr.write(__doc__)
    return False


if __name__ == "__main__":
    sys.exit(0 if main(sys.argv) else 1)
