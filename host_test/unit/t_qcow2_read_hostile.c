/* host_test/unit/t_qcow2_read_hostile.c: malformed and hostile qcow2
 * headers and tables (in the style of QEMU iotests 080/060): each gets a
 * clean error naming the problem, never a crash, and no write. */
#include "unit.h"
#include "qimg.h"

/* Opens, and if that works reads the whole disk; returns the first error. */
static int open_read_all(struct qimg *m)
{
	static uint8_t buf[1 << 16];
	uint64_t off, size = 0;
	int r = qi_open(m, HDI_QCOW2_WORKSPACE_MIN);
	if (r == HDI_OK)
		hdi_bdev_size(hdi_qcow2_bdev(&m->q), &size);
	if (size > (2u << 20))
		size = 2u << 20;     /* a flipped size field must not make us slow */
	for (off = 0; r == HDI_OK && off < size; off += sizeof buf)
		r = hdi_qcow2_read(&m->q, off, buf,
				   size - off < sizeof buf ? size - off : sizeof buf);
	return r;
}

static int has(struct qimg *m, const char *text)
{
	return strstr(hdi_qcow2_errmsg(&m->q), text) != NULL;
}

/* A fresh 1 MiB v3 image with 4 KiB clusters and one data cluster. */
static void fresh(struct qimg *m)
{
	qi_init(m, 12, 1 << 20, 3, 0);
	qi_set(m, 0, qi_data(m, 1), 0);
}

TEST(qhostile_header_fields)
{
	struct qimg m;
	fresh(&m);
	CHECK_EQ(open_read_all(&m), HDI_OK);
	m.rd.data[3] = 0xfa;
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_EINVAL);
	CHECK(has(&m, "magic"));
	m.rd.data[3] = 0xfb;
	qi_be32(m.rd.data + 4, 4);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_EUNSUPP);
	CHECK(has(&m, "version 4"));
	qi_be32(m.rd.data + 4, 3);
	qi_be32(m.rd.data + 20, 8);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_EUNSUPP);
	qi_be32(m.rd.data + 20, 22);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_EUNSUPP);
	CHECK(has(&m, "cluster size"));
	qi_be32(m.rd.data + 20, 12);
	qi_be32(m.rd.data + 100, 100);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_ECORRUPT);
	qi_be32(m.rd.data + 100, 8192);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_ECORRUPT);
	qi_be32(m.rd.data + 100, 112);
	qi_be32(m.rd.data + 96, 7);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_ECORRUPT);
	qi_be32(m.rd.data + 96, 4);
	CHECK_EQ(m.rd.nwrites, 0);
	qi_free(&m);
}

TEST(qhostile_features_and_encryption_named)
{
	struct qimg m;
	uint8_t *h;
	fresh(&m);
	h = m.rd.data;
	qi_be64(h + 72, 1ull << 2);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_EUNSUPP);
	CHECK(has(&m, "external data file"));
	qi_be64(h + 72, 1ull << 7);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_EUNSUPP);
	CHECK(strcmp(hdi_qcow2_errmsg(&m.q), "unknown incompatible feature bit 7") == 0);
	/* a feature name table names it */
	qi_be32(h + 112, 0x6803f857);
	qi_be32(h + 116, 48);
	h[120] = 0;
	h[121] = 7;
	memcpy(h + 122, "frobnication", 12);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_EUNSUPP);
	CHECK(has(&m, "frobnication"));
	qi_be64(h + 72, 0);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_OK);
	/* dirty and corrupt images are readable */
	qi_be64(h + 72, 3);
	CHECK_EQ(open_read_all(&m), HDI_OK);
	qi_be64(h + 72, 0);
	qi_be32(h + 32, 1);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_EUNSUPP);
	CHECK(has(&m, "AES"));
	qi_be32(h + 32, 2);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_EUNSUPP);
	CHECK(has(&m, "LUKS"));
	qi_be32(h + 32, 0);
	/* compression type byte without the incompatible bit, and vice versa */
	h[104] = 1;
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_ECORRUPT);
	h[104] = 0;
	qi_be64(h + 72, 1ull << 3);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_ECORRUPT);
	qi_be64(h + 72, 1ull << 4);     /* extended L2 needs >= 16 KiB clusters */
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_ECORRUPT);
	CHECK_EQ(m.rd.nwrites, 0);
	qi_free(&m);
}

