/* host_test/prog_crash.c: crash and fault campaigns for the qcow2 write path.
 * Replays a scripted workload on a RAM copy of an image, cutting power after
 * the k-th write (or failing the k-th read/write/flush), then checks that the
 * image has no corruption (ours and qemu-img's check) and that everything
 * flushed before the cut reads back.
 *
 * usage: prog_crash IMAGE RAW WORKLOAD power|fault-read|fault-write|fault-flush
 *                   [--cuts N] [--all]
 * IMAGE is the base qcow2, RAW its contents as qemu-img convert made them. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <zlib.h>
#include <zstd.h>
#include "hdi/qcow2.h"
#include "dev_ram.h"

struct op {
	char kind;          /* w write, z write-zeroes, d discard, f flush, r resize,
			     * c compressed write (whole 64 KiB clusters),
			     * S snapshot create, X delete, A apply,
			     * C commit, R rebase -b "", D amend compat=0.10 */
	uint64_t off, len;  /* r: off is the new size; S/X: snapshot "s<off>"
			     * (X 0: the base's "snap1"); A: the base's "snap1" */
};

#define K 1024ull
#define M (1024ull * 1024ull)

/* Refcount-table growth on 512-byte clusters with 64-bit refcounts: one
 * refcount-table cluster covers 4096 clusters, and this allocates more. */
static const struct op wl_reftable[] = {
	{'w', 0, 640 * K}, {'f', 0, 0}, {'w', 1 * M, 700 * K}, {'w', 3 * M + 512, 900 * K},
	{'f', 0, 0}, {'w', 5 * M, 300 * K}, {'z', 100 * K, 64 * K}, {'f', 0, 0},
	{'w', 6 * M + 7, 513}, {'f', 0, 0}, {0, 0, 0},
};
/* L1 growth: a tiny image grown far past what its L1 maps. */
static const struct op wl_l1grow[] = {
	{'w', 0, 4 * K}, {'f', 0, 0}, {'r', 24 * M, 0}, {'w', 20 * M - 100, 9 * K},
	{'f', 0, 0}, {'w', 3 * M + 1, 2 * K}, {'w', 60 * K, 8 * K}, {'f', 0, 0},
	{'r', 64 * M, 0}, {'w', 63 * M, 4 * K}, {'f', 0, 0}, {0, 0, 0},
};
/* Copy-on-write of clusters shared with an internal snapshot. */
static const struct op wl_cow[] = {
	{'w', 4 * K + 100, 1000}, {'f', 0, 0}, {'w', 64 * K, 128 * K}, {'f', 0, 0},
	{'z', 200 * K, 40 * K}, {'d', 300 * K, 64 * K}, {'f', 0, 0},
	{'w', 500 * K - 17, 40 * K}, {'f', 0, 0}, {0, 0, 0},
};
/* Overwrites of compressed clusters: partial, whole, zeroed, discarded. */
static const struct op wl_compressed[] = {
	{'w', 1000, 3000}, {'f', 0, 0}, {'w', 64 * K, 64 * K}, {'f', 0, 0},
	{'w', 130 * K, 200 * K}, {'z', 192 * K + 512, 4 * K}, {'f', 0, 0},
	{'d', 384 * K, 128 * K}, {'w', 448 * K + 1, 10}, {'f', 0, 0}, {0, 0, 0},
};
/* Compressed writes (64 KiB clusters): fresh, over compressed clusters
 * (their shared host clusters lose a reference), over a normal cluster;
 * normal writes, zeroes and discards over what they made. Run on a zlib
 * and a zstd image. */
