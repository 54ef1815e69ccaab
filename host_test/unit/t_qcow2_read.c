/* host_test/unit/t_qcow2_read.c: the qcow2 read path on hand-built images
 * in RAM: data, zero flags, extended L2, compressed clusters (zlib makes
 * them), backing files, snapshots, map, the bdev view, workspace sizes,
 * device granules and device errors. */
#include <zlib.h>
#include "unit.h"
#include "qimg.h"

#define WS_BIG (8u << 20)

static int expect_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

TEST(qread_plain_data_zero_unallocated)
{
	struct qimg m;
	uint8_t buf[3 * 4096];
	uint64_t d;
	qi_init(&m, 12, 1 << 20, 3, 0);
	d = qi_data(&m, 0x10);
	qi_set(&m, 1, d | (1ull << 63), 0);
	qi_set(&m, 2, d | 1, 0);                  /* zero flag, preallocated */
	qi_set(&m, 3, 1, 0);                      /* zero flag, no cluster */
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_OK);
	CHECK_EQ(hdi_qcow2_read(&m.q, 0, buf, 4096), HDI_OK);
	CHECK(expect_bytes(buf, 4096, 0));
	/* unaligned range across clusters 0..2 */
	CHECK_EQ(hdi_qcow2_read(&m.q, 4000, buf, 4096 + 600), HDI_OK);
	CHECK(expect_bytes(buf, 96, 0));
	CHECK(expect_bytes(buf + 96, 512, 0x10));
	CHECK(buf[96 + 512] == 0x11);
	CHECK(expect_bytes(buf + 96 + 4096, 504, 0));
	CHECK_EQ(hdi_qcow2_read(&m.q, 3 * 4096, buf, 4096), HDI_OK);
	CHECK(expect_bytes(buf, 4096, 0));
	CHECK_EQ(hdi_qcow2_read(&m.q, (1 << 20) - 1, buf, 2), HDI_EINVAL);
	CHECK_EQ(hdi_qcow2_read(&m.q, (1 << 20) - 1, buf, 1), HDI_OK);
	CHECK_EQ(m.rd.nwrites, 0);
	CHECK_EQ(hdi_qcow2_close(&m.q), HDI_OK);
	CHECK_EQ(m.rd.nwrites, 0);
	qi_free(&m);
}

TEST(qread_v2_zero_flag_honoured_like_qemu)
{
	struct qimg m;
	uint8_t buf[512];
	uint64_t d;
	qi_init(&m, 9, 64 << 10, 2, 0);
	d = qi_data(&m, 0x20);
	qi_set(&m, 0, d | 1, 0);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_OK);
	CHECK_EQ(hdi_qcow2_read(&m.q, 0, buf, 512), HDI_OK);
	CHECK(expect_bytes(buf, 512, 0));
	qi_free(&m);
}

TEST(qread_extended_l2_subclusters)
{
	struct qimg m;
	uint8_t buf[1 << 14];
	uint64_t d, sub = (1 << 14) / 32;
	qi_init(&m, 14, 1 << 20, 3, 1);
	d = qi_data(&m, 0x30);    /* 512-byte subclusters: pattern per subcluster */
	/* sc 0 allocated, 1 zero, 2 unallocated, 3 allocated */
	qi_set(&m, 0, d, (1ull << 0) | (1ull << 3) | (1ull << 33));
	/* no host cluster: sc 5 reads zero, rest unallocated */
	qi_set(&m, 1, 0, 1ull << (32 + 5));
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_OK);
	memset(buf, 0xee, sizeof buf);
	CHECK_EQ(hdi_qcow2_read(&m.q, 0, buf, 4 * sub), HDI_OK);
	CHECK(expect_bytes(buf, sub, 0x30));
	CHECK(expect_bytes(buf + sub, 2 * sub, 0));
	CHECK(expect_bytes(buf + 3 * sub, sub, 0x33));
	CHECK_EQ(hdi_qcow2_read(&m.q, 1 << 14, buf, 1 << 14), HDI_OK);
	CHECK(expect_bytes(buf, 1 << 14, 0));
	CHECK_EQ(hdi_qcow2_close(&m.q), HDI_OK);
	/* both bits for one subcluster: corrupt, named */
	qi_set(&m, 0, d, (1ull << 4) | (1ull << 36));
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_OK);
	CHECK_EQ(hdi_qcow2_read(&m.q, 0, buf, 512), HDI_ECORRUPT);
	CHECK(strstr(hdi_qcow2_errmsg(&m.q), "subcluster") != NULL);
	/* allocation bits without a host cluster */
	qi_set(&m, 0, 0, 1ull << 2);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_OK);
	CHECK_EQ(hdi_qcow2_read(&m.q, 0, buf, 512), HDI_ECORRUPT);
	qi_free(&m);
}

