/* host_test/unit/t_qcow2_check.c: hdi_qcow2_check on RAM devices: clean
 * images of every refcount width count nothing and stay unchanged, leaks
 * and broken refcount structures are found and repaired (in one window or
 * many), and power cuts or I/O errors during a repair never add damage or
 * lose data. Images are made by the library itself (create + write). */
#include "unit.h"
#include "dev_ram.h"
#include "hdi/qcow2.h"
#include <stdlib.h>
#include <string.h>

#define WS_BIG (1u << 20)
#define WS_SMALL HDI_QCOW2_WORKSPACE_MIN

static uint64_t ld(const uint8_t *p, int n)
{
	uint64_t v = 0;
	while (n--)
		v = (v << 8) | *p++;
	return v;
}

static void st(uint8_t *p, int n, uint64_t v)
{
	while (n--) {
		p[n] = (uint8_t)v;
		v >>= 8;
	}
}

/* ---- images ------------------------------------------------------------ */
struct geo {
	uint32_t cb, rbits;
	uint64_t size;
	uint32_t nwrites;       /* clusters written, one every stride bytes */
	uint64_t stride;
	bool lazy;
};

static uint8_t fill(uint32_t i) { return (uint8_t)(i * 7u + 1u); }

static int open_img(struct ram_dev *rd, hdi_qcow2_t *q, void *ws,
		    size_t ws_size, uint32_t flags)
{
	struct hdi_qcow2_opts o;
	memset(&o, 0, sizeof o);
	o.flags = flags;
	o.workspace = ws;
	o.workspace_size = ws_size;
	return hdi_qcow2_open(q, &rd->bdev, &o);
}

/* Creates the image and writes nwrites clusters; closes it unless
 * leave_open (a crash: whatever the device holds stays). */
static void make(struct ram_dev *rd, const struct geo *g, int leave_open)
{
	struct hdi_qcow2_create_opts o;
	hdi_qcow2_t q;
	uint32_t cs = 1u << g->cb, i;
	uint8_t *ws = malloc(WS_BIG), *buf = malloc(cs);
	memset(&o, 0, sizeof o);
	o.size = g->size;
	o.version = 3;
	o.cluster_bits = g->cb;
	o.refcount_bits = g->rbits;
	o.lazy_refcounts = g->lazy;
	CHECK_EQ(ram_dev_init(rd, 0, 1ull << 32, 512, 0), HDI_OK);
	CHECK_EQ(hdi_qcow2_create(&rd->bdev, &o, ws, WS_BIG), HDI_OK);
	CHECK_EQ(open_img(rd, &q, ws, WS_BIG, HDI_QCOW2_RDWR), HDI_OK);
	for (i = 0; i < g->nwrites; i++) {
		memset(buf, fill(i), cs);
		CHECK_EQ(hdi_qcow2_write(&q, i * g->stride, buf, cs), HDI_OK);
	}
	if (!leave_open)
		CHECK_EQ(hdi_qcow2_close(&q), HDI_OK);
	else   /* the data is on the disk; the image stays dirty */
		CHECK_EQ(hdi_qcow2_flush(&q), HDI_OK);
	free(buf);
	free(ws);
}

/* A second device holding the same bytes. */
static void clone(struct ram_dev *dst, const struct ram_dev *src,
		  int track_power_loss)
{
	CHECK_EQ(ram_dev_init(dst, src->size, 1ull << 32, 512, track_power_loss), HDI_OK);
	memcpy(dst->data, src->data, src->size);
	if (dst->durable)
		memcpy(dst->durable, src->data, src->size);
}

/* Opens read-only (qcow2 level), checks, closes. Returns the check's code. */
static int check(struct ram_dev *rd, size_t ws_size, uint32_t repair,
		 struct hdi_qcow2_check_result *res)
{
	hdi_qcow2_t q;
	void *ws = malloc(ws_size);
	int r = open_img(rd, &q, ws, ws_size, HDI_QCOW2_NO_BACKING);
	memset(res, 0xa5, sizeof(*res));
	if (r == HDI_OK) {
		r = hdi_qcow2_check(&q, repair, res);
		hdi_qcow2_close(&q);
	}
	free(ws);
	return r;
}