TEST(qhostile_tables_out_of_range)
{
	struct qimg m;
	uint8_t *h;
	fresh(&m);
	h = m.rd.data;
	qi_be32(h + 36, 0);                        /* L1 smaller than the disk */
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_ECORRUPT);
	CHECK(has(&m, "L1 table is too small"));
	qi_be32(h + 36, 1);
	qi_be64(h + 40, m.l1_off + 8);             /* misaligned L1 */
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_ECORRUPT);
	qi_be64(h + 40, 1ull << 40);               /* L1 past the end */
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_ECORRUPT);
	qi_be32(h + 36, 0x10000000);               /* L1 bigger than QEMU allows */
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_ECORRUPT);
	qi_be32(h + 36, 1);
	qi_be64(h + 40, m.l1_off);
	qi_be32(h + 56, 0);                        /* no refcount table */
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_ECORRUPT);
	qi_be32(h + 56, 1);
	qi_be64(h + 48, 0xfffffffffffff000ull);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_ECORRUPT);
	qi_be64(h + 48, m.rt_off);
	qi_be32(h + 60, 70000);                    /* too many snapshots */
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_ECORRUPT);
	qi_be32(h + 60, 3);
	qi_be64(h + 64, m.rd.size);                /* snapshot table past end */
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_ECORRUPT);
	qi_be32(h + 60, 0);
	qi_be64(h + 8, 4000);                      /* backing name over the cluster */
	qi_be32(h + 16, 200);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_ECORRUPT);
	qi_be64(h + 8, 0);
	qi_be64(h + 24, ~0ull);                    /* absurd virtual size */
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_ECORRUPT);
	CHECK_EQ(m.rd.nwrites, 0);
	qi_free(&m);
}

TEST(qhostile_extensions)
{
	struct qimg m;
	uint8_t *h;
	fresh(&m);
	h = m.rd.data;
	qi_be32(h + 112, 0x12345678);              /* unknown: skipped */
	qi_be32(h + 116, 5);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_OK);
	qi_be32(h + 116, 0x7fffffff);              /* runs past the cluster */
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_ECORRUPT);
	CHECK(has(&m, "extension"));
	qi_be32(h + 112, 0xe2792aca);              /* backing format too long */
	qi_be32(h + 116, 40);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_ECORRUPT);
	qi_be32(h + 112, 0x23852875);              /* bitmaps: ignored without */
	qi_be32(h + 116, 24);                      /* the autoclear bit */
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_OK);
	qi_be64(h + 88, 1);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_ECORRUPT);  /* 0 bitmaps */
	qi_be32(h + 120, 1);
	qi_be64(h + 128, 48);
	qi_be64(h + 136, 1ull << 50);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_ECORRUPT);  /* dir offset */
	CHECK_EQ(m.rd.nwrites, 0);
	qi_free(&m);
}

