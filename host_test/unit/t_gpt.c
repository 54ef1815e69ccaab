/* host_test/unit/t_gpt.c: the GPT core on RAM devices: layout and bytes,
 * GUID byte order, names, read back, recovery from the backup, damaged
 * arrays, hostile headers, power cuts at every write, 4Kn, resize. */
#include "unit.h"
#include "dev_ram.h"
#include "hdi/gpt.h"
#include "hdi/crc32.h"
#include <stdlib.h>
#include <string.h>

#define MiB (1024u * 1024u)
#define MAXP 256u

static uint8_t buf[HDI_GPT_BUF_MAX];
static struct hdi_gpt_part parts[MAXP], parts2[MAXP];

/* A deterministic GUID source: a counter in every byte. */
static int seq_guid(void *ctx, struct hdi_guid *g)
{
	unsigned *n = ctx, i;
	(*n)++;
	for (i = 0; i < 16; i++)
		g->b[i] = (uint8_t)(*n * 37u + i);
	hdi_guid_make_v4(g);
	return HDI_OK;
}

static uint64_t ld64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;
	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}
static uint32_t ld32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static struct hdi_guid guid(const char *s)
{
	struct hdi_guid g;
	memset(&g, 0, sizeof g);
	hdi_guid_from_str(&g, s);
	return g;
}

#define LINUX "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
#define ESP   "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"

/* Three partitions on a fresh table, written. */
static void build3(struct ram_dev *rd, struct hdi_gpt *g, uint32_t sector,
		   unsigned *ctr)
{
	struct hdi_guid esp = guid(ESP), lin = guid(LINUX);
	CHECK_EQ(hdi_gpt_new(g, &rd->bdev, sector, buf, sizeof buf, parts, MAXP,
			     0, 0, NULL, seq_guid, ctr), HDI_OK);
	CHECK_EQ(hdi_gpt_add(g, 0, 2048, 4095, &esp, NULL), 1);
	CHECK_EQ(hdi_gpt_add(g, 3, 8192, 10239, &lin, NULL), 3);
	CHECK_EQ(hdi_gpt_add(g, 0, 4096, 8191, &lin, NULL), 2);
	CHECK_EQ(hdi_gpt_name_from_utf8(hdi_gpt_find(g, 2)->name, "root \xc3\xa9"), HDI_OK);
	hdi_gpt_find(g, 3)->attrs = HDI_GPT_ATTR_LEGACY_BOOT | (1ull << 60);
	CHECK_EQ(hdi_gpt_write(g, NULL), HDI_OK);
}

TEST(gpt_guid_text_and_bytes)
{
	struct hdi_guid g;
	char s[37];
	static const uint8_t want[16] = { 0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8,
		0xD2, 0x11, 0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9, 0x3B };
	CHECK_EQ(hdi_guid_from_str(&g, "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"), HDI_OK);
	CHECK(memcmp(g.b, want, 16) == 0);
	hdi_guid_to_str(&g, s);
	CHECK(strcmp(s, ESP) == 0);
	CHECK_EQ(hdi_guid_from_str(&g, "C12A7328-F81F-11D2-BA4B-00A0C93EC93"), HDI_EINVAL);
	CHECK_EQ(hdi_guid_from_str(&g, "C12A7328-F81F-11D2-BA4B-00A0C93EC93BB"), HDI_EINVAL);
	CHECK_EQ(hdi_guid_from_str(&g, "C12A7328xF81F-11D2-BA4B-00A0C93EC93B"), HDI_EINVAL);
	CHECK_EQ(hdi_guid_from_str(&g, "G12A7328-F81F-11D2-BA4B-00A0C93EC93B"), HDI_EINVAL);
	CHECK(hdi_gpt_type_by_guid(&g) != NULL);
	CHECK(strcmp(hdi_gpt_type_by_guid(&g)->name, "EFI System") == 0);
}