static bool clean(const struct hdi_qcow2_check_result *r)
{
	return !r->corruptions && !r->leaks && !r->check_errors;
}

/* Every written cluster reads back. */
static bool data_ok(struct ram_dev *rd, const struct geo *g)
{
	hdi_qcow2_t q;
	uint32_t cs = 1u << g->cb, i, k;
	uint8_t *ws = malloc(WS_BIG), *buf = malloc(cs);
	bool ok = open_img(rd, &q, ws, WS_BIG, 0) == HDI_OK;
	for (i = 0; ok && i < g->nwrites; i++) {
		ok = hdi_qcow2_read(&q, i * g->stride, buf, cs) == HDI_OK;
		for (k = 0; ok && k < cs; k++)
			ok = buf[k] == fill(i);
	}
	if (ok)
		hdi_qcow2_close(&q);
	free(buf);
	free(ws);
	return ok;
}

/* ---- pokes, straight into the device's bytes ------------------------------ */
struct layout { uint64_t l1, rt, cs; uint32_t cb, order; };

static struct layout layout_of(const struct ram_dev *rd)
{
	struct layout l;
	l.cb = (uint32_t)ld(rd->data + 20, 4);
	l.cs = 1ull << l.cb;
	l.l1 = ld(rd->data + 40, 8);
	l.rt = ld(rd->data + 48, 8);
	l.order = (uint32_t)ld(rd->data + 96, 4);
	return l;
}

/* Host cluster of the data at guest offset voff. */
static uint64_t data_cluster(const struct ram_dev *rd, uint64_t voff)
{
	struct layout l = layout_of(rd);
	uint32_t l2_bits = l.cb - 3;
	uint64_t l2 = ld(rd->data + l.l1 + 8 * (voff >> (l.cb + l2_bits)), 8) & 0x00fffffffffffe00ull;
	uint64_t e = ld(rd->data + l2 + 8 * ((voff >> l.cb) & ((1ull << l2_bits) - 1)), 8);
	return (e & 0x00fffffffffffe00ull) >> l.cb;
}

static void set_refcount(struct ram_dev *rd, uint64_t cl, uint64_t v)
{
	struct layout l = layout_of(rd);
	uint32_t rbb = l.cb + 3 - l.order, bits = 1u << l.order;
	uint64_t rb = ld(rd->data + l.rt + 8 * (cl >> rbb), 8) & ~0x1ffull;
	uint64_t bit = (cl & ((1ull << rbb) - 1)) << l.order;
	uint8_t *p = rd->data + rb + bit / 8, m;
	if (bits >= 8) {
		st(p, (int)(bits / 8), v);
		return;
	}
	m = (uint8_t)(((1u << bits) - 1u) << (bit % 8));
	*p = (uint8_t)((*p & ~m) | ((v << (bit % 8)) & m));
}

static uint64_t get_refcount(const struct ram_dev *rd, uint64_t cl)
{
	struct layout l = layout_of(rd);
	uint32_t rbb = l.cb + 3 - l.order, bits = 1u << l.order;
	uint64_t rb = ld(rd->data + l.rt + 8 * (cl >> rbb), 8) & ~0x1ffull;
	uint64_t bit = (cl & ((1ull << rbb) - 1)) << l.order;
	if (bits >= 8)
		return ld(rd->data + rb + bit / 8, (int)(bits / 8));
	return (rd->data[rb + bit / 8] >> (bit % 8)) & ((1u << bits) - 1u);
}

