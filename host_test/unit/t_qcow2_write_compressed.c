/* host_test/unit/t_qcow2_write_compressed.c: compressed writes on RAM
 * devices, zlib and zstd, at several cluster sizes and refcount widths:
 * data against a model (compressed, stored plain, overwritten compressed
 * and normally), our check finds no corruption or leak, the map says
 * compressed where it must, and the refusals. */
#include "unit.h"
#include "dev_ram.h"
#include "hdi/qcow2.h"
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

struct cimg {
	struct ram_dev rd;
	hdi_qcow2_t q;
	void *ws;
	size_t ws_size;
	uint8_t *model;
	uint64_t size, cs;
	int calls;             /* compressor calls */
};

static int comp(void *ctx, uint32_t type, void *dst, size_t cap, size_t *len,
		const void *src, size_t n)
{
	struct cimg *m = ctx;
	z_stream z;
	int r;
	m->calls++;
	if (type == HDI_QCOW2_COMPRESSION_ZSTD) {
		size_t k = ZSTD_compress(dst, cap, src, n, 3);
		if (ZSTD_isError(k))
			return HDI_ENOSPC;
		*len = k;
		return HDI_OK;
	}
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY))
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

static int cimg_open(struct cimg *m, uint32_t flags, size_t ws, int with_comp)
{
	struct hdi_qcow2_opts o;
	memset(&o, 0, sizeof o);
	o.flags = flags;
	o.workspace = m->ws;
	o.workspace_size = ws;
	o.compress = with_comp ? comp : NULL;
	o.compress_ctx = m;
	return hdi_qcow2_open(&m->q, &m->rd.bdev, &o);
}

static void cimg_new(struct cimg *m, uint64_t size, uint32_t cbits, uint32_t rbits,
		     uint32_t version, bool extl2, uint32_t type)
{
	struct hdi_qcow2_create_opts c;
	memset(m, 0, sizeof *m);
	m->cs = 1ull << cbits;
	m->ws_size = HDI_QCOW2_WORKSPACE_COMPRESSED(m->cs);
	m->ws = malloc(m->ws_size);
	m->model = calloc(1, (size_t)size);
	m->size = size;
	memset(&c, 0, sizeof c);
	c.size = size;
	c.version = version;
	c.cluster_bits = cbits;
	c.refcount_bits = rbits;
	c.extended_l2 = extl2;
	c.compression_type = type;
	CHECK_EQ(ram_dev_init(&m->rd, 0, 1ull << 32, 512, 0), HDI_OK);
	CHECK_EQ(hdi_qcow2_create(&m->rd.bdev, &c, m->ws, m->ws_size), HDI_OK);
	CHECK_EQ(cimg_open(m, HDI_QCOW2_RDWR, m->ws_size, 1), HDI_OK);
}

static void cimg_free(struct cimg *m)
{
	ram_dev_free(&m->rd);
	free(m->ws);
	free(m->model);
}

/* A cluster of text-like bytes (compresses), or of noise (does not). */
static void fill(uint8_t *b, size_t n, uint32_t seed, int noise)
{
	size_t i;
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = noise ? (uint8_t)(seed >> 16) : (uint8_t)("qcow2 cluster "[(seed >> 16) % 14]);
	}
}

static void cw(struct cimg *m, uint64_t off, uint32_t seed, int noise)
{
	size_t n = (size_t)(m->size - off < m->cs ? m->size - off : m->cs);
	uint8_t *b = malloc(n);
	int r;
	fill(b, n, seed, noise);
	r = hdi_qcow2_write_compressed(&m->q, off, b, n);
	CHECK_EQ(r, HDI_OK);
	if (r)
		printf("# compressed write at %llu: %s\n", (unsigned long long)off,
		       hdi_qcow2_errmsg(&m->q));
	memcpy(m->model + off, b, n);
	free(b);
}

static void nw(struct cimg *m, uint64_t off, size_t n, uint32_t seed)
{
	uint8_t *b = malloc(n);
	fill(b, n, seed, 1);
	CHECK_EQ(hdi_qcow2_write(&m->q, off, b, n), HDI_OK);
	memcpy(m->model + off, b, n);
	free(b);
}