/* Raw-deflates one cluster of data into the image; returns the L2 entry. */
static uint64_t put_compressed(struct qimg *m, const uint8_t *data, int garbage)
{
	z_stream z;
	uint8_t out[1 << 17];
	uint64_t host, nsec, shift;
	size_t len;
	memset(&z, 0, sizeof z);
	deflateInit2(&z, 9, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY);
	z.next_in = (uint8_t *)data;
	z.avail_in = m->cs;
	z.next_out = out;
	z.avail_out = sizeof out;
	deflate(&z, Z_FINISH);
	len = sizeof out - z.avail_out;
	deflateEnd(&z);
	if (garbage)
		memset(out + 2, 0xff, len > 8 ? 6 : 0);
	/* place it at an odd, non-cluster-aligned offset like QEMU does */
	host = qi_alloc(m, len + 1024) + 100;
	memcpy(m->rd.data + host, out, len);
	nsec = ((host + len - 1) >> 9) - (host >> 9);   /* additional sectors */
	shift = 62 - (m->cb - 8);
	return (1ull << 62) | (nsec << shift) | host;
}

TEST(qread_compressed_clusters)
{
	struct qimg m;
	uint8_t data[1 << 16], buf[1 << 16];
	size_t i;
	qi_init(&m, 16, 1 << 20, 3, 0);
	for (i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)((i * 7) ^ (i >> 9));
	qi_set(&m, 1, put_compressed(&m, data, 0), 0);
	qi_set(&m, 2, put_compressed(&m, data, 1), 0);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_COMPRESSED(1 << 16)), HDI_OK);
	CHECK_EQ(hdi_qcow2_read(&m.q, 1 << 16, buf, 1 << 16), HDI_OK);
	CHECK(memcmp(buf, data, sizeof data) == 0);
	/* sector-sized reads through the cached cluster */
	CHECK_EQ(hdi_qcow2_read(&m.q, (1 << 16) + 1000, buf, 512), HDI_OK);
	CHECK(memcmp(buf, data + 1000, 512) == 0);
	CHECK_EQ(hdi_qcow2_read(&m.q, 2 << 16, buf, 512), HDI_ECORRUPT);
	CHECK(strstr(hdi_qcow2_errmsg(&m.q), "compressed") != NULL);
	/* the minimum workspace opens it but cannot inflate */
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_OK);
	CHECK_EQ(hdi_qcow2_read(&m.q, 0, buf, 512), HDI_OK);
	CHECK_EQ(hdi_qcow2_read(&m.q, 1 << 16, buf, 512), HDI_ENOMEM);
	CHECK(strstr(hdi_qcow2_errmsg(&m.q), "HDI_QCOW2_WORKSPACE_COMPRESSED") != NULL);
	/* the image's compression type picks the decoder: deflate data in a
	 * zstd image is not a zstd frame */
	qi_be64(m.rd.data + 72, 1ull << 3);
	m.rd.data[104] = 1;
	CHECK_EQ(qi_open(&m, WS_BIG), HDI_OK);
	CHECK_EQ(hdi_qcow2_read(&m.q, 1 << 16, buf, 512), HDI_ECORRUPT);
	CHECK(strstr(hdi_qcow2_errmsg(&m.q), "compressed") != NULL);
	CHECK_EQ(m.rd.nwrites, 0);
	qi_free(&m);
}

/* Backing files through the callback: a RAM device shorter than the disk. */
struct bk { struct ram_dev rd; unsigned calls, depth; char name[64], fmt[16]; int fail; };

static int open_bk(void *ctx, const char *name, const char *fmt, unsigned depth,
		   struct hdi_bdev **out)
{
	struct bk *b = ctx;
	b->calls++;
	b->depth = depth;
	snprintf(b->name, sizeof b->name, "%s", name);
	snprintf(b->fmt, sizeof b->fmt, "%s", fmt);
	if (b->fail)
		return b->fail;
	*out = &b->rd.bdev;
	return HDI_OK;
}