TEST(gpt_names_utf16)
{
	uint16_t n[HDI_GPT_NAME_LEN];
	char out[HDI_GPT_NAME_UTF8_MAX];
	const char *s36 = "abcdefghijklmnopqrstuvwxyz0123456789";
	CHECK_EQ(hdi_gpt_name_from_utf8(n, s36), HDI_OK);
	hdi_gpt_name_to_utf8(n, out);
	CHECK(strcmp(out, s36) == 0);
	CHECK_EQ(hdi_gpt_name_from_utf8(n, "abcdefghijklmnopqrstuvwxyz0123456789x"), HDI_EINVAL);
	/* U+1F600 takes a surrogate pair. */
	CHECK_EQ(hdi_gpt_name_from_utf8(n, "\xf0\x9f\x98\x80 \xc3\xa9"), HDI_OK);
	CHECK_EQ(n[0], 0xD83D);
	CHECK_EQ(n[1], 0xDE00);
	CHECK_EQ(n[3], 0xE9);
	hdi_gpt_name_to_utf8(n, out);
	CHECK(strcmp(out, "\xf0\x9f\x98\x80 \xc3\xa9") == 0);
	CHECK_EQ(hdi_gpt_name_from_utf8(n, "\xc3"), HDI_EINVAL);
	CHECK_EQ(hdi_gpt_name_from_utf8(n, "\xed\xa0\x80"), HDI_EINVAL);
}

TEST(gpt_write_layout_bytes)
{
	struct ram_dev rd;
	struct hdi_gpt g;
	unsigned ctr = 0, i;
	const uint8_t *h, *bh, *e;
	uint64_t n = 100 * MiB / 512;
	CHECK_EQ(ram_dev_init(&rd, 100 * MiB, 0, 512, 0), HDI_OK);
	for (i = 0; i < 440; i++)
		rd.data[i] = (uint8_t)(i * 7 + 1);
	build3(&rd, &g, 512, &ctr);
	for (i = 0; i < 440; i++)
		CHECK_EQ(rd.data[i], (uint8_t)(i * 7 + 1));
	/* protective MBR */
	CHECK_EQ(rd.data[446 + 4], 0xEE);
	CHECK_EQ(ld32(rd.data + 446 + 8), 1);
	CHECK_EQ(ld32(rd.data + 446 + 12), n - 1);
	CHECK(rd.data[510] == 0x55 && rd.data[511] == 0xAA);
	CHECK_EQ(ld32(rd.data + 440), 0);
	/* primary header */
	h = rd.data + 512;
	CHECK(memcmp(h, "EFI PART", 8) == 0);
	CHECK_EQ(ld32(h + 8), 0x10000);
	CHECK_EQ(ld32(h + 12), 92);
	CHECK_EQ(ld64(h + 24), 1);
	CHECK_EQ(ld64(h + 32), n - 1);
	CHECK_EQ(ld64(h + 40), 34);
	CHECK_EQ(ld64(h + 48), n - 34);
	CHECK_EQ(ld64(h + 72), 2);
	CHECK_EQ(ld32(h + 80), 128);
	CHECK_EQ(ld32(h + 84), 128);
	CHECK_EQ(ld32(h + 88), hdi_crc32(0, rd.data + 1024, 128 * 128));
	{
		uint8_t t[92];
		memcpy(t, h, 92);
		memset(t + 16, 0, 4);
		CHECK_EQ(ld32(h + 16), hdi_crc32(0, t, 92));
	}
	/* backup header and array */
	bh = rd.data + (n - 1) * 512;
	CHECK(memcmp(bh, "EFI PART", 8) == 0);
	CHECK_EQ(ld64(bh + 24), n - 1);
	CHECK_EQ(ld64(bh + 32), 1);
	CHECK_EQ(ld64(bh + 72), n - 33);
	CHECK(memcmp(rd.data + 1024, rd.data + (n - 33) * 512, 128 * 128) == 0);
	/* entry 3 (slot 2) */
	e = rd.data + 1024 + 2 * 128;
	CHECK_EQ(ld64(e + 32), 8192);
	CHECK_EQ(ld64(e + 40), 10239);
	CHECK_EQ(ld64(e + 48), (1ull << 60) | 4);
	CHECK(e[0] == 0xAF && e[1] == 0x3D && e[2] == 0xC6 && e[3] == 0x0F);
	/* name of entry 2: UTF-16LE */
	e = rd.data + 1024 + 128;
	CHECK(e[56] == 'r' && e[57] == 0 && e[66] == 0xE9 && e[67] == 0 && e[68] == 0);
	ram_dev_free(&rd);
}