static const struct op wl_cwrite[] = {
	{'c', 512 * K, 128 * K}, {'f', 0, 0}, {'c', 0, 64 * K}, {'c', 704 * K, 192 * K},
	{'w', 520 * K + 5, 1000}, {'f', 0, 0}, {'c', 64 * K, 128 * K},
	{'c', 512 * K, 64 * K}, {'z', 768 * K, 64 * K}, {'f', 0, 0},
	{'d', 576 * K, 64 * K}, {'c', 960 * K, 64 * K}, {'w', 200 * K, 3000},
	{'f', 0, 0}, {0, 0, 0},
};
/* Plain allocation and overwrite; also used with lazy refcounts. */
static const struct op wl_basic[] = {
	{'w', 0, 200 * K}, {'f', 0, 0}, {'w', 100 * K, 300 * K}, {'z', 512 * K, 64 * K},
	{'f', 0, 0}, {'d', 0, 64 * K}, {'w', 900 * K, 100 * K}, {'f', 0, 0},
	{0, 0, 0},
};

/* Internal snapshots taken over data and compressed clusters, written
 * around and deleted. */
static const struct op wl_snapcreate[] = {
	{'S', 1, 0}, {'w', 4 * K + 100, 1000}, {'f', 0, 0}, {'S', 2, 0},
	{'w', 64 * K, 128 * K}, {'X', 1, 0}, {'f', 0, 0}, {'S', 3, 0}, {'f', 0, 0},
	{0, 0, 0},
};
/* Deleting a snapshot the base had (its clusters shared, then freed). */
static const struct op wl_snapdelete[] = {
	{'w', 64 * K, 128 * K}, {'f', 0, 0}, {'X', 0, 0}, {'f', 0, 0},
	{'w', 0, 4 * K}, {'f', 0, 0}, {0, 0, 0},
};
/* Going back to the base's snapshot (its contents are the base's). */
static const struct op wl_snapapply[] = {
	{'w', 0, 300 * K}, {'f', 0, 0}, {'A', 0, 0}, {'f', 0, 0},
	{'w', 100 * K, 8 * K}, {'f', 0, 0}, {0, 0, 0},
};

/* Over a raw backing file (IMAGE.base): commit into it, flatten, and a
 * downgrade that turns zero clusters over the backing file into zeros.
 * The disk reads the same throughout. */
static const struct op wl_commit[] = {
	{'C', 0, 0}, {'f', 0, 0}, {'w', 64 * K, 8 * K}, {'f', 0, 0}, {0, 0, 0},
};
static const struct op wl_rebase[] = {
	{'R', 0, 0}, {'f', 0, 0}, {'w', 100 * K, 8 * K}, {'f', 0, 0}, {0, 0, 0},
};
static const struct op wl_amend[] = {
	{'D', 0, 0}, {'f', 0, 0}, {'w', 0, 4 * K}, {'f', 0, 0}, {0, 0, 0},
};

/* snap: a cut inside a snapshot step may leave the dirty bit, which a
 * read-write open repairs (as QEMU's does) before qemu-img check runs.
 * chain: IMAGE.base is the raw backing file, on a second RAM device that
 * loses power together with the image's. */
static const struct { const char *name; const struct op *ops; int snap, chain; } workloads[] = {
	{"reftable", wl_reftable, 0, 0}, {"l1grow", wl_l1grow, 0, 0}, {"cow", wl_cow, 0, 0},
	{"compressed", wl_compressed, 0, 0}, {"basic", wl_basic, 0, 0}, {"lazy", wl_basic, 0, 0},
	{"snapcreate", wl_snapcreate, 1, 0}, {"snapdelete", wl_snapdelete, 1, 0},
	{"snapapply", wl_snapapply, 1, 0},
	{"commit", wl_commit, 0, 1}, {"rebase", wl_rebase, 0, 1}, {"amend", wl_amend, 0, 1},
	{"cwrite", wl_cwrite, 0, 0}, {"cwrite-zstd", wl_cwrite, 0, 0},
};

static uint8_t *base_img, *base_raw;
static size_t base_img_len, base_raw_len;
static const struct op *ops;
static int lazy, snap_wl;

