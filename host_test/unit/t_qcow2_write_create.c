/* host_test/unit/t_qcow2_write_create.c: hdi_qcow2_create on RAM devices:
 * 16 KiB workspace at every cluster size, old contents overwritten,
 * refcounts describe exactly the metadata, options refused like qemu-img. */
#include "unit.h"
#include "dev_ram.h"
#include "hdi/qcow2.h"
#include <stdlib.h>
#include <string.h>

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	while (n--)
		v = (v << 8) | *p++;
	return v;
}

static uint64_t refcount(const uint8_t *img, uint64_t cs, uint32_t order,
			 uint64_t rt, uint64_t rtc, uint64_t c)
{
	uint64_t rpb = cs * 8 >> order, rb, i = c % rpb, bit = i << order;
	if (c / rpb >= rtc * cs / 8)
		return 0;
	rb = be(img + rt + 8 * (c / rpb), 8);
	if (!rb)
		return 0;
	if (order < 3)
		return (img[rb + bit / 8] >> (bit % 8)) & ((1u << (1u << order)) - 1u);
	return be(img + rb + bit / 8, 1 << (order - 3));
}

/* Every cluster up to the end of the metadata has refcount 1, and the
 * counted clusters are exactly the header, table, blocks and L1. */
static void verify(struct ram_dev *rd, const struct hdi_qcow2_create_opts *o,
		   int fresh)
{
	const uint8_t *img = rd->data;
	uint64_t cs = 1ull << o->cluster_bits, l1, l1n, rt, rtc, c, n = 0, i;
	uint32_t order = 0;
	CHECK_EQ(be(img, 4), 0x514649fb);
	CHECK_EQ(be(img + 4, 4), o->version);
	CHECK_EQ(be(img + 20, 4), o->cluster_bits);
	CHECK_EQ(be(img + 24, 8), o->size);
	while ((1u << order) < o->refcount_bits)
		order++;
	if (o->version == 3)
		CHECK_EQ(be(img + 96, 4), order);
	l1n = be(img + 36, 4);
	l1 = be(img + 40, 8);
	rt = be(img + 48, 8);
	rtc = be(img + 56, 4);
	CHECK(rt && rt % cs == 0 && rtc > 0);
	CHECK(l1n == 0 || (l1 % cs == 0 && l1 + l1n * 8 <= rd->size));
	for (i = 0; i < l1n * 8; i++)
		if (img[l1 + i]) {
			CHECK(!"L1 not zeroed");
			break;
		}
	for (c = 0; c < rd->size / cs; c++) {
		uint64_t r = refcount(img, cs, order, rt, rtc, c);
		if (r) {
			CHECK_EQ(r, 1);
			CHECK_EQ(c, n);   /* metadata is contiguous from 0 */
			n++;
		}
	}
	CHECK(n >= 3);
	if (fresh)
		CHECK(rd->size <= n * cs + 4096);
}

static void run(struct hdi_qcow2_create_opts *o, uint32_t granule,
		size_t ws_size, uint8_t junk)
{
	struct ram_dev rd;
	void *ws = malloc(ws_size);
	CHECK_EQ(ram_dev_init(&rd, 0, 1ull << 32, granule, 0), HDI_OK);
	if (junk) {
		/* a device that held something else: metadata must be zeroed */
		CHECK_EQ(hdi_bdev_ensure_size(&rd.bdev, 8u << 20), HDI_OK);
		memset(rd.data, junk, rd.size);
	}
	CHECK_EQ(hdi_qcow2_create(&rd.bdev, o, ws, ws_size), HDI_OK);
	verify(&rd, o, !junk);
	ram_dev_free(&rd);
	free(ws);
}

static struct hdi_qcow2_create_opts opts(uint64_t size, uint32_t cbits,
					 uint32_t rbits)
{
	struct hdi_qcow2_create_opts o;
	memset(&o, 0, sizeof o);
	o.size = size;
	o.version = 3;
	o.cluster_bits = cbits;
	o.refcount_bits = rbits;
	return o;
}

TEST(qcow2_create_every_cluster_size_16k_workspace)
{
	uint32_t cb;
	for (cb = 9; cb <= 21; cb++) {
		struct hdi_qcow2_create_opts o = opts(1ull << 30, cb, 16);
		run(&o, 512, HDI_QCOW2_WORKSPACE_MIN, 0);
		run(&o, 1, HDI_QCOW2_WORKSPACE_MIN, 0xAA);
	}
}