TEST(gpt_read_back)
{
	struct ram_dev rd;
	struct hdi_gpt g, g2;
	unsigned ctr = 0, i;
	char name[HDI_GPT_NAME_UTF8_MAX];
	CHECK_EQ(ram_dev_init(&rd, 64 * MiB, 0, 512, 0), HDI_OK);
	build3(&rd, &g, 512, &ctr);
	CHECK_EQ(hdi_gpt_read(&g2, &rd.bdev, 512, buf, sizeof buf, parts2, MAXP), HDI_OK);
	CHECK_EQ(g2.kind, HDI_GPT_VALID);
	CHECK_EQ(g2.status, 0);
	CHECK_EQ(g2.nparts, 3);
	CHECK(hdi_guid_eq(&g2.disk_guid, &g.disk_guid));
	for (i = 0; i < 3; i++) {
		CHECK_EQ(g2.parts[i].slot, i);
		CHECK_EQ(g2.parts[i].first, g.parts[i].first);
		CHECK_EQ(g2.parts[i].last, g.parts[i].last);
		CHECK_EQ(g2.parts[i].attrs, g.parts[i].attrs);
		CHECK(hdi_guid_eq(&g2.parts[i].uuid, &g.parts[i].uuid));
		CHECK(hdi_guid_eq(&g2.parts[i].type, &g.parts[i].type));
	}
	hdi_gpt_name_to_utf8(hdi_gpt_find(&g2, 2)->name, name);
	CHECK(strcmp(name, "root \xc3\xa9") == 0);
	CHECK(hdi_gpt_find(&g2, 4) == NULL);
	/* a blank disk has no GPT; an MBR disk neither */
	memset(rd.data, 0, rd.size);
	CHECK_EQ(hdi_gpt_read(&g2, &rd.bdev, 512, buf, sizeof buf, parts2, MAXP), HDI_OK);
	CHECK_EQ(g2.kind, HDI_GPT_NONE);
	/* too little storage for the parts */
	build3(&rd, &g, 512, &ctr);
	CHECK_EQ(hdi_gpt_read(&g2, &rd.bdev, 512, buf, sizeof buf, parts2, 2), HDI_ENOMEM);
	CHECK_EQ(hdi_gpt_read(&g2, &rd.bdev, 512, buf, 100, parts2, MAXP), HDI_ENOMEM);
	ram_dev_free(&rd);
}

TEST(gpt_recovery_from_backup)
{
	struct ram_dev rd;
	struct hdi_gpt g, g2;
	unsigned ctr = 0;
	uint8_t orig[512];
	uint64_t last = 64 * MiB / 512 - 1;
	CHECK_EQ(ram_dev_init(&rd, 64 * MiB, 0, 512, 0), HDI_OK);
	build3(&rd, &g, 512, &ctr);
	memcpy(orig, rd.data + 512, 512);
	/* damaged primary header: the backup is used, and a write repairs */
	rd.data[512 + 60] ^= 1;
	CHECK_EQ(hdi_gpt_read(&g2, &rd.bdev, 512, buf, sizeof buf, parts2, MAXP), HDI_OK);
	CHECK(g2.status & HDI_GPT_S_PRIMARY_BAD);
	CHECK(g2.status & HDI_GPT_S_USED_BACKUP);
	CHECK_EQ(g2.nparts, 3);
	CHECK_EQ(g2.parts[2].first, 8192);
	CHECK_EQ(hdi_gpt_write(&g2, NULL), HDI_OK);
	CHECK(memcmp(orig, rd.data + 512, 512) == 0);
	CHECK_EQ(hdi_gpt_read(&g2, &rd.bdev, 512, buf, sizeof buf, parts2, MAXP), HDI_OK);
	CHECK_EQ(g2.status, 0);
	/* damaged primary array: reported, backup used */
	rd.data[1024 + 200] ^= 0x40;
	CHECK_EQ(hdi_gpt_read(&g2, &rd.bdev, 512, buf, sizeof buf, parts2, MAXP), HDI_OK);
	CHECK(g2.status & HDI_GPT_S_PRIMARY_ARRAY);
	CHECK(g2.status & HDI_GPT_S_USED_BACKUP);
	CHECK(!(g2.status & HDI_GPT_S_PRIMARY_BAD));
	rd.data[1024 + 200] ^= 0x40;
	/* damaged backup array: primary used, backup reported */
	rd.data[(last - 32) * 512 + 5] ^= 1;
	CHECK_EQ(hdi_gpt_read(&g2, &rd.bdev, 512, buf, sizeof buf, parts2, MAXP), HDI_OK);
	CHECK_EQ(g2.status, HDI_GPT_S_BACKUP_ARRAY | HDI_GPT_S_BACKUP_BAD);
	/* both damaged: corrupt, never a made-up table */
	rd.data[512 + 60] ^= 1;
	CHECK_EQ(hdi_gpt_read(&g2, &rd.bdev, 512, buf, sizeof buf, parts2, MAXP), HDI_ECORRUPT);
	CHECK(g2.status & HDI_GPT_S_PRIMARY_BAD);
	CHECK(g2.status & HDI_GPT_S_BACKUP_BAD);
	ram_dev_free(&rd);
}