static int is_compressed(struct cimg *m, uint64_t off)
{
	struct hdi_qcow2_extent x;
	CHECK_EQ(hdi_qcow2_map(&m->q, off, &x), HDI_OK);
	return (x.flags & HDI_QCOW2_MAP_COMPRESSED) != 0;
}

static void verify(struct cimg *m)
{
	struct hdi_qcow2_check_result c;
	uint8_t *b = malloc((size_t)m->size);
	CHECK_EQ(hdi_qcow2_close(&m->q), HDI_OK);
	CHECK_EQ(cimg_open(m, 0, m->ws_size, 0), HDI_OK);
	memset(&c, 0, sizeof c);
	CHECK_EQ(hdi_qcow2_check(&m->q, 0, &c), HDI_OK);
	CHECK_EQ(c.corruptions, 0);
	CHECK_EQ(c.leaks, 0);
	CHECK_EQ(c.check_errors, 0);
	CHECK_EQ(hdi_qcow2_read(&m->q, 0, b, (size_t)m->size), HDI_OK);
	CHECK(memcmp(b, m->model, (size_t)m->size) == 0);
	free(b);
}

/* Compressed clusters packed and overwritten every way, then checked. */
static void workload(struct cimg *m)
{
	uint64_t cs = m->cs, last = (m->size - 1u) & ~(cs - 1u);
	int i;
	for (i = 0; i < 12; i++)
		cw(m, (uint64_t)i * cs, 100u + (uint32_t)i, i == 5);
	CHECK(is_compressed(m, 0));
	CHECK(!is_compressed(m, 5 * cs));          /* noise: stored plain */
	cw(m, 2 * cs, 7, 0);                       /* compressed over compressed */
	cw(m, 5 * cs, 8, 0);                       /* compressed over plain */
	CHECK(is_compressed(m, 5 * cs));
	nw(m, 3 * cs + 100, 300, 9);               /* partial normal write */
	nw(m, 4 * cs, (size_t)cs, 10);             /* whole normal write */
	CHECK(!is_compressed(m, 3 * cs));
	CHECK_EQ(hdi_qcow2_discard(&m->q, 6 * cs, cs), HDI_OK);
	memset(m->model + 6 * cs, 0, (size_t)cs);
	cw(m, last, 11, 0);                        /* the disk's last cluster */
	CHECK_EQ(hdi_qcow2_flush(&m->q), HDI_OK);
	cw(m, 20 * cs, 12, 0);                     /* after a flush, still packed */
	verify(m);
}

TEST(qcow2_write_compressed_zlib_zstd_widths_sizes)
{
	static const struct { uint32_t cbits, rbits, version; bool extl2; } v[] = {
		{ 16, 16, 3, false }, { 9, 16, 3, false }, { 12, 1, 3, false },
		{ 12, 2, 3, false }, { 16, 64, 3, false }, { 14, 16, 3, true },
		{ 21, 16, 3, false }, { 16, 16, 2, false },
	};
	size_t i;
	uint32_t t;
	for (t = 0; t < 2; t++)
		for (i = 0; i < sizeof v / sizeof v[0]; i++) {
			struct cimg m;
			if (t && v[i].version == 2)
				continue;
			cimg_new(&m, (64ull << v[i].cbits) - 1536u, v[i].cbits, v[i].rbits,
				 v[i].version, v[i].extl2, t);
			workload(&m);
			CHECK(m.calls > 0);
			CHECK_EQ(hdi_qcow2_close(&m.q), HDI_OK);
			cimg_free(&m);
		}
}

static uint64_t ld64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;
	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Host offset in the compressed descriptor of cluster i (64 KiB clusters,
 * first L2 table), read from the device after a flush. */
static uint64_t desc_host(struct cimg *m, int i)
{
	uint64_t l1, l2, e;
	CHECK_EQ(hdi_qcow2_flush(&m->q), HDI_OK);
	l1 = ld64(m->rd.data + 40);
	l2 = ld64(m->rd.data + l1) & 0x00fffffffffffe00ull;
	e = ld64(m->rd.data + l2 + 8u * (unsigned)i);
	CHECK(e >> 62 & 1);
	return e & ((1ull << 54) - 1u);
}

