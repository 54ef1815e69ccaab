/* host_test/unit/t_mbr.c: the MBR core on RAM devices: the seed's bytes,
 * geometry bands, CHS overflow, EBR chains, validation, refusals that
 * write nothing, faults, power cuts. */
#include "unit.h"
#include "dev_ram.h"
#include "hdi/mbr.h"
#include <string.h>

#define MiB (1024u * 1024u)

static uint8_t buf[HDI_MBR_BUF_MAX];

static const uint8_t *entry(const struct ram_dev *rd, uint64_t lba, unsigned i)
{
	return rd->data + lba * 512 + 446 + 16 * i;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

TEST(mbr_seed_case_bytes)
{
	/* edqcow2 IMG fdisk create PrimaryPartition 2032128 on a 2 MiB disk */
	static const uint8_t want[16] = { 0x80, 0x01, 0x01, 0x00, 0x0E, 0x0F,
		0x3F, 0x03, 63, 0, 0, 0, 0x81, 0x0F, 0, 0 };
	struct ram_dev rd;
	struct hdi_mbr m;
	uint32_t count = 2032128 / 512, ebr, start;
	CHECK_EQ(ram_dev_init(&rd, 2 * MiB, 0, 512, 0), HDI_OK);
	CHECK_EQ(hdi_mbr_read(&m, &rd.bdev, buf, sizeof buf), HDI_OK);
	CHECK_EQ(m.kind, HDI_MBR_NONE);
	CHECK_EQ(m.heads, 16);
	CHECK_EQ(m.sectors, 63);
	CHECK_EQ(hdi_mbr_find_space(&m, HDI_MBR_PRIMARY, HDI_MBR_ALIGN_CYLINDER,
				    0, &count, &ebr, &start), HDI_OK);
	CHECK_EQ(start, 63);
	CHECK_EQ(count, 3969);
	CHECK_EQ(hdi_mbr_set_primary(&m, 1, start, count, 0x0E, true), HDI_OK);
	CHECK_EQ(hdi_mbr_write(&m, NULL), HDI_OK);
	CHECK(memcmp(entry(&rd, 0, 0), want, 16) == 0);
	CHECK(rd.data[510] == 0x55 && rd.data[511] == 0xAA);
	CHECK(rd.data[446 + 16] == 0 && le32(entry(&rd, 0, 3) + 12) == 0);
	ram_dev_free(&rd);
}

TEST(mbr_geometry_bands)
{
	static const struct { uint64_t sectors; unsigned heads; } t[] = {
		{ 4096, 16 }, { 1024ull * 16 * 63, 16 }, { 1024ull * 16 * 63 + 1, 32 },
		{ 1ull << 21, 32 }, { (1ull << 21) + 1, 64 },
		{ 1ull << 22, 64 }, { (1ull << 22) + 1, 128 },
		{ 1ull << 23, 128 }, { (1ull << 23) + 1, 255 },
		{ 1ull << 40, 255 },
	};
	size_t i;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		uint16_t h;
		uint8_t s;
		hdi_mbr_default_geometry(t[i].sectors, &h, &s);
		CHECK_EQ(h, t[i].heads);
		CHECK_EQ(s, 63);
	}
}

TEST(mbr_chs_encoding_and_overflow)
{
	uint8_t c[3];
	hdi_mbr_lba_to_chs(63, 16, 63, c);        /* 0/1/1 */
	CHECK(c[0] == 1 && c[1] == 1 && c[2] == 0);
	hdi_mbr_lba_to_chs(4031, 16, 63, c);      /* 3/15/63 */
	CHECK(c[0] == 15 && c[1] == 0x3F && c[2] == 3);
	/* cylinder 1023 is still exact: 1023*255*63 */
	hdi_mbr_lba_to_chs(1023u * 255 * 63, 255, 63, c);
	CHECK(c[0] == 0 && c[1] == 0xC1 && c[2] == 0xFF);
	/* cylinder 256 sets the high bits */
	hdi_mbr_lba_to_chs(256u * 255 * 63 + 2, 255, 63, c);
	CHECK(c[0] == 0 && c[1] == (3 | 0x40) && c[2] == 0);
	/* past cylinder 1023: 1023/254/63 = FE FF FF */
	hdi_mbr_lba_to_chs(1024u * 255 * 63, 255, 63, c);
	CHECK(c[0] == 0xFE && c[1] == 0xFF && c[2] == 0xFF);
	hdi_mbr_lba_to_chs(0xFFFFFFFFu, 255, 63, c);
	CHECK(c[0] == 0xFE && c[1] == 0xFF && c[2] == 0xFF);
	hdi_mbr_lba_to_chs(1024u * 16 * 63, 16, 63, c);   /* 1023/15/63 */
	CHECK(c[0] == 0x0F && c[1] == 0xFF && c[2] == 0xFF);
}