TEST(gpt_validate_refusals)
{
	struct ram_dev rd;
	struct hdi_gpt g;
	struct hdi_gpt_problem why;
	struct hdi_guid lin = guid(LINUX);
	unsigned ctr = 0;
	uint8_t *copy;
	CHECK_EQ(ram_dev_init(&rd, 16 * MiB, 0, 512, 0), HDI_OK);
	build3(&rd, &g, 512, &ctr);
	copy = malloc(rd.size);
	memcpy(copy, rd.data, rd.size);
	CHECK_EQ(hdi_gpt_add(&g, 0, 9000, 9100, &lin, NULL), 4);
	CHECK_EQ(hdi_gpt_write(&g, &why), HDI_EINVAL);
	CHECK_EQ(why.code, HDI_GPT_P_OVERLAP);
	CHECK(why.a == 3 && why.b == 4);
	hdi_gpt_find(&g, 4)->first = 20;
	hdi_gpt_find(&g, 4)->last = 100;
	CHECK_EQ(hdi_gpt_write(&g, &why), HDI_EINVAL);
	CHECK_EQ(why.code, HDI_GPT_P_OUTSIDE);
	hdi_gpt_find(&g, 4)->first = 20000;
	hdi_gpt_find(&g, 4)->last = 40000;
	CHECK_EQ(hdi_gpt_write(&g, &why), HDI_EINVAL);
	CHECK_EQ(why.code, HDI_GPT_P_OUTSIDE);
	hdi_gpt_find(&g, 4)->first = 20001;
	hdi_gpt_find(&g, 4)->last = 20000;
	CHECK_EQ(hdi_gpt_write(&g, &why), HDI_EINVAL);
	CHECK_EQ(why.code, HDI_GPT_P_EMPTY_RANGE);
	hdi_gpt_find(&g, 4)->last = 20001;
	hdi_gpt_find(&g, 4)->uuid = hdi_gpt_find(&g, 1)->uuid;
	CHECK_EQ(hdi_gpt_write(&g, &why), HDI_EINVAL);
	CHECK_EQ(why.code, HDI_GPT_P_DUP_UUID);
	CHECK(memcmp(copy, rd.data, rd.size) == 0);
	CHECK_EQ(hdi_gpt_add(&g, 129, 30000, 30001, &lin, NULL), HDI_EINVAL);
	CHECK_EQ(hdi_gpt_add(&g, 1, 30000, 30001, &lin, NULL), HDI_EBUSY);
	CHECK_EQ(hdi_gpt_delete(&g, 7), HDI_ENOENT);
	free(copy);
	ram_dev_free(&rd);
}