TEST(qcow2_create_every_refcount_width)
{
	uint32_t rb;
	for (rb = 1; rb <= 64; rb <<= 1) {
		struct hdi_qcow2_create_opts o = opts(1ull << 34, 9, rb);
		run(&o, 512, HDI_QCOW2_WORKSPACE_MIN, 0x5A);
		o = opts(1ull << 30, 16, rb);
		run(&o, 4096, HDI_QCOW2_WORKSPACE_MIN, 0xFF);
	}
}

TEST(qcow2_create_v2_backing_extl2)
{
	struct hdi_qcow2_create_opts o = opts(10u << 20, 16, 16);
	struct ram_dev rd;
	char ws[16384];
	o.version = 2;
	o.backing_file = "base.img";
	o.backing_format = "raw";
	run(&o, 512, sizeof ws, 0);
	o = opts(1ull << 30, 14, 16);
	o.extended_l2 = true;
	o.lazy_refcounts = true;
	run(&o, 512, sizeof ws, 0);
	/* the backing name sits after the extensions and is found there */
	o = opts(1u << 20, 9, 16);
	o.backing_file = "dir/base.qcow2";
	o.backing_format = "qcow2";
	CHECK_EQ(ram_dev_init(&rd, 0, 1u << 24, 512, 0), HDI_OK);
	CHECK_EQ(hdi_qcow2_create(&rd.bdev, &o, ws, sizeof ws), HDI_OK);
	CHECK_EQ(be(rd.data + 16, 4), 14);
	CHECK(memcmp(rd.data + be(rd.data + 8, 8), "dir/base.qcow2", 14) == 0);
	ram_dev_free(&rd);
}

TEST(qcow2_create_refuses_bad_options)
{
	struct hdi_qcow2_create_opts o;
	struct ram_dev rd;
	char ws[16384], name[600];
	CHECK_EQ(ram_dev_init(&rd, 0, 1u << 24, 512, 0), HDI_OK);
#define REFUSE(setup, code) do { o = opts(1u << 20, 16, 16); setup; \
	CHECK_EQ(hdi_qcow2_create(&rd.bdev, &o, ws, sizeof ws), code); } while (0)
	REFUSE(o.version = 2; o.lazy_refcounts = true, HDI_EINVAL);
	REFUSE(o.version = 2; o.refcount_bits = 8, HDI_EINVAL);
	REFUSE(o.extended_l2 = true; o.cluster_bits = 13, HDI_EINVAL);
	REFUSE(o.cluster_bits = 8, HDI_EINVAL);
	REFUSE(o.cluster_bits = 22, HDI_EINVAL);
	REFUSE(o.refcount_bits = 3, HDI_EINVAL);
	REFUSE(o.refcount_bits = 128, HDI_EINVAL);
	REFUSE(o.size = 1000, HDI_EINVAL);
	REFUSE(o.backing_format = "raw", HDI_EINVAL);
	REFUSE(o.backing_file = "x"; o.backing_format = "vmdk", HDI_EINVAL);
	REFUSE(o.size = 200ull << 30; o.cluster_bits = 9, HDI_EINVAL);
	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = 0;
	REFUSE(o.cluster_bits = 9; o.backing_file = name, HDI_EINVAL);
	o = opts(1u << 20, 16, 16);
	CHECK_EQ(hdi_qcow2_create(&rd.bdev, &o, ws, 1024), HDI_ENOMEM);
	CHECK_EQ(rd.nwrites, 0);
	ram_dev_free(&rd);
}

TEST(qcow2_create_fixed_device_too_small)
{
	struct hdi_qcow2_create_opts o = opts(1u << 30, 21, 16);
	struct ram_dev rd;
	char ws[16384];
	CHECK_EQ(ram_dev_init(&rd, 1u << 20, 0, 512, 0), HDI_OK);
	CHECK_EQ(hdi_qcow2_create(&rd.bdev, &o, ws, sizeof ws), HDI_ENOSPC);
	ram_dev_free(&rd);
}

TEST(qcow2_create_write_error_passes_up)
{
	struct hdi_qcow2_create_opts o = opts(1u << 30, 16, 16);
	struct ram_dev rd;
	char ws[16384];
	CHECK_EQ(ram_dev_init(&rd, 1u << 20, 0, 512, 0), HDI_OK);
	rd.fail_write_at = 2;
	rd.fail_code = HDI_ETIMEDOUT;
	CHECK_EQ(hdi_qcow2_create(&rd.bdev, &o, ws, sizeof ws), HDI_ETIMEDOUT);
	/* the header is written last: no half-made image looks valid */
	CHECK(be(rd.data, 4) != 0x514649fb);
	ram_dev_free(&rd);
}