static void set_backing(struct qimg *m, const char *name, const char *fmt)
{
	uint8_t *h = m->rd.data;
	uint64_t off = 112;
	if (fmt) {
		qi_be32(h + off, 0xe2792aca);
		qi_be32(h + off + 4, (uint32_t)strlen(fmt));
		memcpy(h + off + 8, fmt, strlen(fmt));
		off += 8 + ((strlen(fmt) + 7) & ~7u);
	}
	qi_be32(h + off, 0);
	qi_be32(h + off + 4, 0);
	off += 8;
	memcpy(h + off, name, strlen(name));
	qi_be64(h + 8, off);
	qi_be32(h + 16, (uint32_t)strlen(name));
}

TEST(qread_backing_shorter_reads_zero)
{
	struct qimg m;
	struct bk b;
	uint8_t buf[8192];
	uint64_t d;
	memset(&b, 0, sizeof b);
	ram_dev_init(&b.rd, 6000, 0, 1, 0);
	memset(b.rd.data, 0x77, 6000);
	qi_init(&m, 12, 1 << 20, 3, 0);
	set_backing(&m, "base.img", "raw");
	d = qi_data(&m, 0x40);
	qi_set(&m, 1, d, 0);
	m.o.open_backing = open_bk;
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_EUNSUPP); /* no callback */
	memset(&m.o, 0, sizeof m.o);
	m.o.workspace = m.ws;
	m.o.workspace_size = m.ws_size;
	m.o.open_backing = open_bk;
	m.o.backing_ctx = &b;
	CHECK_EQ(hdi_qcow2_open(&m.q, &m.rd.bdev, &m.o), HDI_OK);
	CHECK(strcmp(b.name, "base.img") == 0 && strcmp(b.fmt, "raw") == 0);
	CHECK_EQ(b.depth, 0);
	CHECK_EQ(hdi_qcow2_read(&m.q, 0, buf, 8192), HDI_OK);
	CHECK(expect_bytes(buf, 4096, 0x77));          /* backing */
	CHECK(expect_bytes(buf + 4096, 512, 0x40));    /* overlay data */
	CHECK_EQ(hdi_qcow2_read(&m.q, 5000, buf, 3000), HDI_OK);
	CHECK(expect_bytes(buf, 1000, 0x77) == 0);     /* 5000..5999 overlay */
	CHECK_EQ(hdi_qcow2_read(&m.q, 8192, buf, 4096), HDI_OK);
	CHECK(expect_bytes(buf, 4096, 0));             /* past backing end */
	CHECK_EQ(hdi_qcow2_close(&m.q), HDI_OK);
	/* NO_BACKING: unallocated reads zero, callback not called */
	b.calls = 0;
	m.o.flags = HDI_QCOW2_NO_BACKING;
	CHECK_EQ(hdi_qcow2_open(&m.q, &m.rd.bdev, &m.o), HDI_OK);
	CHECK_EQ(b.calls, 0);
	CHECK_EQ(hdi_qcow2_read(&m.q, 0, buf, 512), HDI_OK);
	CHECK(expect_bytes(buf, 512, 0));
	/* depth cap and callback errors */
	m.o.flags = 0;
	m.o.depth = HDI_QCOW2_MAX_CHAIN - 1;
	CHECK_EQ(hdi_qcow2_open(&m.q, &m.rd.bdev, &m.o), HDI_ELOOP);
	m.o.depth = 0;
	b.fail = HDI_ELOOP;
	CHECK_EQ(hdi_qcow2_open(&m.q, &m.rd.bdev, &m.o), HDI_ELOOP);
	CHECK(strstr(hdi_qcow2_errmsg(&m.q), "loop") != NULL);
	CHECK_EQ(b.rd.nwrites + m.rd.nwrites, 0);
	ram_dev_free(&b.rd);
	/* a backing device with 4 KiB sectors: unaligned edges still work */
	b.fail = 0;
	ram_dev_init(&b.rd, 16384, 0, 4096, 0);
	memset(b.rd.data, 0x78, 16384);
	CHECK_EQ(hdi_qcow2_open(&m.q, &m.rd.bdev, &m.o), HDI_OK);
	CHECK_EQ(hdi_qcow2_read(&m.q, 2 * 4096 + 100, buf, 5000), HDI_OK);
	CHECK(expect_bytes(buf, 5000, 0x78));
	CHECK_EQ(hdi_qcow2_read(&m.q, 100, buf, 3000), HDI_OK);
	CHECK(expect_bytes(buf, 3000, 0x78));
	ram_dev_free(&b.rd);
	qi_free(&m);
}

