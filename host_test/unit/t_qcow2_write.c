/* host_test/unit/t_qcow2_write.c: the qcow2 write path on RAM devices with
 * the 16 KiB minimum workspace: data against a model at every cluster
 * size, our check finds no corruption or leak, freed clusters are reused,
 * allocation does not rescan, and the refusals (read-only, corrupt bit,
 * shrink over data) and the flags (lazy dirty bit, unknown autoclear). */
#include "unit.h"
#include "dev_ram.h"
#include "hdi/qcow2.h"
#include <stdlib.h>
#include <string.h>

#define WS HDI_QCOW2_WORKSPACE_MIN

struct img {
	struct ram_dev rd;
	hdi_qcow2_t q;
	void *ws;
	uint8_t *model;
	uint64_t size;
};

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	while (n--)
		v = (v << 8) | *p++;
	return v;
}

static int img_open(struct img *m, uint32_t flags, size_t ws)
{
	struct hdi_qcow2_opts o;
	memset(&o, 0, sizeof o);
	o.flags = flags;
	o.workspace = m->ws;
	o.workspace_size = ws;
	return hdi_qcow2_open(&m->q, &m->rd.bdev, &o);
}

static void img_new(struct img *m, uint64_t size, uint32_t cbits, uint32_t rbits,
		    uint32_t version, bool extl2, uint32_t granule)
{
	struct hdi_qcow2_create_opts c;
	memset(m, 0, sizeof *m);
	m->ws = malloc(1u << 20);
	m->model = calloc(1, (size_t)size);
	m->size = size;
	memset(&c, 0, sizeof c);
	c.size = size;
	c.version = version;
	c.cluster_bits = cbits;
	c.refcount_bits = rbits;
	c.extended_l2 = extl2;
	CHECK_EQ(ram_dev_init(&m->rd, 0, 1ull << 32, granule, 0), HDI_OK);
	CHECK_EQ(hdi_qcow2_create(&m->rd.bdev, &c, m->ws, WS), HDI_OK);
	CHECK_EQ(img_open(m, HDI_QCOW2_RDWR, WS), HDI_OK);
}

static void img_free(struct img *m)
{
	ram_dev_free(&m->rd);
	free(m->ws);
	free(m->model);
}