/* A table with an extended partition and three logicals, 1 MiB aligned. */
static void build_ext(struct hdi_mbr *m)
{
	uint32_t count = 0, ebr, start;
	int i;
	CHECK_EQ(hdi_mbr_set_primary(m, 1, 2048, 8192, 0x83, true), HDI_OK);
	CHECK_EQ(hdi_mbr_find_space(m, HDI_MBR_PRIMARY, 2048, 0, &count, &ebr,
				    &start), HDI_OK);
	CHECK_EQ(start, 10240);
	CHECK_EQ(hdi_mbr_set_primary(m, 2, start, count, 0x05, false), HDI_OK);
	for (i = 0; i < 3; i++) {
		count = 4096;
		CHECK_EQ(hdi_mbr_find_space(m, HDI_MBR_LOGICAL, 2048, 0, &count,
					    &ebr, &start), HDI_OK);
		CHECK_EQ(hdi_mbr_add_logical(m, ebr, start, count, 0x83, false), 5 + i);
	}
}

TEST(mbr_extended_chain_roundtrip)
{
	struct ram_dev rd;
	struct hdi_mbr m, m2;
	unsigned i;
	CHECK_EQ(ram_dev_init(&rd, 32 * MiB, 0, 512, 0), HDI_OK);
	CHECK_EQ(hdi_mbr_read(&m, &rd.bdev, buf, sizeof buf), HDI_OK);
	build_ext(&m);
	CHECK_EQ(m.l[0].ebr, 10240);
	CHECK_EQ(m.l[0].start, 12288);
	CHECK_EQ(m.l[1].ebr, 16384);
	CHECK_EQ(m.l[1].start, 18432);
	CHECK_EQ(hdi_mbr_write(&m, NULL), HDI_OK);
	/* first EBR: data relative to itself, link relative to the extended start */
	CHECK_EQ(le32(entry(&rd, 10240, 0) + 8), 2048);
	CHECK_EQ(le32(entry(&rd, 10240, 1) + 8), 16384 - 10240);
	CHECK_EQ(le32(entry(&rd, 10240, 1) + 12), 18432 + 4096 - 16384);
	CHECK_EQ(entry(&rd, 10240, 1)[4], 0x05);
	CHECK_EQ(le32(entry(&rd, 24576, 1) + 12), 0);        /* chain ends */
	for (i = 0; i < 3; i++) {
		uint64_t e = m.l[i].ebr;
		CHECK(rd.data[e * 512 + 510] == 0x55 && rd.data[e * 512 + 511] == 0xAA);
	}
	CHECK_EQ(hdi_mbr_read(&m2, &rd.bdev, buf, sizeof buf), HDI_OK);
	CHECK_EQ(m2.nlogical, 3);
	CHECK_EQ(m2.ext, 2);
	for (i = 0; i < 3; i++) {
		CHECK_EQ(m2.l[i].start, m.l[i].start);
		CHECK_EQ(m2.l[i].count, m.l[i].count);
		CHECK_EQ(m2.l[i].ebr, m.l[i].ebr);
	}
	/* deleting the first logical moves the second into the first EBR */
	CHECK_EQ(hdi_mbr_delete(&m2, 5), HDI_OK);
	CHECK_EQ(hdi_mbr_write(&m2, NULL), HDI_OK);
	CHECK_EQ(hdi_mbr_read(&m, &rd.bdev, buf, sizeof buf), HDI_OK);
	CHECK_EQ(m.nlogical, 2);
	CHECK_EQ(m.l[0].ebr, 10240);
	CHECK_EQ(m.l[0].start, 18432);
	CHECK_EQ(m.l[1].start, 24576);
	CHECK_EQ(hdi_mbr_validate(&m, NULL), HDI_OK);
	/* delete the rest: an empty EBR with 55 AA stays at the extended start */
	CHECK_EQ(hdi_mbr_delete(&m, 6), HDI_OK);
	CHECK_EQ(hdi_mbr_delete(&m, 5), HDI_OK);
	CHECK_EQ(hdi_mbr_write(&m, NULL), HDI_OK);
	CHECK_EQ(hdi_mbr_read(&m2, &rd.bdev, buf, sizeof buf), HDI_OK);
	CHECK_EQ(m2.nlogical, 0);
	CHECK_EQ(le32(entry(&rd, 10240, 0) + 12), 0);
	CHECK(rd.data[10240 * 512 + 510] == 0x55);
	ram_dev_free(&rd);
}