TEST(qread_chain_of_qcow2_views_and_map_depth)
{
	struct qimg base, top;
	struct bk b;
	struct hdi_qcow2_extent e;
	uint8_t buf[512];
	qi_init(&base, 12, 1 << 20, 3, 0);
	qi_set(&base, 2, qi_data(&base, 0x51), 0);
	CHECK_EQ(qi_open(&base, HDI_QCOW2_WORKSPACE_MIN), HDI_OK);
	/* hand the base's virtual disk to the top as its backing device */
	memset(&b, 0, sizeof b);
	qi_init(&top, 12, 1 << 20, 3, 0);
	set_backing(&top, "base.qcow2", "qcow2");
	qi_set(&top, 0, qi_data(&top, 0x61), 0);
	top.ws = malloc(HDI_QCOW2_WORKSPACE_MIN);
	top.ws_size = HDI_QCOW2_WORKSPACE_MIN;
	memset(&top.o, 0, sizeof top.o);
	top.o.workspace = top.ws;
	top.o.workspace_size = top.ws_size;
	top.o.open_backing = open_bk;
	top.o.backing_ctx = &b;
	b.rd.bdev = *hdi_qcow2_bdev(&base.q);
	CHECK_EQ(hdi_qcow2_open(&top.q, &top.rd.bdev, &top.o), HDI_OK);
	CHECK_EQ(hdi_qcow2_read(&top.q, 2 * 4096, buf, 512), HDI_OK);
	CHECK(expect_bytes(buf, 512, 0x51));
	CHECK_EQ(hdi_qcow2_map(&top.q, 0, &e), HDI_OK);
	CHECK_EQ(e.depth, 0);
	CHECK_EQ(e.length, 4096);
	CHECK(e.flags & HDI_QCOW2_MAP_DATA);
	CHECK_EQ(hdi_qcow2_map(&top.q, 4096, &e), HDI_OK);
	CHECK_EQ(e.depth, 1);
	CHECK(e.flags & HDI_QCOW2_MAP_ZERO);
	CHECK_EQ(e.length, 4096);
	CHECK_EQ(hdi_qcow2_map(&top.q, 2 * 4096, &e), HDI_OK);
	CHECK_EQ(e.depth, 1);
	CHECK(e.flags & HDI_QCOW2_MAP_OFFSET);
	CHECK_EQ(e.host_offset & 4095, 0);
	hdi_qcow2_close(&top.q);
	hdi_qcow2_close(&base.q);
	qi_free(&top);
	qi_free(&base);
}

TEST(qread_map_kinds)
{
	struct qimg m;
	struct hdi_qcow2_extent e;
	uint64_t d, d2;
	qi_init(&m, 12, 1 << 20, 3, 0);
	d = qi_data(&m, 1);
	d2 = qi_data(&m, 2);
	qi_set(&m, 0, d, 0);
	qi_set(&m, 1, d2, 0);                  /* contiguous with cluster 0 */
	qi_set(&m, 2, 1, 0);
	qi_set(&m, 3, d | 1, 0);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_OK);
	CHECK_EQ(hdi_qcow2_map(&m.q, 0, &e), HDI_OK);
	CHECK_EQ(e.length, 8192);
	CHECK_EQ(e.host_offset, d);
	CHECK_EQ(e.flags, HDI_QCOW2_MAP_DATA | HDI_QCOW2_MAP_ALLOCATED | HDI_QCOW2_MAP_OFFSET);
	CHECK_EQ(hdi_qcow2_map(&m.q, 100, &e), HDI_OK);
	CHECK_EQ(e.start, 100);
	CHECK_EQ(e.host_offset, d + 100);
	CHECK_EQ(hdi_qcow2_map(&m.q, 8192, &e), HDI_OK);
	CHECK_EQ(e.flags, HDI_QCOW2_MAP_ZERO | HDI_QCOW2_MAP_ALLOCATED);
	CHECK_EQ(hdi_qcow2_map(&m.q, 3 * 4096, &e), HDI_OK);
	CHECK_EQ(e.flags, HDI_QCOW2_MAP_ZERO | HDI_QCOW2_MAP_ALLOCATED | HDI_QCOW2_MAP_OFFSET);
	CHECK_EQ(hdi_qcow2_map(&m.q, 4 * 4096, &e), HDI_OK);
	CHECK_EQ(e.flags, HDI_QCOW2_MAP_ZERO);
	CHECK_EQ(e.start + e.length, 1 << 20);
	CHECK_EQ(hdi_qcow2_map(&m.q, 1 << 20, &e), HDI_EINVAL);
	qi_free(&m);
}