TEST(gpt_find_space)
{
	struct ram_dev rd;
	struct hdi_gpt g;
	unsigned ctr = 0;
	uint64_t count, start;
	CHECK_EQ(ram_dev_init(&rd, 16 * MiB, 0, 512, 0), HDI_OK);
	build3(&rd, &g, 512, &ctr);
	count = 2048;
	CHECK_EQ(hdi_gpt_find_space(&g, 2048, 0, &count, &start), HDI_OK);
	CHECK_EQ(start, 10240);
	count = 0;
	CHECK_EQ(hdi_gpt_find_space(&g, 1, 0, &count, &start), HDI_OK);
	CHECK_EQ(start, 34);
	CHECK_EQ(count, 2048 - 34);
	count = 0;
	CHECK_EQ(hdi_gpt_find_space(&g, 2048, 10240, &count, &start), HDI_OK);
	CHECK_EQ(count, g.last_usable - 10240 + 1);
	count = 1;
	CHECK_EQ(hdi_gpt_find_space(&g, 1, 5000, &count, &start), HDI_ENOSPC);
	count = 40000;
	CHECK_EQ(hdi_gpt_find_space(&g, 2048, 0, &count, &start), HDI_ENOSPC);
	ram_dev_free(&rd);
}

TEST(gpt_resize_relocates_backup)
{
	struct ram_dev rd;
	struct hdi_gpt g, g2;
	unsigned ctr = 0;
	uint64_t n2 = 32 * MiB / 512;
	CHECK_EQ(ram_dev_init(&rd, 16 * MiB, 32 * MiB, 512, 0), HDI_OK);
	build3(&rd, &g, 512, &ctr);
	CHECK_EQ(hdi_bdev_ensure_size(&rd.bdev, 32 * MiB), HDI_OK);
	CHECK_EQ(hdi_gpt_read(&g2, &rd.bdev, 512, buf, sizeof buf, parts2, MAXP), HDI_OK);
	CHECK(g2.status & HDI_GPT_S_BACKUP_NOT_END);
	CHECK(g2.status & HDI_GPT_S_PMBR_SIZE);
	CHECK_EQ(hdi_gpt_set_disk_sectors(&g2, n2), HDI_OK);
	CHECK_EQ(g2.last_usable, n2 - 34);
	CHECK_EQ(hdi_gpt_write(&g2, NULL), HDI_OK);
	CHECK_EQ(hdi_gpt_read(&g2, &rd.bdev, 512, buf, sizeof buf, parts2, MAXP), HDI_OK);
	CHECK_EQ(g2.status, 0);
	CHECK_EQ(g2.alt_lba, n2 - 1);
	/* a shrink that cuts partition 3 (ends at 10239) is refused */
	CHECK_EQ(hdi_gpt_set_disk_sectors(&g2, 10240), HDI_EINVAL);
	CHECK_EQ(g2.alt_lba, n2 - 1);
	CHECK_EQ(hdi_gpt_set_disk_sectors(&g2, 10239 + 34), HDI_OK);
	CHECK_EQ(g2.last_usable, 10239);
	CHECK_EQ(hdi_gpt_write(&g2, NULL), HDI_OK);
	rd.size = (10239 + 34) * 512;
	CHECK_EQ(hdi_gpt_read(&g2, &rd.bdev, 512, buf, sizeof buf, parts2, MAXP), HDI_OK);
	CHECK_EQ(g2.status, 0);
	CHECK_EQ(g2.nparts, 3);
	ram_dev_free(&rd);
}

TEST(gpt_4kn_and_big_granule)
{
	struct ram_dev rd;
	struct hdi_gpt g, g2;
	unsigned ctr = 0;
	uint64_t n = 64 * MiB / 4096;
	uint32_t gran;
	for (gran = 512; gran <= 4096; gran *= 8) {
		CHECK_EQ(ram_dev_init(&rd, 64 * MiB, 0, gran, 0), HDI_OK);
		build3(&rd, &g, 4096, &ctr);
		CHECK_EQ(g.first_usable, 6);    /* 128 entries fill 4 sectors */
		CHECK_EQ(g.alt_lba, n - 1);
		CHECK(memcmp(rd.data + 4096, "EFI PART", 8) == 0);
		CHECK(memcmp(rd.data + (n - 1) * 4096, "EFI PART", 8) == 0);
		CHECK_EQ(ld32(rd.data + 446 + 12), n - 1);
		CHECK_EQ(hdi_gpt_read(&g2, &rd.bdev, 4096, buf, sizeof buf, parts2, MAXP), HDI_OK);
		CHECK_EQ(g2.nparts, 3);
		CHECK_EQ(g2.status, 0);
		/* read as 512-byte sectors it is not a GPT */
		CHECK_EQ(hdi_gpt_read(&g2, &rd.bdev, 512, buf, sizeof buf, parts2, MAXP), HDI_ECORRUPT);
		ram_dev_free(&rd);
	}
	/* 512-byte sectors through a 4096-byte granule (bounce) */
	CHECK_EQ(ram_dev_init(&rd, 16 * MiB, 0, 4096, 0), HDI_OK);
	build3(&rd, &g, 512, &ctr);
	CHECK_EQ(hdi_gpt_read(&g2, &rd.bdev, 512, buf, sizeof buf, parts2, MAXP), HDI_OK);
	CHECK_EQ(g2.nparts, 3);
	ram_dev_free(&rd);
}