TEST(qcow2_create_preallocate_metadata_16k)
{
	uint32_t cb;
	for (cb = 9; cb <= 21; cb += 4) {
		struct hdi_qcow2_create_opts o = opts(3u << 20, cb, 16);
		struct hdi_qcow2_opts oo;
		struct hdi_qcow2_check_result c;
		struct hdi_qcow2_extent x;
		struct ram_dev rd;
		hdi_qcow2_t q;
		static char ws[HDI_QCOW2_WORKSPACE_MIN];
		char buf[4096];
		uint64_t off;
		o.preallocate_metadata = true;
		CHECK_EQ(ram_dev_init(&rd, 0, 1ull << 32, 512, 0), HDI_OK);
		CHECK_EQ(hdi_qcow2_create(&rd.bdev, &o, ws, sizeof ws), HDI_OK);
		memset(&oo, 0, sizeof oo);
		oo.workspace = ws;
		oo.workspace_size = sizeof ws;
		CHECK_EQ(hdi_qcow2_open(&q, &rd.bdev, &oo), HDI_OK);
		memset(&c, 0, sizeof c);
		CHECK_EQ(hdi_qcow2_check(&q, 0, &c), HDI_OK);
		CHECK_EQ(c.corruptions + c.leaks, 0);
		for (off = 0; off < o.size; off += x.length) {
			CHECK_EQ(hdi_qcow2_map(&q, off, &x), HDI_OK);
			CHECK(x.length && (x.flags & HDI_QCOW2_MAP_OFFSET));
			if (!x.length)
				break;
		}
		CHECK_EQ(hdi_qcow2_read(&q, (2u << 20) + 5, buf, sizeof buf), HDI_OK);
		CHECK(buf[0] == 0 && buf[4095] == 0);
		CHECK_EQ(hdi_qcow2_close(&q), HDI_OK);
		ram_dev_free(&rd);
	}
}

/* hdi_qcow2_create_check names the reason create refuses, and create
 * refuses with the same code before writing anything. */
TEST(qcow2_create_check_says_why)
{
	static const struct { int what; int code; const char *word; } c[] = {
		{ 0, HDI_EINVAL, "Lazy refcounts" },
		{ 1, HDI_EINVAL, "refcount widths" },
		{ 2, HDI_EINVAL, "at least 16384 bytes" },
		{ 3, HDI_EINVAL, "Cluster size" },
		{ 4, HDI_EINVAL, "multiple of 512" },
		{ 5, HDI_EINVAL, "without backing file" },
		{ 6, HDI_EINVAL, "too large" },
		{ 7, HDI_EINVAL, "header cluster" },
		{ 8, HDI_EUNSUPP, "preallocation" },
		{ 9, HDI_EINVAL, "Non-zlib" },
	};
	static char name[600];
	struct hdi_qcow2_create_opts o;
	struct ram_dev rd;
	static char ws[16384];
	const char *why;
	unsigned i;
	memset(name, 'n', sizeof name - 1);
	CHECK_EQ(ram_dev_init(&rd, 0, 1u << 24, 512, 0), HDI_OK);
	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		o = opts(1u << 20, 16, 16);
		switch (c[i].what) {
		case 0: o.version = 2; o.lazy_refcounts = true; break;
		case 1: o.version = 2; o.refcount_bits = 8; break;
		case 2: o.extended_l2 = true; o.cluster_bits = 13; break;
		case 3: o.cluster_bits = 22; break;
		case 4: o.size = 1000; break;
		case 5: o.backing_format = "raw"; break;
		case 6: o.size = 200ull << 30; o.cluster_bits = 9; break;
		case 7: o.cluster_bits = 9; o.backing_file = name; break;
		case 8: o.preallocate_metadata = true; o.backing_file = "b"; break;
		case 9: o.version = 2; o.compression_type = HDI_QCOW2_COMPRESSION_ZSTD; break;
		}
		why = NULL;
		CHECK_EQ(hdi_qcow2_create_check(&o, &why), c[i].code);
		CHECK(why && strstr(why, c[i].word));
		CHECK_EQ(hdi_qcow2_create(&rd.bdev, &o, ws, sizeof ws), c[i].code);
	}
	CHECK_EQ(rd.nwrites, 0);
	o = opts(1u << 20, 16, 16);
	CHECK_EQ(hdi_qcow2_create_check(&o, &why), HDI_OK);
	CHECK(why && !why[0]);
	ram_dev_free(&rd);
}
