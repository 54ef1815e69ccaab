"""host_test/interop/qcow2_check_poke.py: damages qcow2 image files the way
the check tests need (leaks, corruptions, broken refcount structures), by
parsing the header, L1/L2 tables and refcount blocks with struct."""
import os
import struct

L1E_MASK = 0x00fffffffffffe00
RTE_MASK = 0xfffffffffffffe00
COPIED = 1 << 63
ZERO = 1


class Img:
    def __init__(self, path):
        self.path = path
        self.f = open(path, 'r+b')
        h = self.rd(0, 112)
        (magic, self.version, _bo, _bs, self.cb, self.size, _cm, self.l1_size,
         self.l1_off, self.rt_off, self.rt_clusters, self.nb_sn,
         self.sn_off) = struct.unpack('>IIQIIQIIQQIIQ', h[:72])
        assert magic == 0x514649fb
        self.incompat = struct.unpack('>Q', h[72:80])[0] if self.version >= 3 else 0
        self.order = struct.unpack('>I', h[96:100])[0] if self.version >= 3 else 4
        self.cs = 1 << self.cb
        self.esz = 16 if self.incompat & 16 else 8
        self.l2_bits = self.cb - (4 if self.esz == 16 else 3)
        self.rb_bits = self.cb + 3 - self.order
        self.bits = 1 << self.order

    def close(self):
        self.f.close()

    def rd(self, off, n):
        self.f.seek(off)
        b = self.f.read(n)
        return b + bytes(n - len(b))

    def wr(self, off, b):
        self.f.seek(off)
        self.f.write(b)

    def u64(self, off):
        return struct.unpack('>Q', self.rd(off, 8))[0]

    def put64(self, off, v):
        self.wr(off, struct.pack('>Q', v))

    def file_size(self):
        self.f.flush()
        return os.path.getsize(self.path)

    # ---- L1 / L2
    def l1e_pos(self, voff):
        return self.l1_off + 8 * (voff >> (self.cb + self.l2_bits))

    def l2e_pos(self, voff):
        l2 = self.u64(self.l1e_pos(voff)) & L1E_MASK
        assert l2, 'no L2 table for 0x%x' % voff
        idx = (voff >> self.cb) & ((1 << self.l2_bits) - 1)
        return l2 + idx * self.esz

    def l2e(self, voff):
        return self.u64(self.l2e_pos(voff))

    def set_l2e(self, voff, v):
        self.put64(self.l2e_pos(voff), v)

    def data_cluster(self, voff):
        e = self.l2e(voff)
        assert e & L1E_MASK and not e & (1 << 62), 'not a plain data cluster'
        return (e & L1E_MASK) >> self.cb

    # ---- refcounts
    def rb_off(self, cl):
        return self.u64(self.rt_off + 8 * (cl >> self.rb_bits)) & RTE_MASK

    def rc_loc(self, cl):
        rb = self.rb_off(cl)
        assert rb, 'no refcount block for cluster %d' % cl
        bit = (cl & ((1 << self.rb_bits) - 1)) << self.order
        return rb + (bit >> 3), bit & 7

    def get_rc(self, cl):
        off, sh = self.rc_loc(cl)
        if self.bits < 8:
            return (self.rd(off, 1)[0] >> sh) & ((1 << self.bits) - 1)
        return int.from_bytes(self.rd(off, self.bits // 8), 'big')

    def set_rc(self, cl, v):
        off, sh = self.rc_loc(cl)
        if self.bits < 8:
            m = ((1 << self.bits) - 1) << sh
            b = self.rd(off, 1)[0]
            self.wr(off, bytes([(b & ~m & 0xff) | ((v << sh) & m)]))
        else:
            self.wr(off, v.to_bytes(self.bits // 8, 'big'))

    def append_cluster(self, fill=0xa5):
        """A new cluster at the (cluster-aligned) end of the file."""
        end = self.file_size()
        end = (end + self.cs - 1) & ~(self.cs - 1)
        self.wr(end, bytes([fill]) * self.cs)
        return end >> self.cb


def poke(path, what, voff=0, voff2=None):
    """Applies one named damage; voff names a guest offset with data."""
    im = Img(path)
    try:
        if what == 'none':
            pass
        elif what == 'leak':            # refcount one too high
            cl = im.data_cluster(voff)
            im.set_rc(cl, im.get_rc(cl) + 1)
        elif what == 'orphan':          # allocated, never referenced
            cl = im.append_cluster()
            im.set_rc(cl, 1)
        elif what == 'rc_zero':         # used cluster with refcount 0
            im.set_rc(im.data_cluster(voff), 0)
        elif what == 'rc_low':          # shared cluster, refcount 1 not 2
            cl = im.data_cluster(voff)
            assert im.get_rc(cl) >= 2
            im.set_rc(cl, im.get_rc(cl) - 1)
        elif what == 'l2_to_free':      # L2 entry at a cluster with refcount 0
            cl = im.append_cluster(0x5a)
            im.set_l2e(voff2, COPIED | (cl << im.cb))
        elif what == 'copied_l2':       # COPIED flag flipped on a data entry
            im.set_l2e(voff, im.l2e(voff) ^ COPIED)
        elif what == 'copied_l1':
            p = im.l1e_pos(voff)
            im.put64(p, im.u64(p) ^ COPIED)
        elif what == 'l2_reserved':
            im.set_l2e(voff, im.l2e(voff) | (1 << 56))
        elif what == 'zero_unaligned':  # preallocated zero cluster, unaligned
            cl = im.append_cluster(0)
            im.set_rc(cl, 1)
            im.set_l2e(voff2, ZERO | (cl << im.cb) + 512)
        elif what == 'rt_zero':         # refcount block 0 missing
            im.put64(im.rt_off, 0)
        elif what == 'rb_zero':         # refcount block 0 wiped
            rb = im.rb_off(0)
            im.wr(rb, bytes(im.cs))
        elif what == 'rb_scribble':     # garbage in refcount block 0
            rb = im.rb_off(0)
            im.wr(rb + 8, bytes([0x33]) * min(64, im.cs - 8))
        elif what == 'rt_at_data':      # refcount block pointer at a data cluster
            im.put64(im.rt_off, im.data_cluster(voff) << im.cb)
        elif what == 'rt_reserved':
            im.put64(im.rt_off, im.u64(im.rt_off) | 1)
        elif what == 'rt_beyond':       # pointer to a block past the end
            end = (im.file_size() + im.cs - 1) & ~(im.cs - 1)
            im.put64(im.rt_off + 8, end + 4 * im.cs)
        elif what == 'bm_both':         # extended L2: allocated and zero
            p = im.l2e_pos(voff)
            im.put64(p + 8, im.u64(p + 8) | (1 << 32))
        elif what == 'bm_unalloc':      # extended L2: allocated, no cluster
            p = im.l2e_pos(voff2)
            im.put64(p + 8, im.u64(p + 8) | 1)
        elif what == 'comp_copied':     # COPIED on a compressed entry
            e = im.l2e(0)
            assert e & (1 << 62)
            im.set_l2e(0, e | COPIED)
        elif what == 'comp_rc_zero':    # compressed data with refcount 0
            e = im.l2e(0)
            assert e & (1 << 62)
            off = e & ((1 << (62 - (im.cb - 8))) - 1)
            im.set_rc(off >> im.cb, 0)
        elif what == 'rt_huge':         # pointer past what qemu can address
            im.put64(im.rt_off, 0xd5d5d5d5d5d5d5d5)
        elif what == 'sn_incomplete':   # v3 entry without the 16 extra bytes
            assert im.nb_sn == 1
            h = bytearray(im.rd(im.sn_off, 40))
            extra = struct.unpack('>I', h[36:40])[0]
            idn, name = struct.unpack('>HH', h[12:16])
            rest = im.rd(im.sn_off + 40 + extra, idn + name)
            h[36:40] = struct.pack('>I', 0)
            im.wr(im.sn_off, bytes(h) + rest + bytes(extra))
        elif what == 'sn_l1_unaligned':  # snapshot L1 offset corrupted
            im.put64(im.sn_off, im.u64(im.sn_off) + 512)
        else:
            raise ValueError(what)
    finally:
        im.close()