TEST(mbr_edit_keeps_bootcode_signature_entries)
{
	struct ram_dev rd;
	struct hdi_mbr m;
	uint8_t before[512];
	unsigned i;
	CHECK_EQ(ram_dev_init(&rd, 8 * MiB, 0, 512, 0), HDI_OK);
	for (i = 0; i < 446; i++)
		rd.data[i] = (uint8_t)(i * 13 + 7);
	/* entry 1 with odd but valid CHS values that a rewrite would change */
	memcpy(rd.data + 446, "\x00\x11\x22\x33\x83\x44\x55\x66\x00\x08\x00\x00\x00\x08\x00\x00", 16);
	rd.data[510] = 0x55;
	rd.data[511] = 0xAA;
	memcpy(before, rd.data, 512);
	CHECK_EQ(hdi_mbr_read(&m, &rd.bdev, buf, sizeof buf), HDI_OK);
	CHECK_EQ(m.kind, HDI_MBR_DOS);
	CHECK_EQ(m.disk_id, le32(before + 440));
	CHECK_EQ(hdi_mbr_set_primary(&m, 3, 4096, 2048, 0x0C, false), HDI_OK);
	CHECK_EQ(hdi_mbr_write(&m, NULL), HDI_OK);
	CHECK(memcmp(rd.data, before, 446 + 16) == 0);       /* code, id, entry 1 */
	CHECK(memcmp(rd.data + 446 + 16, before + 446 + 16, 16) == 0);
	CHECK(memcmp(rd.data + 446 + 48, before + 446 + 48, 16) == 0);
	CHECK_EQ(le32(entry(&rd, 0, 2) + 8), 4096);
	/* type and active flag changes leave the CHS bytes alone */
	CHECK_EQ(hdi_mbr_set_type(&m, 1, 0x07), HDI_OK);
	CHECK_EQ(hdi_mbr_set_active(&m, 1, true), HDI_OK);
	CHECK_EQ(hdi_mbr_write(&m, NULL), HDI_OK);
	CHECK(memcmp(entry(&rd, 0, 0) + 1, "\x11\x22\x33\x07\x44\x55\x66", 7) == 0);
	CHECK_EQ(entry(&rd, 0, 0)[0], 0x80);
	CHECK_EQ(hdi_mbr_set_type(&m, 1, 0x05), HDI_EINVAL);
	CHECK_EQ(hdi_mbr_set_type(&m, 2, 0x07), HDI_ENOENT);
	ram_dev_free(&rd);
}

/* Each bad table is refused by write() with no device write at all. */
TEST(mbr_refusals_write_nothing)
{
	struct ram_dev rd;
	struct hdi_mbr m;
	struct hdi_mbr_problem why;
	uint32_t ebr, start, count;
	CHECK_EQ(ram_dev_init(&rd, 16 * MiB, 0, 512, 0), HDI_OK);
#define REFUSE(code_, a_, b_) do { uint64_t w_ = rd.nwrites; \
	CHECK_EQ(hdi_mbr_write(&m, &why), HDI_EINVAL); CHECK_EQ(why.code, code_); \
	CHECK_EQ(why.a, a_); CHECK_EQ(why.b, b_); CHECK_EQ(rd.nwrites, w_); } while (0)