/* ---- tests -------------------------------------------------------------------- */
TEST(qcow2_check_clean_every_width_and_workspace)
{
	static const uint32_t cbs[] = { 9, 12, 16 };
	uint32_t i, rbits;
	for (i = 0; i < 3; i++) {
		for (rbits = 1; rbits <= 64; rbits <<= 1) {
			struct geo g = { cbs[i], rbits, 64u << 20, 24, 3u << 16, false };
			struct ram_dev rd, before;
			struct hdi_qcow2_check_result a, b;
			make(&rd, &g, 0);
			clone(&before, &rd, 0);
			CHECK_EQ(check(&rd, WS_BIG, 0, &a), HDI_OK);
			CHECK_EQ(check(&rd, WS_SMALL, 0, &b), HDI_OK);
			CHECK(clean(&a));
			CHECK(!memcmp(&a, &b, sizeof a));
			CHECK_EQ(a.allocated_clusters, g.nwrites);
			CHECK_EQ(a.total_clusters, g.size >> g.cb);
			CHECK_EQ(a.corruptions_fixed + a.leaks_fixed, 0);
			CHECK(a.image_end_offset > 0 && a.image_end_offset <= rd.size +
			      (1ull << g.cb));
			CHECK(rd.size == before.size && !memcmp(rd.data, before.data, rd.size));
			ram_dev_free(&before);
			ram_dev_free(&rd);
		}
	}
}

TEST(qcow2_check_read_only_never_writes)
{
	struct geo g = { 12, 16, 16u << 20, 8, 1u << 20, false };
	struct ram_dev rd;
	struct hdi_qcow2_check_result res;
	hdi_qcow2_t q;
	void *ws = malloc(WS_BIG);
	make(&rd, &g, 0);
	set_refcount(&rd, data_cluster(&rd, 0), 0);   /* needs a rebuild */
	rd.fail_write_at = rd.nwrites + 1;            /* any write fails */
	rd.fail_code = HDI_EIO;
	CHECK_EQ(open_img(&rd, &q, ws, WS_BIG, 0), HDI_OK);
	CHECK_EQ(hdi_qcow2_check(&q, 0, &res), HDI_OK);
	CHECK(res.corruptions >= 1);
	CHECK_EQ(hdi_qcow2_close(&q), HDI_OK);
	CHECK(rd.fail_write_at > rd.nwrites);
	/* a repair needs a writable file */
	rd.bdev.flags |= HDI_BDEV_RDONLY;
	CHECK_EQ(open_img(&rd, &q, ws, WS_BIG, 0), HDI_OK);
	CHECK_EQ(hdi_qcow2_check(&q, HDI_QCOW2_REPAIR_ALL, &res), HDI_EROFS);
	hdi_qcow2_close(&q);
	ram_dev_free(&rd);
	free(ws);
}

TEST(qcow2_check_leak_found_and_freed)
{
	struct geo g = { 12, 16, 16u << 20, 8, 1u << 20, false };
	struct ram_dev rd;
	struct hdi_qcow2_check_result res;
	uint64_t cl;
	make(&rd, &g, 0);
	cl = data_cluster(&rd, 3u << 20);
	set_refcount(&rd, cl, 2);
	CHECK_EQ(check(&rd, WS_SMALL, 0, &res), HDI_OK);
	CHECK_EQ(res.leaks, 1);
	CHECK_EQ(res.corruptions, 1);   /* COPIED set with refcount 2 */
	CHECK_EQ(check(&rd, WS_SMALL, HDI_QCOW2_REPAIR_LEAKS, &res), HDI_OK);
	CHECK_EQ(res.leaks_fixed, 1);
	CHECK_EQ(res.leaks, 0);
	CHECK_EQ(get_refcount(&rd, cl), 1);
	CHECK_EQ(check(&rd, WS_BIG, 0, &res), HDI_OK);
	CHECK(clean(&res));
	CHECK(data_ok(&rd, &g));
	ram_dev_free(&rd);
}

/* The refcount block is gone: the structure is rebuilt after the end of
 * the image. Many windows (16 KiB, 64-bit refcounts) write the same bytes
 * as one. */