TEST(qread_bdev_view)
{
	struct qimg m;
	struct hdi_bdev *v;
	uint8_t buf[700], bounce[512];
	uint64_t sz;
	qi_init(&m, 9, 1000 * 512 + 100, 3, 0);  /* odd size: QEMU drops the tail */
	qi_set(&m, 3, qi_data(&m, 0x99), 0);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_OK);
	v = hdi_qcow2_bdev(&m.q);
	CHECK(v != NULL);
	CHECK_EQ(v->granule, 512);
	CHECK(v->flags & HDI_BDEV_RDONLY);
	CHECK_EQ(hdi_bdev_size(v, &sz), HDI_OK);
	CHECK_EQ(sz, 1000 * 512);
	CHECK_EQ(hdi_bdev_pread(v, 3 * 512 - 100, buf, 700, bounce), HDI_OK);
	CHECK(expect_bytes(buf, 100, 0));
	CHECK(expect_bytes(buf + 100, 512, 0x99));
	CHECK_EQ(hdi_bdev_read(v, 999 * 512, bounce, 512), HDI_OK);
	CHECK_EQ(hdi_bdev_write(v, 0, bounce, 512), HDI_EROFS);
	qi_free(&m);
}

TEST(qread_min_workspace_2m_clusters_and_4k_granule)
{
	struct qimg m;
	uint8_t *buf = malloc(3u << 20);
	uint64_t i;
	qi_init(&m, 21, 64ull << 20, 3, 0);
	for (i = 0; i < 5; i += 2)
		qi_set(&m, i, qi_data(&m, (uint8_t)(0x40 + i)), 0);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_OK);
	CHECK_EQ(hdi_qcow2_read(&m.q, (4u << 20) - 512, buf, 3u << 20), HDI_OK);
	CHECK(expect_bytes(buf, 512, 0));
	CHECK(buf[512] == 0x42 && buf[1024] == 0x43);
	CHECK(expect_bytes(buf + 512 + (2u << 20), (1u << 20) - 512, 0));
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN - 1), HDI_ENOMEM);
	qi_free(&m);
	/* a 512-byte-cluster image on a 4096-byte-granule device */
	qi_init(&m, 9, 1 << 20, 3, 0);
	qi_set(&m, 7, qi_data(&m, 0x70), 0);
	while (m.rd.size & 4095)
		qi_alloc(&m, 512);
	m.rd.bdev.granule = 4096;
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_OK);
	CHECK_EQ(hdi_qcow2_read(&m.q, 7 * 512 + 3, buf, 600), HDI_OK);
	CHECK(expect_bytes(buf, 509, 0x70));
	CHECK(expect_bytes(buf + 509, 91, 0));
	qi_free(&m);
	free(buf);
}

TEST(qread_device_errors_pass_up_unchanged)
{
	struct qimg m;
	uint8_t buf[4096];
	unsigned n, seen = 0;
	qi_init(&m, 12, 1 << 20, 3, 0);
	qi_set(&m, 0, qi_data(&m, 1), 0);
	for (n = 1; n < 12; n++) {
		int r;
		m.rd.nreads = 0;
		m.rd.fail_read_at = n;
		m.rd.fail_code = HDI_ETIMEDOUT;
		r = qi_open(&m, HDI_QCOW2_WORKSPACE_MIN);
		if (r == HDI_OK)
			r = hdi_qcow2_read(&m.q, 0, buf, sizeof buf);
		if (r == HDI_ETIMEDOUT)
			seen++;
		else
			CHECK_EQ(r, HDI_OK);   /* the failing read was never issued */
	}
	CHECK(seen >= 3);
	CHECK_EQ(m.rd.nwrites, 0);
	qi_free(&m);
}