/* ---- the backing file's device, cut together with the image's ---------- */
static uint8_t *chain_base;
static size_t chain_base_len;
static struct ram_dev g_base, *g_top;
static struct hdi_bdev g_base_dev;
static uint64_t g_writes, g_cut;   /* writes to either device; cut after */

static int w_read(void *c, uint64_t off, void *buf, size_t len)
{
	struct ram_dev *rd = c;
	return rd->bdev.ops->read(rd, off, buf, len);
}

static int w_write(void *c, uint64_t off, const void *buf, size_t len)
{
	struct ram_dev *rd = c;
	if (g_cut && ++g_writes > g_cut) {
		g_top->powered_off = 1;
		g_base.powered_off = 1;
		return HDI_EIO;
	}
	if (!g_cut)
		g_writes++;
	return rd->bdev.ops->write(rd, off, buf, len);
}

static int w_flush(void *c)
{
	struct ram_dev *rd = c;
	return rd->bdev.ops->flush(rd);
}

static int w_size(void *c, uint64_t *bytes)
{
	struct ram_dev *rd = c;
	return rd->bdev.ops->size(rd, bytes);
}

static int w_grow(void *c, uint64_t bytes)
{
	struct ram_dev *rd = c;
	return rd->bdev.ops->grow(rd, bytes);
}

static const struct hdi_bdev_ops w_ops = {
	HDI_BDEV_OPS_VERSION, w_read, w_write, w_flush, w_size, w_grow
};

static struct hdi_bdev wrapped(struct ram_dev *rd)
{
	struct hdi_bdev b = rd->bdev;
	b.ops = &w_ops;
	b.ctx = rd;
	return b;
}

static int open_base(void *ctx, const char *name, const char *fmt,
		     unsigned depth, struct hdi_bdev **out)
{
	(void)ctx; (void)name; (void)fmt; (void)depth;
	*out = &g_base_dev;
	return HDI_OK;
}

static int base_init(void)
{
	if (!chain_base)
		return 0;
	if (ram_dev_init(&g_base, (chain_base_len + 511) & ~(uint64_t)511, 0, 512, 1))
		return -1;
	memcpy(g_base.data, chain_base, chain_base_len);
	memcpy(g_base.durable, chain_base, chain_base_len);
	g_base_dev = wrapped(&g_base);
	return 0;
}

static void base_free(void)
{
	if (chain_base)
		ram_dev_free(&g_base);
}
static const char *tmpdir;

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