TEST(qcow2_check_rebuild_many_windows)
{
	struct geo g = { 9, 64, 8u << 20, 900, 4096, false };
	struct ram_dev rd, big;
	struct hdi_qcow2_check_result res, res2;
	struct layout l;
	make(&rd, &g, 0);
	l = layout_of(&rd);
	memset(rd.data + l.rt, 0, ld(rd.data + 56, 4) << l.cb);   /* no blocks */
	CHECK_EQ(check(&rd, WS_SMALL, 0, &res), HDI_OK);
	CHECK(res.corruptions > 500);
	clone(&big, &rd, 0);
	CHECK_EQ(check(&rd, WS_SMALL, HDI_QCOW2_REPAIR_LEAKS, &res), HDI_ECORRUPT);
	CHECK(res.check_errors > 0);
	CHECK_EQ(check(&rd, WS_SMALL, HDI_QCOW2_REPAIR_ALL, &res), HDI_OK);
	CHECK_EQ(check(&big, WS_BIG, HDI_QCOW2_REPAIR_ALL, &res2), HDI_OK);
	CHECK(res.corruptions_fixed > 500);
	CHECK(!memcmp(&res, &res2, sizeof res));
	CHECK(rd.size == big.size && !memcmp(rd.data, big.data, rd.size));
	CHECK_EQ(check(&rd, WS_BIG, 0, &res), HDI_OK);
	CHECK(clean(&res));
	CHECK(ld(rd.data + 48, 8) != l.rt);   /* a new table */
	CHECK(data_ok(&rd, &g));
	ram_dev_free(&big);
	ram_dev_free(&rd);
}

/* A power cut at every write of a repair, with pending writes dropped,
 * applied in random order or torn: the image never gets worse than it
 * was, its data stays, and a later repair finishes the job. */
static void power_cuts(const struct geo *g, void (*damage)(struct ram_dev *),
		       uint64_t min_writes)
{
	struct ram_dev rd, t;
	struct hdi_qcow2_check_result res, before;
	uint64_t k;
	int mode, done;
	make(&rd, g, 0);
	damage(&rd);
	CHECK_EQ(check(&rd, WS_SMALL, 0, &before), HDI_OK);
	CHECK(before.corruptions + before.leaks > 0);
	for (mode = 0; mode < 3; mode++) {
		for (k = 1, done = 0; !done && k < 400; k++) {
			clone(&t, &rd, 1);
			t.cut_after_writes = k;
			done = check(&t, WS_SMALL, HDI_QCOW2_REPAIR_ALL, &res) == HDI_OK;
			ram_dev_power_cycle(&t, mode, (uint32_t)k * 31u + (uint32_t)mode);
			CHECK_EQ(check(&t, WS_BIG, 0, &res), HDI_OK);
			CHECK(res.corruptions <= before.corruptions);
			CHECK_EQ(res.check_errors, 0);
			CHECK(data_ok(&t, g));
			CHECK_EQ(check(&t, WS_BIG, HDI_QCOW2_REPAIR_ALL, &res), HDI_OK);
			CHECK_EQ(check(&t, WS_BIG, 0, &res), HDI_OK);
			CHECK(clean(&res));
			ram_dev_free(&t);
		}
		CHECK(done && k > min_writes);   /* cut at every write */
	}
	ram_dev_free(&rd);
}

static void zero_refcount(struct ram_dev *rd)
{
	set_refcount(rd, data_cluster(rd, 0), 0);
	set_refcount(rd, data_cluster(rd, 1u << 20), 3);
}

static void leaks_and_flags(struct ram_dev *rd)
{
	set_refcount(rd, data_cluster(rd, 0), 2);
	set_refcount(rd, data_cluster(rd, 2u << 20), 2);
}

TEST(qcow2_check_power_cut_during_rebuild)
{
	struct geo g = { 12, 16, 16u << 20, 6, 1u << 20, false };
	power_cuts(&g, zero_refcount, 4);
}

TEST(qcow2_check_power_cut_during_leak_repair)
{
	struct geo g = { 12, 4, 16u << 20, 6, 1u << 20, false };
	power_cuts(&g, leaks_and_flags, 1);
}

/* Device errors: the check reports them and never crashes; a repair that
 * fails part way leaves nothing worse behind. */