#define FRESH() CHECK_EQ(hdi_mbr_read(&m, &rd.bdev, buf, sizeof buf), HDI_OK)
	FRESH();
	hdi_mbr_set_primary(&m, 1, 2048, 4096, 0x83, false);
	hdi_mbr_set_primary(&m, 2, 6000, 4096, 0x83, false);
	REFUSE(HDI_MBR_P_OVERLAP, 1, 2);
	FRESH();
	hdi_mbr_set_primary(&m, 1, 2048, 8192, 0x83, false);
	hdi_mbr_set_primary(&m, 4, 4096, 10, 0x83, false);      /* contained */
	REFUSE(HDI_MBR_P_OVERLAP, 1, 4);
	FRESH();
	hdi_mbr_set_primary(&m, 2, 0, 100, 0x83, false);
	REFUSE(HDI_MBR_P_SECTOR0, 2, 0);
	FRESH();
	hdi_mbr_set_primary(&m, 1, 30000, 5000, 0x83, false);  /* disk: 32768 */
	REFUSE(HDI_MBR_P_PAST_END, 1, 0);
	FRESH();
	hdi_mbr_set_primary(&m, 1, 2048, 2048, 0x05, false);
	hdi_mbr_set_primary(&m, 2, 8192, 2048, 0x0F, false);
	REFUSE(HDI_MBR_P_TWO_EXT, 1, 2);
	FRESH();
	hdi_mbr_set_primary(&m, 1, 2048, 8192, 0x05, false);
	CHECK_EQ(hdi_mbr_add_logical(&m, 2048, 4096, 8192, 0x83, false), 5);
	REFUSE(HDI_MBR_P_OUTSIDE_EXT, 5, 0);
	FRESH();
	hdi_mbr_set_primary(&m, 1, 2048, 8192, 0x05, false);
	CHECK_EQ(hdi_mbr_add_logical(&m, 2048, 2049, 100, 0x83, false), 5);
	CHECK_EQ(hdi_mbr_add_logical(&m, 2100, 3000, 100, 0x83, false), 6);
	REFUSE(HDI_MBR_P_COVERS_EBR, 5, 6);
	FRESH();
	hdi_mbr_set_primary(&m, 1, 2048, 8192, 0x05, false);
	CHECK_EQ(hdi_mbr_add_logical(&m, 2048, 2049, 40, 0x83, false), 5);
	CHECK_EQ(hdi_mbr_add_logical(&m, 3000, 2100, 100, 0x83, false), 6);
	CHECK_EQ(hdi_mbr_add_logical(&m, 3100, 2150, 10, 0x83, false), 7);
	REFUSE(HDI_MBR_P_OVERLAP, 6, 7);
	FRESH();
	hdi_mbr_set_primary(&m, 1, 2048, 8192, 0x05, false);
	hdi_mbr_set_primary(&m, 2, 4000, 10, 0x83, false);   /* inside the extended */
	REFUSE(HDI_MBR_P_OVERLAP, 1, 2);
	/* in-call refusals */
	FRESH();
	CHECK_EQ(hdi_mbr_set_primary(&m, 1, 2048, 0, 0x83, false), HDI_EINVAL);
	CHECK_EQ(hdi_mbr_set_primary(&m, 1, 2048, 10, 0x00, false), HDI_EINVAL);
	CHECK_EQ(hdi_mbr_set_primary(&m, 5, 2048, 10, 0x83, false), HDI_EINVAL);
	CHECK_EQ(hdi_mbr_add_logical(&m, 2048, 2049, 10, 0x83, false), HDI_EINVAL);
	hdi_mbr_set_primary(&m, 1, 2048, 8192, 0x05, false);
	CHECK_EQ(hdi_mbr_add_logical(&m, 3000, 3001, 10, 0x83, false), HDI_EINVAL);
	count = 100000;
	CHECK_EQ(hdi_mbr_find_space(&m, HDI_MBR_LOGICAL, 2048, 0, &count, &ebr,
				    &start), HDI_ENOSPC);
	CHECK_EQ(rd.nwrites, 0);
	ram_dev_free(&rd);
}

/* A device that claims 3 TiB and stores only a few sectors. */
struct big { struct hdi_bdev bdev; uint8_t s0[512]; uint64_t writes; };
static int big_read(void *ctx, uint64_t off, void *b, size_t len)
{
	struct big *d = ctx;
	memset(b, 0, len);
	if (off == 0)
		memcpy(b, d->s0, 512);
	return HDI_OK;
}
static int big_write(void *ctx, uint64_t off, const void *b, size_t len)
{
	struct big *d = ctx;
	d->writes++;
	if (off == 0)
		memcpy(d->s0, b, 512);
	return HDI_OK;
}
static int big_size(void *ctx, uint64_t *bytes)
{
	(void)ctx;
	*bytes = 3ull << 40;
	return HDI_OK;
}
static const struct hdi_bdev_ops big_ops = {
	.version = HDI_BDEV_OPS_VERSION,
	.read = big_read,
	.write = big_write,
	.flush = 0,
	.size = big_size,
	.grow = 0,
};