/* QEMU's packing: with 16-bit refcounts two clusters that compress to a
 * bit over a third of a cluster share host clusters; with 1-bit refcounts
 * (maximum 1) each has its own. */
TEST(qcow2_write_compressed_packing)
{
	uint32_t rb;
	for (rb = 1; rb <= 16; rb += 15) {
		struct cimg m;
		struct hdi_qcow2_extent x;
		uint64_t h[4];
		int i;
		cimg_new(&m, 1u << 20, 16, rb, 3, false, 0);
		for (i = 0; i < 4; i++) {
			cw(&m, (uint64_t)i << 16, 40u + (uint32_t)i, 0);
			CHECK_EQ(hdi_qcow2_map(&m.q, (uint64_t)i << 16, &x), HDI_OK);
			CHECK(x.flags & HDI_QCOW2_MAP_COMPRESSED);
			h[i] = desc_host(&m, i);
		}
		if (rb == 1) {
			for (i = 1; i < 4; i++)
				CHECK(h[i] >> 16 != h[i - 1] >> 16);
		} else {
			CHECK_EQ(h[1] >> 16, h[0] >> 16);   /* packed after the first */
			CHECK(h[1] > h[0]);
		}
		verify(&m);
		CHECK_EQ(hdi_qcow2_close(&m.q), HDI_OK);
		cimg_free(&m);
	}
}

TEST(qcow2_write_compressed_refusals)
{
	struct cimg m;
	uint8_t *b = calloc(1, 1u << 16);
	cimg_new(&m, 1u << 20, 16, 16, 3, false, 0);
	b[0] = 1;
	CHECK_EQ(hdi_qcow2_write_compressed(&m.q, 512, b, 1u << 16), HDI_EINVAL);
	CHECK_EQ(hdi_qcow2_write_compressed(&m.q, 0, b, 4096), HDI_EINVAL);
	CHECK_EQ(hdi_qcow2_write_compressed(&m.q, 1u << 20, b, 1u << 16), HDI_EINVAL);
	CHECK_EQ(hdi_qcow2_write_compressed(&m.q, 0, NULL, 1u << 16), HDI_EINVAL);
	CHECK_EQ(hdi_qcow2_close(&m.q), HDI_OK);
	/* no compressor given */
	CHECK_EQ(cimg_open(&m, HDI_QCOW2_RDWR, m.ws_size, 0), HDI_OK);
	CHECK_EQ(hdi_qcow2_write_compressed(&m.q, 0, b, 1u << 16), HDI_EUNSUPP);
	CHECK_EQ(hdi_qcow2_close(&m.q), HDI_OK);
	/* the minimum workspace: the library's own compression has no room,
	 * a caller's compressed bytes go in */
	CHECK_EQ(cimg_open(&m, HDI_QCOW2_RDWR, HDI_QCOW2_WORKSPACE_MIN, 1), HDI_OK);
	CHECK_EQ(hdi_qcow2_write_compressed(&m.q, 0, b, 1u << 16), HDI_ENOMEM);
	{
		uint8_t c[600];
		size_t n = 0;
		CHECK_EQ(comp(&m, 0, c, sizeof c, &n, b, 1u << 16), HDI_OK);
		CHECK_EQ(hdi_qcow2_write_precompressed(&m.q, 0, b, 1u << 16, c, n), HDI_OK);
		memcpy(m.model, b, 1u << 16);
	}
	CHECK_EQ(hdi_qcow2_close(&m.q), HDI_OK);
	CHECK_EQ(cimg_open(&m, 0, m.ws_size, 0), HDI_OK);
	CHECK(is_compressed(&m, 0));
	verify(&m);
	CHECK_EQ(hdi_qcow2_close(&m.q), HDI_OK);
	/* read-only */
	CHECK_EQ(cimg_open(&m, 0, m.ws_size, 1), HDI_OK);
	CHECK_EQ(hdi_qcow2_write_compressed(&m.q, 0, b, 1u << 16), HDI_EROFS);
	CHECK_EQ(hdi_qcow2_close(&m.q), HDI_OK);
	cimg_free(&m);
	free(b);
}