static uint32_t rnd(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void w(struct img *m, uint64_t off, size_t len, uint32_t *seed)
{
	uint8_t *b = malloc(len);
	size_t i;
	int r;
	for (i = 0; i < len; i++)
		b[i] = (uint8_t)rnd(seed);
	r = hdi_qcow2_write(&m->q, off, b, len);
	CHECK_EQ(r, HDI_OK);
	if (r)
		printf("# write %llu+%zu: %s\n", (unsigned long long)off, len,
		       hdi_qcow2_errmsg(&m->q));
	if (off + len <= m->size)
		memcpy(m->model + off, b, len);
	free(b);
}

static void z(struct img *m, uint64_t off, uint64_t len, int discard)
{
	CHECK_EQ(discard ? hdi_qcow2_discard(&m->q, off, len)
			 : hdi_qcow2_write_zeroes(&m->q, off, len), HDI_OK);
	memset(m->model + off, 0, (size_t)len);
}

/* Reads everything back and compares with the model. */
static void same(struct img *m)
{
	uint8_t *b = malloc((size_t)m->size);
	CHECK_EQ(hdi_qcow2_read(&m->q, 0, b, (size_t)m->size), HDI_OK);
	CHECK(memcmp(b, m->model, (size_t)m->size) == 0);
	free(b);
}

/* Closes, reopens read-only, checks (no corruption, no leak) and compares. */
static void verify(struct img *m)
{
	struct hdi_qcow2_check_result c;
	CHECK_EQ(hdi_qcow2_close(&m->q), HDI_OK);
	CHECK_EQ(img_open(m, 0, 1u << 20), HDI_OK);
	memset(&c, 0, sizeof c);
	CHECK_EQ(hdi_qcow2_check(&m->q, 0, &c), HDI_OK);
	CHECK_EQ(c.corruptions, 0);
	CHECK_EQ(c.leaks, 0);
	CHECK_EQ(c.check_errors, 0);
	same(m);
	CHECK_EQ(hdi_qcow2_close(&m->q), HDI_OK);
}

static void workload(struct img *m, uint32_t seed)
{
	/* cluster-relative offsets, kept inside the smallest disk used */
	uint64_t cs = 1ull << be(m->rd.data + 20, 4);
	int i;
	if (cs > (512u << 10))
		cs = 512u << 10;
	w(m, 0, 100000, &seed);
	w(m, 3 * cs + 17, 5000, &seed);
	w(m, 1 << 20, 300000, &seed);
	z(m, (1 << 20) + 4096, 200000, 0);
	z(m, 2 * cs - 1000, cs + 3000, 1);
	w(m, 5 * cs + 511, 1, &seed);
	for (i = 0; i < 40; i++) {
		uint64_t off = rnd(&seed) % (m->size - 70000);
		size_t len = 1 + rnd(&seed) % 65536;
		switch (i % 5) {
		case 3: z(m, off, len, 0); break;
		case 4: z(m, off, len, 1); break;
		default: w(m, off, len, &seed); break;
		}
	}
	same(m);
}

TEST(qcow2_write_every_cluster_size_16k_workspace)
{
	uint32_t cb;
	for (cb = 9; cb <= 21; cb++) {
		struct img m;
		img_new(&m, 6u << 20, cb, 16, 3, false, 512);
		workload(&m, cb);
		verify(&m);
		img_free(&m);
	}
}

TEST(qcow2_write_refcount_widths_v2_extl2_granules)
{
	uint32_t rb;
	struct img m;
	for (rb = 1; rb <= 64; rb <<= 1) {
		img_new(&m, 4u << 20, 9, rb, 3, false, 512);
		workload(&m, rb);
		verify(&m);
		img_free(&m);
	}
	img_new(&m, 4u << 20, 12, 16, 2, false, 1);
	workload(&m, 77);
	verify(&m);
	img_free(&m);
	img_new(&m, 4u << 20, 14, 16, 3, true, 512);
	workload(&m, 78);
	verify(&m);
	img_free(&m);
	img_new(&m, 4u << 20, 21, 16, 3, true, 4096);
	workload(&m, 79);
	verify(&m);
	img_free(&m);
	/* clusters smaller than the device granule */
	img_new(&m, 2u << 20, 9, 16, 3, false, 4096);
	workload(&m, 80);
	verify(&m);
	img_free(&m);
}

TEST(qcow2_write_resize_grow_shrink)
{
	struct img m;
	uint32_t seed = 5;
	uint8_t b[4096];
	img_new(&m, 1u << 20, 9, 16, 3, false, 512);
	w(&m, 1000, 4000, &seed);
	/* L1 growth: 512-byte clusters map 32 KiB per L2 table */
	m.model = realloc(m.model, 64u << 20);
	memset(m.model + m.size, 0, (64u << 20) - m.size);
	CHECK_EQ(hdi_qcow2_resize(&m.q, 64u << 20, 0), HDI_OK);
	m.size = 64u << 20;
	w(&m, (63u << 20) + 5, 70000, &seed);
	same(&m);
	/* shrinking over data needs the flag; over nothing it does not */
	CHECK_EQ(hdi_qcow2_resize(&m.q, 32u << 20, 0), HDI_EINVAL);
	CHECK_EQ(hdi_qcow2_resize(&m.q, 32u << 20, HDI_QCOW2_RESIZE_SHRINK), HDI_OK);
	m.size = 32u << 20;
	CHECK_EQ(hdi_qcow2_resize(&m.q, 16u << 20, 0), HDI_OK);
	m.size = 16u << 20;
	/* grown again, the dropped area reads zeros */
	CHECK_EQ(hdi_qcow2_resize(&m.q, 64u << 20, 0), HDI_OK);
	memset(m.model + (16u << 20), 0, 48u << 20);
	m.size = 64u << 20;
	CHECK_EQ(hdi_qcow2_read(&m.q, (63u << 20), b, sizeof b), HDI_OK);
	CHECK(b[10] == 0 && b[4000] == 0);
	CHECK_EQ(hdi_qcow2_resize(&m.q, 1000, 0), HDI_EINVAL);
	verify(&m);
	img_free(&m);
}

TEST(qcow2_write_reuses_freed_clusters)
{
	struct img m;
	uint32_t seed = 9;
	uint64_t end;
	img_new(&m, 8u << 20, 16, 16, 3, false, 512);
	w(&m, 0, 2u << 20, &seed);
	CHECK_EQ(hdi_qcow2_flush(&m.q), HDI_OK);
	end = m.rd.size;
	z(&m, 0, 2u << 20, 1);
	CHECK_EQ(hdi_qcow2_flush(&m.q), HDI_OK);
	w(&m, 4u << 20, 2u << 20, &seed);
	CHECK_EQ(hdi_qcow2_flush(&m.q), HDI_OK);
	CHECK(m.rd.size <= end + 65536);   /* at most one more L2 table */
	verify(&m);
	img_free(&m);
}

TEST(qcow2_write_allocation_does_not_rescan)
{
	struct img m;
	uint32_t seed = 3, i;
	uint64_t before = 0, early = 0, late;
	uint8_t b[512];
	img_new(&m, 64u << 20, 9, 16, 3, false, 512);
	memset(b, 1, sizeof b);
	for (i = 0; i < 60000; i++) {
		if (i == 1000 || i == 59999)
			before = m.rd.nreads;
		CHECK_EQ(hdi_qcow2_write(&m.q, (uint64_t)i * 512, b, sizeof b), HDI_OK);
		if (i == 1000)
			early = m.rd.nreads - before;
	}
	late = m.rd.nreads - before;
	/* the cost of one allocation does not grow with what lies below */
	CHECK(late <= early + 8);
	if (getenv("UNIT_VERBOSE"))
		printf("# allocation reads: early %llu late %llu\n", (unsigned long long)early, (unsigned long long)late);
	(void)seed;
	CHECK_EQ(hdi_qcow2_close(&m.q), HDI_OK);
	img_free(&m);
}

TEST(qcow2_write_refusals)
{
	struct img m;
	uint8_t b[512] = { 1 };
	img_new(&m, 1u << 20, 16, 16, 3, false, 512);
	CHECK_EQ(hdi_qcow2_close(&m.q), HDI_OK);
	CHECK_EQ(img_open(&m, 0, WS), HDI_OK);
	CHECK_EQ(hdi_qcow2_write(&m.q, 0, b, 1), HDI_EROFS);
	CHECK_EQ(hdi_qcow2_write_zeroes(&m.q, 0, 1), HDI_EROFS);
	CHECK_EQ(hdi_qcow2_discard(&m.q, 0, 1), HDI_EROFS);
	CHECK_EQ(hdi_qcow2_resize(&m.q, 2u << 20, 0), HDI_EROFS);
	CHECK_EQ(hdi_qcow2_close(&m.q), HDI_OK);
	CHECK_EQ(img_open(&m, HDI_QCOW2_RDWR, WS), HDI_OK);
	CHECK_EQ(hdi_qcow2_write(&m.q, (1u << 20) - 1, b, 2), HDI_EINVAL);
	CHECK_EQ(hdi_qcow2_write_zeroes(&m.q, 1u << 20, 1), HDI_EINVAL);
	CHECK_EQ(hdi_qcow2_close(&m.q), HDI_OK);
	img_free(&m);
	/* a backing file that is not open: partial writes would lose its data */
	{
		struct hdi_qcow2_create_opts c;
		memset(&m, 0, sizeof m);
		m.ws = malloc(1u << 20);
		memset(&c, 0, sizeof c);
		c.size = 1u << 20;
		c.version = 3;
		c.cluster_bits = 16;
		c.refcount_bits = 16;
		c.backing_file = "base.raw";
		c.backing_format = "raw";
		CHECK_EQ(ram_dev_init(&m.rd, 0, 1ull << 30, 512, 0), HDI_OK);
		CHECK_EQ(hdi_qcow2_create(&m.rd.bdev, &c, m.ws, WS), HDI_OK);
		CHECK_EQ(img_open(&m, HDI_QCOW2_RDWR | HDI_QCOW2_NO_BACKING, WS), HDI_OK);
		CHECK_EQ(hdi_qcow2_write(&m.q, 100, b, 10), HDI_EROFS);
		CHECK_EQ(hdi_qcow2_close(&m.q), HDI_OK);
		img_free(&m);
	}
}

/* An L2 entry pointing at the refcount table (with COPIED, refcount 1):
 * writing there would destroy metadata. */
TEST(qcow2_write_overlap_sets_corrupt_bit)
{
	struct img m;
	uint32_t seed = 11;
	uint64_t l1, l2, rt;
	uint8_t b[512] = { 7 };
	img_new(&m, 1u << 20, 16, 16, 3, false, 512);
	w(&m, 0, 4096, &seed);
	CHECK_EQ(hdi_qcow2_close(&m.q), HDI_OK);
	l1 = be(m.rd.data + 40, 8);
	rt = be(m.rd.data + 48, 8);
	l2 = be(m.rd.data + l1, 8) & 0x00fffffffffffe00ull;
	m.rd.data[l2 + 8 + 0] = 0x80;
	memcpy(m.rd.data + l2 + 8 + 1, m.rd.data + 48 + 1, 7);
	CHECK_EQ(be(m.rd.data + l2 + 8, 8) & 0x00fffffffffffe00ull, rt);
	CHECK_EQ(img_open(&m, HDI_QCOW2_RDWR, WS), HDI_OK);
	CHECK_EQ(hdi_qcow2_write(&m.q, 65536 + 10, b, sizeof b), HDI_ECORRUPT);
	CHECK(be(m.rd.data + 72, 8) & 2u);        /* corrupt bit on disk */
	CHECK(be(m.rd.data + rt, 8) != 0x0707070707070707ull);
	CHECK_EQ(hdi_qcow2_write(&m.q, 0, b, sizeof b), HDI_EROFS);
	hdi_qcow2_close(&m.q);
	CHECK_EQ(img_open(&m, HDI_QCOW2_RDWR, WS), HDI_OK);   /* readable */
	CHECK_EQ(hdi_qcow2_write(&m.q, 0, b, sizeof b), HDI_EROFS);
	CHECK_EQ(hdi_qcow2_read(&m.q, 0, b, sizeof b), HDI_OK);
	hdi_qcow2_close(&m.q);
	img_free(&m);
}

TEST(qcow2_write_lazy_dirty_bit_and_autoclear)
{
	struct img m;
	uint32_t seed = 13;
	struct hdi_qcow2_create_opts c;
	memset(&m, 0, sizeof m);
	m.ws = malloc(1u << 20);
	m.size = 1u << 20;
	m.model = calloc(1, (size_t)m.size);
	memset(&c, 0, sizeof c);
	c.size = m.size;
	c.version = 3;
	c.cluster_bits = 16;
	c.refcount_bits = 16;
	c.lazy_refcounts = true;
	CHECK_EQ(ram_dev_init(&m.rd, 0, 1ull << 30, 512, 0), HDI_OK);
	CHECK_EQ(hdi_qcow2_create(&m.rd.bdev, &c, m.ws, WS), HDI_OK);
	m.rd.data[95] |= 0x80;                   /* an unknown autoclear bit */
	CHECK_EQ(img_open(&m, HDI_QCOW2_RDWR, WS), HDI_OK);
	CHECK_EQ(be(m.rd.data + 88, 8), 0);      /* cleared before any write */
	CHECK_EQ(be(m.rd.data + 72, 8) & 1u, 0); /* not dirty until written */
	w(&m, 100, 70000, &seed);
	CHECK_EQ(be(m.rd.data + 72, 8) & 1u, 1);
	verify(&m);                              /* closes: clean again */
	CHECK_EQ(be(m.rd.data + 72, 8) & 1u, 0);
	img_free(&m);
}

TEST(qcow2_write_device_errors_pass_up)
{
	struct img m;
	uint8_t b[4096];
	uint64_t k;
	memset(b, 3, sizeof b);
	for (k = 1; k < 40; k++) {
		uint64_t at;
		int r;
		img_new(&m, 4u << 20, 12, 16, 3, false, 512);
		at = m.rd.nwrites + k;
		m.rd.fail_write_at = at;
		m.rd.fail_code = HDI_ETIMEDOUT;
		r = hdi_qcow2_write(&m.q, 5000, b, sizeof b);
		if (r == HDI_OK)
			r = hdi_qcow2_flush(&m.q);
		/* the injected failure is the result, unchanged, if it hit */
		CHECK_EQ(r, m.rd.nwrites >= at ? HDI_ETIMEDOUT : HDI_OK);
		m.rd.fail_write_at = 0;
		hdi_qcow2_close(&m.q);
		img_free(&m);
	}
}