TEST(mbr_past_2tib_is_refused)
{
	static struct big d;
	struct hdi_mbr m;
	struct hdi_mbr_problem why;
	uint32_t count = 0, ebr, start;
	d.bdev.ops = &big_ops;
	d.bdev.ctx = &d;
	d.bdev.granule = 512;
	CHECK_EQ(hdi_mbr_read(&m, &d.bdev, buf, sizeof buf), HDI_OK);
	CHECK_EQ(m.heads, 255);
	/* "all the space" stops at the 32-bit limit */
	CHECK_EQ(hdi_mbr_find_space(&m, HDI_MBR_PRIMARY, 2048, 0, &count, &ebr,
				    &start), HDI_OK);
	CHECK_EQ((uint64_t)start + count, 0x100000000ull);
	CHECK_EQ(hdi_mbr_set_primary(&m, 1, 0xFFFFF000u, 0x2000, 0x83, false), HDI_OK);
	CHECK_EQ(hdi_mbr_write(&m, &why), HDI_EINVAL);
	CHECK_EQ(why.code, HDI_MBR_P_PAST_2TIB);
	CHECK_EQ(d.writes, 0);
	CHECK_EQ(hdi_mbr_set_primary(&m, 1, 2048, 0xFFFFF000u - 2048, 0x83, false), HDI_OK);
	CHECK_EQ(hdi_mbr_write(&m, &why), HDI_OK);
	CHECK(d.s0[446 + 5] == 0xFE && d.s0[446 + 6] == 0xFF && d.s0[446 + 7] == 0xFF);
}

TEST(mbr_protective_gpt_not_edited)
{
	struct ram_dev rd;
	struct hdi_mbr m;
	CHECK_EQ(ram_dev_init(&rd, 4 * MiB, 0, 512, 0), HDI_OK);
	memcpy(rd.data + 446, "\x00\x00\x02\x00\xee\xff\xff\xff\x01\x00\x00\x00\xff\x1f\x00\x00", 16);
	rd.data[510] = 0x55;
	rd.data[511] = 0xAA;
	CHECK_EQ(hdi_mbr_read(&m, &rd.bdev, buf, sizeof buf), HDI_OK);
	CHECK_EQ(m.kind, HDI_MBR_GPT);
	CHECK_EQ(hdi_mbr_set_primary(&m, 2, 100, 10, 0x83, false), HDI_EUNSUPP);
	CHECK_EQ(hdi_mbr_delete(&m, 1), HDI_EUNSUPP);
	CHECK_EQ(hdi_mbr_write(&m, NULL), HDI_EUNSUPP);
	CHECK_EQ(rd.nwrites, 0);
	ram_dev_free(&rd);
}