TEST(gpt_partdev_window)
{
	struct ram_dev rd;
	struct hdi_gpt g;
	struct hdi_bdev_view v;
	unsigned ctr = 0;
	uint8_t s[512];
	uint64_t sz;
	CHECK_EQ(ram_dev_init(&rd, 16 * MiB, 0, 512, 0), HDI_OK);
	build3(&rd, &g, 512, &ctr);
	CHECK_EQ(hdi_gpt_partdev_init(&v, &g, 4), HDI_ENOENT);
	CHECK_EQ(hdi_gpt_partdev_init(&v, &g, 3), HDI_OK);
	CHECK_EQ(hdi_bdev_size(&v.bdev, &sz), HDI_OK);
	CHECK_EQ(sz, 2048 * 512);
	memset(s, 0xA5, sizeof s);
	CHECK_EQ(hdi_bdev_write(&v.bdev, 2047 * 512, s, 512), HDI_OK);
	CHECK_EQ(rd.data[10239 * 512], 0xA5);
	CHECK_EQ(hdi_bdev_write(&v.bdev, 2048 * 512, s, 512), HDI_EINVAL);
	CHECK_EQ(rd.data[10240 * 512], 0);
	ram_dev_free(&rd);
}

/* Same table? (start, end, slot of every part) */
static int same_parts(const struct hdi_gpt *a, const struct hdi_gpt *b)
{
	uint32_t i;
	if (a->nparts != b->nparts)
		return 0;
	for (i = 0; i < a->nparts; i++)
		if (a->parts[i].first != b->parts[i].first ||
		    a->parts[i].last != b->parts[i].last ||
		    a->parts[i].slot != b->parts[i].slot ||
		    a->parts[i].attrs != b->parts[i].attrs)
			return 0;
	return 1;
}

/* A power cut after every write of an update (and a torn or reordered
 * tail of pending writes) leaves a disk that reads as the old table or
 * the new one, from a header whose array checks. */
TEST(gpt_power_cut_every_write)
{
	static struct hdi_gpt_part oldp[MAXP], newp[MAXP];
	struct hdi_gpt old, neu, g;
	struct hdi_guid lin = guid(LINUX);
	unsigned ctr = 0, mode, cut, total = 0, bad = 0;
	for (mode = 0; mode < 3; mode++) {
		for (cut = 1; ; cut++) {
			struct ram_dev rd;
			int r, done;
			CHECK_EQ(ram_dev_init(&rd, 8 * MiB, 16 * MiB, 512, 1), HDI_OK);
			build3(&rd, &g, 512, &ctr);
			ram_dev_power_cycle(&rd, 0, 0);
			CHECK_EQ(hdi_gpt_read(&old, &rd.bdev, 512, buf, sizeof buf, oldp, MAXP), HDI_OK);
			memcpy(parts, oldp, sizeof parts);
			CHECK_EQ(hdi_gpt_read(&g, &rd.bdev, 512, buf, sizeof buf, parts, MAXP), HDI_OK);
			hdi_gpt_delete(&g, 1);
			hdi_gpt_add(&g, 5, 12000, 13000, &lin, NULL);
			hdi_gpt_find(&g, 2)->attrs |= 1;
			if (mode == 2) {
				/* and a grow: the backup moves */
				CHECK_EQ(hdi_bdev_ensure_size(&rd.bdev, 12 * MiB), HDI_OK);
				CHECK_EQ(hdi_gpt_set_disk_sectors(&g, 12 * MiB / 512), HDI_OK);
			}
			neu = g;
			memcpy(newp, g.parts, sizeof newp);
			neu.parts = newp;
			rd.cut_after_writes = rd.nwrites + cut;
			r = hdi_gpt_write(&g, NULL);
			done = r == HDI_OK;
			ram_dev_power_cycle(&rd, mode, cut * 31u + mode);
			r = hdi_gpt_read(&g, &rd.bdev, 512, buf, sizeof buf, parts, MAXP);
			total++;
			if (r != HDI_OK || g.kind != HDI_GPT_VALID ||
			    !(same_parts(&g, &old) || same_parts(&g, &neu))) {
				bad++;
				printf("# gpt power cut: mode %u cut %u: r=%d status %x\n",
				       mode, cut, r, g.status);
			}
			if (done && same_parts(&g, &neu) == 0 && r == HDI_OK) {
				bad++;
				printf("# gpt power cut: mode %u: completed write not durable\n", mode);
			}
			ram_dev_free(&rd);
			if (done || cut > 200)
				break;
		}
	}
	CHECK(total > 60);
	CHECK_EQ(bad, 0);
}