TEST(qcow2_check_io_errors)
{
	struct geo g = { 12, 16, 16u << 20, 6, 1u << 20, false };
	struct ram_dev rd, t;
	struct hdi_qcow2_check_result res, before;
	uint64_t k;
	int r, ok_reads = 0, ok_writes = 0;
	make(&rd, &g, 0);
	zero_refcount(&rd);
	CHECK_EQ(check(&rd, WS_SMALL, 0, &before), HDI_OK);
	for (k = 1; k < 300 && !ok_reads; k++) {
		clone(&t, &rd, 0);
		t.fail_read_at = t.nreads + k;
		t.fail_code = HDI_EIO;
		r = check(&t, WS_SMALL, 0, &res);
		CHECK(r == HDI_OK || r == HDI_EIO);
		if (r == HDI_OK && t.fail_read_at > t.nreads)
			ok_reads = 1;   /* no read left to fail */
		CHECK(!memcmp(t.data, rd.data, rd.size));
		ram_dev_free(&t);
	}
	CHECK(ok_reads);
	for (k = 1; k < 300 && !ok_writes; k++) {
		clone(&t, &rd, 0);
		t.fail_write_at = t.nwrites + k;
		t.fail_code = HDI_EIO;
		r = check(&t, WS_SMALL, HDI_QCOW2_REPAIR_ALL, &res);
		if (r == HDI_OK && t.fail_write_at > t.nwrites)
			ok_writes = 1;
		t.fail_write_at = 0;
		CHECK_EQ(check(&t, WS_BIG, 0, &res), HDI_OK);
		CHECK(res.corruptions <= before.corruptions);
		CHECK(data_ok(&t, &g));
		ram_dev_free(&t);
	}
	CHECK(ok_writes);
	ram_dev_free(&rd);
}

/* A lazy-refcounts image left open (a crash) is dirty; opening it for
 * writing repairs it first. */
TEST(qcow2_check_dirty_image_repaired_at_rw_open)
{
	struct geo g = { 12, 16, 16u << 20, 10, 512u << 10, true };
	struct ram_dev rd, t;
	struct hdi_qcow2_check_result res;
	hdi_qcow2_t q;
	void *ws = malloc(WS_BIG);
	make(&rd, &g, 1);   /* never closed */
	clone(&t, &rd, 0);
	CHECK(ld(t.data + 72, 8) & HDI_QCOW2_INCOMPAT_DIRTY);
	CHECK_EQ(check(&t, WS_SMALL, 0, &res), HDI_OK);
	CHECK_EQ(open_img(&t, &q, ws, WS_BIG, HDI_QCOW2_RDWR), HDI_OK);
	CHECK_EQ(hdi_qcow2_close(&q), HDI_OK);
	CHECK(!(ld(t.data + 72, 8) & HDI_QCOW2_INCOMPAT_DIRTY));
	CHECK_EQ(check(&t, WS_SMALL, 0, &res), HDI_OK);
	CHECK(clean(&res));
	CHECK(data_ok(&t, &g));
	/* refcounts the crash never wrote: the open rebuilds them */
	ram_dev_free(&t);
	clone(&t, &rd, 0);
	zero_refcount(&t);
	CHECK_EQ(check(&t, WS_SMALL, 0, &res), HDI_OK);
	CHECK(res.corruptions > 0 && res.leaks > 0);
	CHECK_EQ(open_img(&t, &q, ws, WS_SMALL, HDI_QCOW2_RDWR), HDI_OK);
	CHECK_EQ(hdi_qcow2_close(&q), HDI_OK);
	CHECK_EQ(check(&t, WS_SMALL, 0, &res), HDI_OK);
	CHECK(clean(&res));
	CHECK(data_ok(&t, &g));
	/* check --repair clears the dirty bit itself too */
	ram_dev_free(&t);
	clone(&t, &rd, 0);
	CHECK_EQ(check(&t, WS_SMALL, HDI_QCOW2_REPAIR_ALL, &res), HDI_OK);
	CHECK(!(ld(t.data + 72, 8) & HDI_QCOW2_INCOMPAT_DIRTY));
	CHECK_EQ(check(&t, WS_SMALL, 0, &res), HDI_OK);
	CHECK(clean(&res));
	ram_dev_free(&t);
	ram_dev_free(&rd);
	free(ws);
}