TEST(mbr_hostile_chains)
{
	struct ram_dev rd;
	struct hdi_mbr m;
	CHECK_EQ(ram_dev_init(&rd, 4 * MiB, 0, 512, 0), HDI_OK);
	/* extended at 100, whose EBR links back to itself */
	memcpy(rd.data + 446, "\x00\x00\x00\x00\x05\x00\x00\x00\x64\x00\x00\x00\x00\x10\x00\x00", 16);
	rd.data[510] = 0x55;
	rd.data[511] = 0xAA;
	memcpy(rd.data + 100 * 512 + 446, "\x00\x00\x00\x00\x83\x00\x00\x00\x01\x00\x00\x00\x0a\x00\x00\x00"
	       "\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x0a\x00\x00\x00", 32);
	CHECK_EQ(hdi_mbr_read(&m, &rd.bdev, buf, sizeof buf), HDI_ECORRUPT);
	/* link without data: skipped, then a link past the end of the disk */
	memcpy(rd.data + 100 * 512 + 446, "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	       "\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x0a\x00\x00\x00", 32);
	CHECK_EQ(hdi_mbr_read(&m, &rd.bdev, buf, sizeof buf), HDI_ECORRUPT);
	memcpy(rd.data + 100 * 512 + 446 + 16, "\x00\x00\x00\x00\x05\x00\x00\x00\xff\xff\xff\x00\x0a\x00\x00\x00", 16);
	CHECK_EQ(hdi_mbr_read(&m, &rd.bdev, buf, sizeof buf), HDI_ECORRUPT);
	/* an extended partition whose first sector was never written */
	memset(rd.data + 100 * 512, 0, 512);
	CHECK_EQ(hdi_mbr_read(&m, &rd.bdev, buf, sizeof buf), HDI_OK);
	CHECK_EQ(m.nlogical, 0);
	ram_dev_free(&rd);
}

TEST(mbr_device_errors_pass_up)
{
	struct ram_dev rd;
	struct hdi_mbr m;
	CHECK_EQ(ram_dev_init(&rd, 32 * MiB, 0, 512, 0), HDI_OK);
	rd.fail_read_at = 1;
	rd.fail_code = HDI_ETIMEDOUT;
	CHECK_EQ(hdi_mbr_read(&m, &rd.bdev, buf, sizeof buf), HDI_ETIMEDOUT);
	rd.fail_read_at = 0;
	CHECK_EQ(hdi_mbr_read(&m, &rd.bdev, buf, sizeof buf), HDI_OK);
	build_ext(&m);
	rd.fail_write_at = rd.nwrites + 2;
	CHECK_EQ(hdi_mbr_write(&m, NULL), HDI_ETIMEDOUT);
	CHECK_EQ(hdi_mbr_read(&m, &rd.bdev, NULL, 0), HDI_ENOMEM);
	ram_dev_free(&rd);
}

/* Cutting power after each write of one change leaves a table that reads
 * and validates, either the old one or the new one: a new EBR is durable
 * before anything points at it, and a delete is one sector write. */
TEST(mbr_power_cut_leaves_valid_table)
{
	uint64_t cut;
	int op, mode;
	for (cut = 1; cut <= 3; cut++)           /* a change is 1 or 2 writes */
	for (op = 0; op < 3; op++)
	for (mode = 0; mode < 2; mode++) {
		struct ram_dev rd;
		struct hdi_mbr m;
		uint32_t count = 2048, ebr, start;
		CHECK_EQ(ram_dev_init(&rd, 16 * MiB, 0, 512, 1), HDI_OK);
		CHECK_EQ(hdi_mbr_read(&m, &rd.bdev, buf, sizeof buf), HDI_OK);
		build_ext(&m);
		CHECK_EQ(hdi_mbr_write(&m, NULL), HDI_OK);
		if (op == 0) {
			CHECK_EQ(hdi_mbr_delete(&m, 6), HDI_OK);
		} else if (op == 1) {
			CHECK_EQ(hdi_mbr_delete(&m, 5), HDI_OK);
		} else {
			CHECK_EQ(hdi_mbr_find_space(&m, HDI_MBR_LOGICAL, 2048, 0,
						    &count, &ebr, &start), HDI_OK);
			CHECK_EQ(hdi_mbr_add_logical(&m, ebr, start, count, 0x0C, false), 8);
		}
		rd.cut_after_writes = rd.nwrites + cut;
		hdi_mbr_write(&m, NULL);
		ram_dev_power_cycle(&rd, mode, (uint32_t)(cut * 7 + op));
		CHECK_EQ(hdi_mbr_read(&m, &rd.bdev, buf, sizeof buf), HDI_OK);
		CHECK_EQ(hdi_mbr_validate(&m, NULL), HDI_OK);
		CHECK(m.nlogical == 3 || m.nlogical == (op == 2 ? 4 : 2));
		ram_dev_free(&rd);
	}
}

TEST(mbr_granule_4096_device)
{
	struct ram_dev rd;
	struct hdi_mbr m, m2;
	uint8_t small[512];
	CHECK_EQ(ram_dev_init(&rd, 32 * MiB, 0, 4096, 0), HDI_OK);
	CHECK_EQ(hdi_mbr_read(&m, &rd.bdev, small, sizeof small), HDI_ENOMEM);
	CHECK_EQ(hdi_mbr_read(&m, &rd.bdev, buf, HDI_MBR_BUF_SIZE(4096)), HDI_OK);
	build_ext(&m);
	CHECK_EQ(hdi_mbr_write(&m, NULL), HDI_OK);
	CHECK_EQ(hdi_mbr_read(&m2, &rd.bdev, buf, sizeof buf), HDI_OK);
	CHECK_EQ(m2.nlogical, 3);
	CHECK_EQ(m2.l[2].start, m.l[2].start);
	ram_dev_free(&rd);
}

TEST(mbr_partdev_bounds)
{
	struct ram_dev rd;
	struct hdi_mbr m;
	struct hdi_bdev_view pd;
	uint8_t s[512];
	uint64_t sz;
	CHECK_EQ(ram_dev_init(&rd, 8 * MiB, 0, 512, 0), HDI_OK);
	CHECK_EQ(hdi_mbr_read(&m, &rd.bdev, buf, sizeof buf), HDI_OK);
	CHECK_EQ(hdi_mbr_set_primary(&m, 2, 2048, 16, 0x83, false), HDI_OK);
	CHECK_EQ(hdi_mbr_write(&m, NULL), HDI_OK);
	CHECK_EQ(hdi_mbr_partdev_init(&pd, &m, 1), HDI_ENOENT);
	CHECK_EQ(hdi_mbr_partdev_init(&pd, &m, 2), HDI_OK);
	CHECK_EQ(hdi_bdev_size(&pd.bdev, &sz), HDI_OK);
	CHECK_EQ(sz, 16 * 512);
	memset(s, 0xAB, sizeof s);
	CHECK_EQ(hdi_bdev_write(&pd.bdev, 15 * 512, s, 512), HDI_OK);
	CHECK_EQ(rd.data[(2048 + 15) * 512], 0xAB);
	CHECK_EQ(hdi_bdev_write(&pd.bdev, 16 * 512, s, 512), HDI_EINVAL);
	CHECK_EQ(hdi_bdev_read(&pd.bdev, 15 * 512, s, 1024), HDI_EINVAL);
	CHECK_EQ(rd.data[(2048 + 16) * 512], 0);
	ram_dev_free(&rd);
}

/* The kernel demo's job: exactly one primary partition (2048, 4096 sectors,
 * type 0x83, not active), entries 2..4 empty, boot code and signature kept,
 * whatever the disk held before (here: a table with an extended chain). */
TEST(mbr_kernel_demo_one_primary)
{
	struct ram_dev rd;
	struct hdi_mbr m;
	uint8_t code[446];
	unsigned i;
	int r;
	CHECK_EQ(ram_dev_init(&rd, 32 * MiB, 0, 512, 0), HDI_OK);
	CHECK_EQ(hdi_mbr_read(&m, &rd.bdev, buf, sizeof buf), HDI_OK);
	build_ext(&m);
	CHECK_EQ(hdi_mbr_write(&m, NULL), HDI_OK);
	for (i = 0; i < 446; i++)
		rd.data[i] = (uint8_t)(i ^ 0x5A);
	memcpy(code, rd.data, sizeof code);
	/* the five lines */
	r = hdi_mbr_read(&m, &rd.bdev, buf, sizeof buf);
	if (!r) r = hdi_mbr_clear(&m);
	if (!r) r = hdi_mbr_set_primary(&m, 1, 2048, 4096, 0x83, false);
	if (!r) r = hdi_mbr_write(&m, NULL);
	CHECK_EQ(r, HDI_OK);
	CHECK(memcmp(rd.data, code, sizeof code) == 0);
	/* 16 heads on 32 MiB: 2048 = 2/0/33, 6143 = 6/1/33 */
	CHECK(memcmp(entry(&rd, 0, 0),
		     "\x00\x00\x21\x02\x83\x01\x21\x06\x00\x08\x00\x00\x00\x10\x00\x00", 16) == 0);
	for (i = 1; i < 4; i++) {
		static const uint8_t zero[16];
		CHECK(memcmp(entry(&rd, 0, i), zero, 16) == 0);
	}
	CHECK(rd.data[510] == 0x55 && rd.data[511] == 0xAA);
	ram_dev_free(&rd);
}

TEST(mbr_cylinder_placement)
{
	struct ram_dev rd;
	struct hdi_mbr m;
	uint32_t count, ebr, start;
	CHECK_EQ(ram_dev_init(&rd, 100 * MiB, 0, 512, 0), HDI_OK);   /* 16/63 */
	CHECK_EQ(hdi_mbr_read(&m, &rd.bdev, buf, sizeof buf), HDI_OK);
	count = 2000;
	CHECK_EQ(hdi_mbr_find_space(&m, HDI_MBR_PRIMARY, 0, 0, &count, &ebr, &start), HDI_OK);
	CHECK_EQ(start, 63);
	CHECK_EQ(hdi_mbr_set_primary(&m, 1, start, count, 0x0E, true), HDI_OK);
	count = 50000;
	CHECK_EQ(hdi_mbr_find_space(&m, HDI_MBR_PRIMARY, 0, 0, &count, &ebr, &start), HDI_OK);
	CHECK_EQ(start, 3024);                    /* next cylinder after 2062: 3 * 16 * 63 */
	CHECK_EQ(hdi_mbr_set_primary(&m, 2, start, count, 0x05, false), HDI_OK);
	count = 1000;
	CHECK_EQ(hdi_mbr_find_space(&m, HDI_MBR_LOGICAL, 0, 0, &count, &ebr, &start), HDI_OK);
	CHECK_EQ(ebr, 3024);                      /* the extended start */
	CHECK_EQ(start, 3024 + 63);               /* one track later */
	CHECK_EQ(hdi_mbr_add_logical(&m, ebr, start, count, 0x83, false), 5);
	count = 1000;
	CHECK_EQ(hdi_mbr_find_space(&m, HDI_MBR_LOGICAL, 0, 0, &count, &ebr, &start), HDI_OK);
	CHECK_EQ(ebr, 5040);                      /* next cylinder after 4086 */
	CHECK_EQ(start, 5040 + 63);
	/* count 0: everything up to the end of the free area */
	count = 0;
	CHECK_EQ(hdi_mbr_find_space(&m, HDI_MBR_PRIMARY, 2048, 0, &count, &ebr, &start), HDI_OK);
	CHECK_EQ(start, 53248);                   /* first 1 MiB multiple after 53023 */
	CHECK_EQ((uint64_t)start + count, 100u * 2048);
	/* a fixed start inside a partition is refused, outside it is taken */
	count = 10;
	CHECK_EQ(hdi_mbr_find_space(&m, HDI_MBR_PRIMARY, 0, 100, &count, &ebr, &start), HDI_ENOSPC);
	CHECK_EQ(hdi_mbr_find_space(&m, HDI_MBR_PRIMARY, 0, 60000, &count, &ebr, &start), HDI_OK);
	CHECK_EQ(start, 60000);
	CHECK_EQ(count, 10);
	CHECK_EQ(hdi_mbr_validate(&m, NULL), HDI_OK);
	ram_dev_free(&rd);
}

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* Random entries, chains and garbage: reading never fails in a way other
 * than a clear error, and whatever reads validates, places and writes
 * without touching anything out of bounds. */
TEST(mbr_random_tables)
{
	struct ram_dev rd;
	struct hdi_mbr m;
	int iter;
	const uint32_t ns = 1024;                 /* 512 KiB disk */
	CHECK_EQ(ram_dev_init(&rd, ns * 512, 0, 512, 0), HDI_OK);
	for (iter = 0; iter < 3000; iter++) {
		unsigned i, k;
		int r;
		memset(rd.data, 0, ns * 512);
		for (k = 0; k < 1 + rnd() % 8; k++) {
			uint32_t lba = k ? rnd() % ns : 0;
			uint8_t *s = rd.data + lba * 512;
			for (i = 0; i < 4; i++) {
				uint8_t *e = s + 446 + 16 * i;
				static const uint8_t types[] = { 0, 0x05, 0x0f, 0x85, 0x83, 0x0e, 0xee, 0 };
				if (rnd() % 3 == 0)
					continue;
				e[0] = rnd() % 4 ? 0 : (uint8_t)rnd();
				e[4] = types[rnd() % 8];
				{
					uint32_t st = rnd() % (ns + 64), ct = rnd() % (ns / 2);
					e[8] = (uint8_t)st; e[9] = (uint8_t)(st >> 8);
					e[12] = (uint8_t)ct; e[13] = (uint8_t)(ct >> 8);
					if (rnd() % 16 == 0)
						e[11] = 0xFF;
				}
			}
			if (rnd() % 8)
				s[510] = 0x55, s[511] = 0xAA;
		}
		r = hdi_mbr_read(&m, &rd.bdev, buf, sizeof buf);
		CHECK(r == HDI_OK || r == HDI_ECORRUPT || r == HDI_EUNSUPP);
		if (r < 0)
			continue;
		CHECK(m.nlogical <= HDI_MBR_MAX_LOGICAL);
		for (i = 1; i <= hdi_mbr_count(&m); i++)
			CHECK(hdi_mbr_get(&m, i) != NULL);
		if (m.kind == HDI_MBR_GPT) {
			CHECK_EQ(hdi_mbr_write(&m, NULL), HDI_EUNSUPP);
			continue;
		}
		if (hdi_mbr_validate(&m, NULL) == HDI_OK) {
			uint32_t count = 8, ebr, start;
			if (m.ext && hdi_mbr_find_space(&m, HDI_MBR_LOGICAL, rnd() % 3,
							0, &count, &ebr, &start) == 0)
				CHECK(hdi_mbr_add_logical(&m, ebr, start, count, 0x83, false) > 0);
			count = 0;
			if (hdi_mbr_find_space(&m, HDI_MBR_PRIMARY, rnd() % 3, 0, &count,
					       &ebr, &start) == 0) {
				for (i = 1; i <= 4 && hdi_mbr_slot_used(&m.p[i - 1]); i++)
					;
				if (i <= 4)
					hdi_mbr_set_primary(&m, i, start, count, 0x0c, false);
			}
			CHECK_EQ(hdi_mbr_write(&m, NULL), HDI_OK);
			CHECK_EQ(hdi_mbr_read(&m, &rd.bdev, buf, sizeof buf), HDI_OK);
			CHECK_EQ(hdi_mbr_validate(&m, NULL), HDI_OK);
		} else {
			uint64_t w = rd.nwrites;
			CHECK_EQ(hdi_mbr_write(&m, NULL), HDI_EINVAL);
			CHECK_EQ(rd.nwrites, w);
		}
	}
	ram_dev_free(&rd);
}