static uint8_t pattern(uint64_t off, unsigned step)
{
	uint64_t x = off * 0x9e3779b97f4a7c15ull + step * 0x632be59bd9b4e019ull;
	return (uint8_t)((x >> 29) ^ (x >> 47) ^ step);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long n;
	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		return NULL;
	b = malloc((size_t)n + 1);
	if (!b || fread(b, 1, (size_t)n, f) != (size_t)n)
		return NULL;
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* The expected virtual disk, as of the last completed flush, and which
 * bytes any later (maybe lost) operation touched. */
struct model {
	uint8_t *now, *flushed;
	uint8_t *dirty;          /* per byte: touched since the last flush */
	uint64_t size, flushed_size, cap;
};

static void model_init(struct model *m)
{
	m->cap = 128 * M;
	m->now = calloc(1, m->cap);
	m->flushed = calloc(1, m->cap);
	m->dirty = calloc(1, m->cap);
	memcpy(m->now, base_raw, base_raw_len);
	memcpy(m->flushed, base_raw, base_raw_len);
	m->size = m->flushed_size = base_raw_len;
}

static void model_free(struct model *m)
{
	free(m->now);
	free(m->flushed);
	free(m->dirty);
}

/* Data that compresses to about half: runs of one byte, every fourth
 * byte from the pattern. */
static uint8_t cpattern(uint64_t off, unsigned step)
{
	return (off & 3u) ? (uint8_t)((off >> 6) + step) : pattern(off, step);
}

static void model_apply(struct model *m, const struct op *o, unsigned step,
			uint8_t *buf)
{
	uint64_t i;
	switch (o->kind) {
	case 'w':
	case 'c':
		for (i = 0; i < o->len; i++)
			buf[i] = m->now[o->off + i] = o->kind == 'c' ?
				cpattern(o->off + i, step) : pattern(o->off + i, step);
		memset(m->dirty + o->off, 1, o->len);
		break;
	case 'z':
	case 'd':
		memset(m->now + o->off, 0, o->len);
		memset(m->dirty + o->off, 1, o->len);
		break;
	case 'r':
		if (o->off > m->size)
			memset(m->now + m->size, 0, o->off - m->size);
		memset(m->dirty + min64(m->size, o->off), 1,
		       (o->off > m->size ? o->off - m->size : m->size - o->off));
		m->size = o->off;
		break;
	case 'A':   /* the base's snapshot holds the base's contents */
		memset(m->dirty, 1, (size_t)(m->size > base_raw_len ? m->size : base_raw_len));
		memcpy(m->now, base_raw, base_raw_len);
		m->size = base_raw_len;
		break;
	case 'f':
		memcpy(m->flushed, m->now, m->cap);
		memset(m->dirty, 0, m->cap);
		m->flushed_size = m->size;
		break;
	}
}

static int chain_op(hdi_qcow2_t *q, const struct op *op)
{
	struct hdi_qcow2_amend_opts a = { 2, -1, 0 };
	if (op->kind == 'C')
		return hdi_qcow2_commit(q, &g_base_dev, 1, 0);
	if (op->kind == 'R')
		return hdi_qcow2_rebase(q, NULL, "", NULL, 0);
	return hdi_qcow2_amend(q, &a);
}

static int snap_op(hdi_qcow2_t *q, const struct op *op)
{
	struct hdi_qcow2_snapshot sn;
	int i;
	memset(&sn, 0, sizeof sn);
	snprintf(sn.name, sizeof sn.name, "s%llu", (unsigned long long)op->off);
	if (op->kind == 'S') {
		sn.date_sec = 1700000000u + (uint32_t)op->off;
		return hdi_qcow2_snapshot_create(q, &sn);
	}
	i = hdi_qcow2_snapshot_find(q, op->off && op->kind == 'X' ? sn.name : "snap1");
	if (i < 0)
		return i;
	return op->kind == 'X' ? hdi_qcow2_snapshot_delete(q, (uint32_t)i)
			       : hdi_qcow2_snapshot_apply(q, (uint32_t)i);
}

static size_t ws_size(void)
{
	/* The minimum (plus room for compressed clusters up to 64K): small
	 * caches evict often, which makes the write orderings interesting. */
	return HDI_QCOW2_WORKSPACE_COMPRESSED(64 * K);
}

/* zlib as QEMU uses it, or zstd: what edqcow2 passes, in short. */
static int test_compress(void *ctx, uint32_t type, void *dst, size_t cap,
		    size_t *len, const void *src, size_t n)
{
	z_stream z;
	int r;
	(void)ctx;
	if (type == HDI_QCOW2_COMPRESSION_ZSTD) {
		size_t k = ZSTD_compress(dst, cap, src, n, 3);
		if (ZSTD_isError(k))
			return HDI_ENOSPC;
		*len = k;
		return HDI_OK;
	}
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return HDI_ENOMEM;
	z.next_in = (Bytef *)(uintptr_t)src;
	z.avail_in = (uInt)n;
	z.next_out = dst;
	z.avail_out = (uInt)cap;
	r = deflate(&z, Z_FINISH);
	*len = cap - z.avail_out;
	deflateEnd(&z);
	return r == Z_STREAM_END ? HDI_OK : HDI_ENOSPC;
}

/* Runs the workload; returns the first error (or 0). *errors_seen counts
 * operations that returned an error. */
static int run_workload(struct ram_dev *rd, struct model *m)
{
	static uint8_t buf[2 * M];
	struct hdi_bdev top;
	hdi_qcow2_t q;
	struct hdi_qcow2_opts o;
	void *ws = malloc(ws_size());
	unsigned step;
	int r;
	memset(&o, 0, sizeof o);
	o.flags = HDI_QCOW2_RDWR;
	o.workspace = ws;
	o.workspace_size = ws_size();
	o.compress = test_compress;
	o.open_backing = chain_base ? open_base : NULL;
	g_top = rd;
	top = wrapped(rd);
	r = hdi_qcow2_open(&q, &top, &o);
	for (step = 0; r == 0 && ops[step].kind; step++) {
		const struct op *op = &ops[step];
		uint64_t i;
		if (op->kind == 'w') {
			model_apply(m, op, step + 1, buf);
			r = hdi_qcow2_write(&q, op->off, buf, op->len);
		} else if (op->kind == 'c') {
			model_apply(m, op, step + 1, buf);
			for (i = 0; r == 0 && i < op->len; i += 64 * K)
				r = hdi_qcow2_write_compressed(&q, op->off + i, buf + i, 64 * K);
		} else if (op->kind == 'z') {
			model_apply(m, op, step + 1, buf);
			r = hdi_qcow2_write_zeroes(&q, op->off, op->len);
		} else if (op->kind == 'd') {
			model_apply(m, op, step + 1, buf);
			r = hdi_qcow2_discard(&q, op->off, op->len);
		} else if (op->kind == 'r') {
			model_apply(m, op, step + 1, buf);
			r = hdi_qcow2_resize(&q, op->off, 0);
		} else if (op->kind == 'S' || op->kind == 'X' || op->kind == 'A') {
			model_apply(m, op, step + 1, buf);
			r = snap_op(&q, op);
		} else if (op->kind == 'C' || op->kind == 'R' || op->kind == 'D') {
			r = chain_op(&q, op);   /* the disk reads the same */
		} else {
			r = hdi_qcow2_flush(&q);
			if (r == 0)
				model_apply(m, op, step + 1, buf);
		}
	}
	if (r == 0) {
		r = hdi_qcow2_close(&q);
		if (r == 0)
			model_apply(m, &(struct op){'f', 0, 0}, 0, buf);
	} else {
		hdi_qcow2_close(&q);   /* best effort: the device may be dead */
	}
	free(ws);
	return r;
}

static int qemu_img_check(const uint8_t *img, uint64_t len, char *why, size_t wlen)
{
	char path[512], cmd[1100];
	FILE *f;
	int st;
	snprintf(path, sizeof path, "%s/crashed.qcow2", tmpdir);
	f = fopen(path, "wb");
	if (!f || fwrite(img, 1, len, f) != len || fclose(f))
		return snprintf(why, wlen, "cannot write the crashed image"), -1;
	snprintf(cmd, sizeof cmd, "qemu-img check -q '%s' >/dev/null 2>&1", path);
	st = system(cmd);
	if (!WIFEXITED(st) || (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 3))
		return snprintf(why, wlen, "qemu-img check exit %d", WEXITSTATUS(st)), -1;
	return 0;
}

/* After the crash/fault: no corruption, flushed data intact. */
static int verify(struct ram_dev *rd, struct model *m, int need_flushed,
		  char *why, size_t wlen)
{
	static uint8_t buf[64 * K];
	hdi_qcow2_t q;
	struct hdi_qcow2_opts o;
	struct hdi_qcow2_check_result c;
	void *ws = malloc(ws_size());
	uint64_t off, vsize;
	int r, repair;
	/* byte 79: the low byte of the incompatible features, bit 0 dirty */
	repair = lazy || (snap_wl && rd->size > 79 && (rd->data[79] & 1));
	if (!repair && qemu_img_check(rd->data, rd->size, why, wlen))
		goto fail;
	memset(&o, 0, sizeof o);
	o.workspace = ws;
	o.workspace_size = ws_size();
	o.flags = repair ? HDI_QCOW2_RDWR : 0;   /* a dirty image is repaired */
	o.open_backing = chain_base ? open_base : NULL;
	if ((r = hdi_qcow2_open(&q, &rd->bdev, &o))) {
		snprintf(why, wlen, "reopen: %s (%s)", hdi_strerror(r), hdi_qcow2_errmsg(&q));
		goto fail;
	}
	if ((r = hdi_qcow2_check(&q, 0, &c)) || c.corruptions) {
		snprintf(why, wlen, "check: r=%d corruptions=%llu", r,
			 (unsigned long long)c.corruptions);
		hdi_qcow2_close(&q);
		goto fail;
	}
	hdi_bdev_size(hdi_qcow2_bdev(&q), &vsize);
	for (off = 0; off < m->flushed_size && off < vsize; off += sizeof buf) {
		size_t n = (size_t)min64(sizeof buf, min64(m->flushed_size, vsize) - off);
		size_t i;
		if ((r = hdi_qcow2_read(&q, off, buf, n))) {
			snprintf(why, wlen, "read at %llu: %s", (unsigned long long)off,
				 hdi_strerror(r));
			hdi_qcow2_close(&q);
			goto fail;
		}
		for (i = 0; i < n && need_flushed; i++)
			if (!m->dirty[off + i] && buf[i] != m->flushed[off + i]) {
				snprintf(why, wlen, "flushed byte %llu lost (got %02x want %02x)",
					 (unsigned long long)(off + i), buf[i], m->flushed[off + i]);
				hdi_qcow2_close(&q);
				goto fail;
			}
	}
	if ((r = hdi_qcow2_close(&q))) {
		snprintf(why, wlen, "close: %s", hdi_strerror(r));
		goto fail;
	}
	if (repair && qemu_img_check(rd->data, rd->size, why, wlen))
		goto fail;
	free(ws);
	return 0;
fail:
	free(ws);
	return -1;
}

static int fresh_dev(struct ram_dev *rd)
{
	/* A sector device's size is whole sectors; the tail of a qcow2 file
	 * that ends mid-sector reads as zeros, as QEMU shows it to a guest. */
	uint64_t size = (base_img_len + 511) & ~(uint64_t)511;
	if (ram_dev_init(rd, size, 1024 * M, 512, 1))
		return -1;
	memcpy(rd->data, base_img, base_img_len);
	memcpy(rd->durable, base_img, base_img_len);
	g_writes = g_cut = 0;
	return base_init();
}

/* The full run without faults: counts the device calls the workload makes
 * and proves the workload itself works. */
static int dry_run(uint64_t *writes, uint64_t *reads, uint64_t *flushes)
{
	struct ram_dev rd;
	struct model m;
	char why[256] = "";
	int r;
	if (fresh_dev(&rd))
		return -1;
	model_init(&m);
	r = run_workload(&rd, &m);
	*writes = chain_base ? g_writes : rd.nwrites;
	*reads = rd.nreads;
	*flushes = rd.nflushes;
	if (r)
		printf("# dry run failed: %s\n", hdi_strerror(r));
	else if (verify(&rd, &m, 1, why, sizeof why)) {
		printf("# dry run verify: %s\n", why);
		r = -1;
	}
	model_free(&m);
	ram_dev_free(&rd);
	base_free();
	return r;
}

static int one_case(const char *mode, uint64_t k, int pmode, char *why, size_t wlen)
{
	struct ram_dev rd;
	struct model m;
	int r, bad;
	if (fresh_dev(&rd))
		return snprintf(why, wlen, "no memory"), -1;
	model_init(&m);
	if (!strcmp(mode, "power") && chain_base)
		g_cut = k;
	else if (!strcmp(mode, "power"))
		rd.cut_after_writes = k;
	else if (!strcmp(mode, "fault-read"))
		rd.fail_read_at = k;
	else if (!strcmp(mode, "fault-write"))
		rd.fail_write_at = k;
	else
		rd.fail_flush_at = k;
	r = run_workload(&rd, &m);
	bad = 0;
	if (strcmp(mode, "power")) {
		/* An injected fault must surface as the operation's error. */
		uint64_t calls = !strcmp(mode, "fault-read") ? rd.nreads :
				 !strcmp(mode, "fault-write") ? rd.nwrites : rd.nflushes;
		if (calls >= k && r != HDI_EIO) {
			snprintf(why, wlen, "fault %llu swallowed (r=%d)", (unsigned long long)k, r);
			bad = 1;
		}
		rd.fail_read_at = rd.fail_write_at = rd.fail_flush_at = 0;
	} else {
		ram_dev_power_cycle(&rd, pmode, (uint32_t)(k * 2654435761u + pmode));
		if (chain_base)
			ram_dev_power_cycle(&g_base, pmode, (uint32_t)(k * 40503u + pmode));
		g_cut = 0;
	}
	if (!bad && verify(&rd, &m, 1, why, wlen))
		bad = 1;
	model_free(&m);
	ram_dev_free(&rd);
	base_free();
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *wl, *mode;
	uint64_t writes, reads, flushes, total, k, stride, cuts = 60;
	int all = 0, i, fails = 0, pm, npm;
	char why[256], name[128];
	if (argc < 5) {
		fprintf(stderr, "usage: %s IMAGE RAW WORKLOAD MODE [--cuts N] [--all]\n", argv[0]);
		return 2;
	}
	for (i = 5; i < argc; i++) {
		if (!strcmp(argv[i], "--all"))
			all = 1;
		else if (!strcmp(argv[i], "--cuts") && i + 1 < argc)
			cuts = strtoull(argv[++i], NULL, 0);
	}
	base_img = slurp(argv[1], &base_img_len);
	base_raw = slurp(argv[2], &base_raw_len);
	wl = argv[3];
	mode = argv[4];
	tmpdir = getenv("T") ? getenv("T") : "/tmp";
	for (i = 0; i < (int)(sizeof workloads / sizeof workloads[0]); i++)
		if (!strcmp(workloads[i].name, wl)) {
			ops = workloads[i].ops;
			snap_wl = workloads[i].snap;
			if (workloads[i].chain) {
				char bp[1024];
				snprintf(bp, sizeof bp, "%s.base", argv[1]);
				chain_base = slurp(bp, &chain_base_len);
				if (!chain_base)
					ops = NULL;
			}
		}
	lazy = !strcmp(wl, "lazy");
	snprintf(name, sizeof name, "crash.%s.%s", wl, mode);
	if (!base_img || !base_raw || !ops) {
		printf("not ok %s: bad arguments or unreadable images\n", name);
		return 1;
	}
	if (dry_run(&writes, &reads, &flushes)) {
		printf("not ok %s: the workload fails without faults\n", name);
		return 1;
	}
	total = !strcmp(mode, "power") || !strcmp(mode, "fault-write") ? writes :
		!strcmp(mode, "fault-read") ? reads : flushes;
	stride = all || total <= cuts ? 1 : (total + cuts - 1) / cuts;
	npm = !strcmp(mode, "power") ? 3 : 1;
	for (k = 1; k <= total && fails < 3; k += stride)
		for (pm = 0; pm < npm && fails < 3; pm++)
			if (one_case(mode, k, pm, why, sizeof why)) {
				printf("not ok %s: k=%llu/%llu pending-mode=%d: %s\n", name,
				       (unsigned long long)k, (unsigned long long)total, pm, why);
				fails++;
			}
	if (!fails)
		printf("ok %s (%llu of %llu %s points, stride %llu)\n", name,
		       (unsigned long long)((total + stride - 1) / stride),
		       (unsigned long long)total, mode, (unsigned long long)stride);
	free(base_img);
	free(base_raw);
	return fails ? 1 : 0;
}