/* Hostile headers with valid CRCs: absurd sizes and counts, arrays past
 * the end or over the header, usable ranges past the disk. Never a crash;
 * an error or a table that validates or is refused. */
TEST(gpt_hostile_headers)
{
	struct ram_dev rd;
	struct hdi_gpt g;
	unsigned ctr = 0, i, k;
	static const struct { unsigned off, size; uint64_t v; } muts[] = {
		{ 12, 4, 0 }, { 12, 4, 91 }, { 12, 4, 513 }, { 12, 4, 0xFFFFFFFF },
		{ 24, 8, 2 }, { 32, 8, 1 }, { 32, 8, 0 }, { 32, 8, UINT64_MAX },
		{ 40, 8, 0 }, { 40, 8, 1 }, { 40, 8, UINT64_MAX }, { 48, 8, UINT64_MAX },
		{ 48, 8, 0 }, { 72, 8, 0 }, { 72, 8, 1 }, { 72, 8, UINT64_MAX },
		{ 72, 8, 32767 }, { 80, 4, 0 }, { 80, 4, 0xFFFFFFFF },
		{ 80, 4, 65536 }, { 80, 4, 65537 }, { 84, 4, 0 }, { 84, 4, 1 },
		{ 84, 4, 127 }, { 84, 4, 256 }, { 84, 4, 1024 }, { 84, 4, 0x80000000 },
		{ 84, 4, 0xFFFFFFFF }, { 88, 4, 0 },
	};
	CHECK_EQ(ram_dev_init(&rd, 16 * MiB, 0, 512, 0), HDI_OK);
	for (k = 0; k < 2; k++) {
		for (i = 0; i < sizeof muts / sizeof muts[0]; i++) {
			uint8_t *h;
			unsigned j, hs;
			int r;
			memset(rd.data, 0, rd.size);
			build3(&rd, &g, 512, &ctr);
			/* k = 1: the backup is damaged too, so only the hostile
			 * primary is left */
			if (k)
				rd.data[rd.size - 512] ^= 1;
			h = rd.data + 512;
			for (j = 0; j < muts[i].size; j++)
				h[muts[i].off + j] = (uint8_t)(muts[i].v >> (8 * j));
			hs = ld32(h + 12) >= 92 && ld32(h + 12) <= 512 ? ld32(h + 12) : 92;
			memset(h + 16, 0, 4);
			{
				uint32_t c = hdi_crc32(0, h, hs);
				h[16] = (uint8_t)c; h[17] = (uint8_t)(c >> 8);
				h[18] = (uint8_t)(c >> 16); h[19] = (uint8_t)(c >> 24);
			}
			r = hdi_gpt_read(&g, &rd.bdev, 512, buf, sizeof buf, parts, MAXP);
			CHECK(r == HDI_OK || r == HDI_ECORRUPT || r == HDI_ENOMEM);
			if (r == HDI_OK && g.kind == HDI_GPT_VALID) {
				uint64_t c = 0, s;
				hdi_gpt_validate(&g, NULL);
				hdi_gpt_find_space(&g, 2048, 0, &c, &s);
			}
		}
	}
	ram_dev_free(&rd);
}