TEST(qhostile_l2_pointers)
{
	struct qimg m;
	uint8_t buf[512];
	uint64_t l1e;
	fresh(&m);
	l1e = qi_ld64(m.rd.data + m.l1_off);
	qi_be64(m.rd.data + m.l1_off, l1e + 512);       /* misaligned L2 */
	CHECK_EQ(open_read_all(&m), HDI_ECORRUPT);
	CHECK(has(&m, "L2"));
	qi_be64(m.rd.data + m.l1_off, 1ull << 45);      /* beyond the file */
	CHECK_EQ(open_read_all(&m), HDI_ECORRUPT);
	qi_be64(m.rd.data + m.l1_off, 0);               /* L2 at the header */
	qi_be64(m.rd.data + m.l1_off, 1ull << 63);
	CHECK_EQ(open_read_all(&m), HDI_OK);             /* offset 0 = none */
	qi_be64(m.rd.data + m.l1_off, m.l1_off);        /* L2 is the L1 */
	CHECK_EQ(open_read_all(&m), HDI_ECORRUPT);
	qi_be64(m.rd.data + m.l1_off, m.rt_off);        /* L2 is the refcount table */
	CHECK_EQ(open_read_all(&m), HDI_ECORRUPT);
	qi_be64(m.rd.data + m.l1_off, l1e);
	qi_set(&m, 1, 4096 + 100, 0);                   /* misaligned data */
	CHECK_EQ(open_read_all(&m), HDI_ECORRUPT);
	qi_set(&m, 1, 1ull << 54, 0);                   /* data past the end: zeros */
	CHECK_EQ(open_read_all(&m), HDI_OK);
	CHECK_EQ(hdi_qcow2_read(&m.q, 4096, buf, 512), HDI_OK);
	CHECK(buf[0] == 0 && buf[511] == 0);
	qi_set(&m, 1, m.rt_off, 0);                     /* data over the refcounts */
	CHECK_EQ(open_read_all(&m), HDI_ECORRUPT);
	qi_set(&m, 1, (1ull << 62) | 0x3fffffffffffffffull, 0);  /* wild compressed */
	m.o.workspace_size = 0;
	CHECK(qi_open(&m, 1 << 20) == HDI_OK);
	CHECK_EQ(hdi_qcow2_read(&m.q, 4096, buf, 512), HDI_ECORRUPT);
	CHECK_EQ(m.rd.nwrites, 0);
	qi_free(&m);
}

TEST(qhostile_snapshot_table)
{
	struct qimg m;
	struct hdi_qcow2_snapshot s;
	uint64_t t;
	fresh(&m);
	t = qi_alloc(&m, 4096);
	qi_be32(m.rd.data + 60, 1);
	qi_be64(m.rd.data + 64, t);
	qi_be32(m.rd.data + t + 36, 5000);          /* too much extra data */
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_ECORRUPT);
	qi_be32(m.rd.data + t + 36, 0);
	qi_be16(m.rd.data + t + 14, 0xffff);         /* name past the file end */
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_ECORRUPT);
	qi_be16(m.rd.data + t + 14, 3);
	memcpy(m.rd.data + t + 40, "a\001b", 3);
	qi_be64(m.rd.data + t, 12345);              /* misaligned snapshot L1 */
	qi_be32(m.rd.data + t + 8, 1);
	CHECK_EQ(qi_open(&m, HDI_QCOW2_WORKSPACE_MIN), HDI_OK);
	CHECK_EQ(hdi_qcow2_snapshot_get(&m.q, 0, &s), HDI_OK);
	CHECK_EQ(hdi_qcow2_snapshot_select(&m.q, 0), HDI_ECORRUPT);
	CHECK_EQ(m.rd.nwrites, 0);
	qi_free(&m);
}

/* Seeded random byte flips over the metadata clusters: any result is fine
 * as long as it is a clean code, the disk reads end, and nothing is written. */
TEST(qhostile_random_flips)
{
	struct qimg m;
	uint32_t seed = 12345;
	int round;
	for (round = 0; round < 400; round++) {
		int i, r;
		fresh(&m);
		qi_set(&m, 100, qi_data(&m, 2), 0);
		for (i = 0; i < 1 + round % 6; i++) {
			uint64_t at;
			seed = seed * 1103515245u + 12345u;
			at = (seed >> 8) % (5 * 4096);     /* header .. L2 */
			seed = seed * 1103515245u + 12345u;
			m.rd.data[at] ^= (uint8_t)(1u << ((seed >> 16) & 7));
		}
		r = open_read_all(&m);
		CHECK(r == HDI_OK || r == HDI_ECORRUPT || r == HDI_EUNSUPP ||
		      r == HDI_EINVAL || r == HDI_ENOMEM);
		CHECK_EQ(m.rd.nwrites, 0);
		qi_free(&m);
	}
}