/* Two snapshot entries (one with extra data) and a view switch. */
static void add_snapshots(struct qimg *m, uint64_t l1a, uint64_t l1b)
{
	uint64_t t = qi_alloc(m, 512), p = t;
	uint8_t *b = m->rd.data;
	/* entry 1: id "1", name "first", no extra data */
	qi_be64(b + p, l1a);
	qi_be32(b + p + 8, 1);
	qi_be16(b + p + 12, 1);
	qi_be16(b + p + 14, 5);
	qi_be32(b + p + 16, 1700000000);
	qi_be32(b + p + 32, 4096);
	memcpy(b + p + 40, "1first", 6);
	p += 48;
	/* entry 2: id "7", name "second", 24 bytes of extra data */
	qi_be64(b + p, l1b);
	qi_be32(b + p + 8, 1);
	qi_be16(b + p + 12, 1);
	qi_be16(b + p + 14, 6);
	qi_be32(b + p + 36, 24);
	qi_be64(b + p + 40, 5ull << 32);       /* vm state, 64-bit */
	qi_be64(b + p + 48, 3ull << 20);       /* disk size */
	qi_be64(b + p + 56, 42);               /* icount */
	memcpy(b + p + 64, "7second", 7);
	qi_be32(b + 60, 2);
	qi_be64(b + 64, t);
}

TEST(qread_snapshots_list_find_select)
{
	struct qimg m;
	struct hdi_qcow2_snapshot s;
	uint8_t buf[512];
	uint64_t l1a, l1b, l2a;
	qi_init(&m, 12, 1 << 20, 3, 0);
	qi_set(&m, 0, qi_data(&m, 0xa0), 0);
	/* snapshot A: its own L1 -> L2 -> data 0xb0 at cluster 0 */
	l1a = qi_alloc(&m, 4096);
	l2a = qi_alloc(&m, 4096);
	qi_be64(m.rd.data + l1a, l2a);
	qi_be64(m.rd.data + l2a, qi_data(&m, 0xb0));
	l1b = qi_alloc(&m, 4096);              /* snapshot B: empty L1 */
	add_snapshots(&m, l1a, l1b);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_OK);
	CHECK_EQ(hdi_qcow2_snapshot_get(&m.q, 0, &s), HDI_OK);
	CHECK(strcmp(s.id, "1") == 0 && strcmp(s.name, "first") == 0);
	CHECK_EQ(s.date_sec, 1700000000);
	CHECK_EQ(s.vm_state_size, 4096);
	CHECK_EQ(s.disk_size, 1 << 20);
	CHECK_EQ(s.icount_present, 0);
	CHECK_EQ(hdi_qcow2_snapshot_get(&m.q, 1, &s), HDI_OK);
	CHECK(strcmp(s.id, "7") == 0 && strcmp(s.name, "second") == 0);
	CHECK_EQ(s.vm_state_size, 5ull << 32);
	CHECK_EQ(s.disk_size, 3 << 20);
	CHECK(s.icount_present && s.icount == 42);
	CHECK_EQ(hdi_qcow2_snapshot_get(&m.q, 2, &s), HDI_ENOENT);
	CHECK_EQ(hdi_qcow2_snapshot_find(&m.q, "7"), 1);
	CHECK_EQ(hdi_qcow2_snapshot_find(&m.q, "first"), 0);
	CHECK_EQ(hdi_qcow2_snapshot_find(&m.q, "firs"), HDI_ENOENT);
	CHECK_EQ(hdi_qcow2_snapshot_select(&m.q, 0), HDI_OK);
	CHECK_EQ(hdi_qcow2_read(&m.q, 0, buf, 512), HDI_OK);
	CHECK(expect_bytes(buf, 512, 0xb0));
	CHECK(hdi_qcow2_bdev(&m.q)->flags & HDI_BDEV_RDONLY);
	CHECK_EQ(hdi_qcow2_snapshot_select(&m.q, 1), HDI_OK);
	CHECK_EQ(hdi_qcow2_read(&m.q, 0, buf, 512), HDI_OK);
	CHECK(expect_bytes(buf, 512, 0));
	CHECK_EQ(hdi_qcow2_snapshot_select(&m.q, UINT32_MAX), HDI_OK);
	CHECK_EQ(hdi_qcow2_read(&m.q, 0, buf, 512), HDI_OK);
	CHECK(expect_bytes(buf, 512, 0xa0));
	CHECK_EQ(hdi_qcow2_snapshot_select(&m.q, 5), HDI_ENOENT);
	CHECK_EQ(m.rd.nwrites, 0);
	qi_free(&m);
}
