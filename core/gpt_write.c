/* core/gpt_write.c: validating a GPT in memory and writing it: backup
 * array and header, primary array and header, protective MBR, in that
 * order with a flush after each; wiping the headers. */
#include "gpt_int.h"

#if HDI_CONFIG_GPT && !HDI_CONFIG_READONLY

int hdi_gpt_sec_write(const struct hdi_gpt *g, uint64_t lba)
{
	uint64_t off;
	if (!hdi_mul_ok(lba, g->sector, &off))
		return HDI_EINVAL;
	if (g->dev->granule <= g->sector)
		return hdi_bdev_write(g->dev, off, g->buf, g->sector);
	return hdi_bdev_pwrite(g->dev, off, g->buf, g->sector, g->buf + g->sector);
}

void hdi_gpt_entry_store(uint8_t *e, const struct hdi_gpt_part *p)
{
	unsigned i;
	memcpy(e + HDI_GPT_E_TYPE, p->type.b, 16);
	memcpy(e + HDI_GPT_E_UUID, p->uuid.b, 16);
	hdi_gpt_st64(e + HDI_GPT_E_FIRST, p->first);
	hdi_gpt_st64(e + HDI_GPT_E_LAST, p->last);
	hdi_gpt_st64(e + HDI_GPT_E_ATTRS, p->attrs);
	for (i = 0; i < HDI_GPT_NAME_LEN; i++)
		hdi_st_le16(e + HDI_GPT_E_NAME + 2 * i, p->name[i]);
}

static int problem(struct hdi_gpt_problem *why, int code, unsigned a,
		   unsigned b)
{
	if (why) {
		why->code = code;
		why->a = a;
		why->b = b;
	}
	return code ? HDI_EINVAL : HDI_OK;
}

const char *hdi_gpt_problem_str(int code)
{
	switch (code) {
	case HDI_GPT_OK: return "valid";
	case HDI_GPT_P_EMPTY_RANGE: return "partition %a ends before it starts";
	case HDI_GPT_P_OUTSIDE: return "partition %a is outside the usable sectors (first-lba..last-lba)";
	case HDI_GPT_P_OVERLAP: return "partitions %a and %b overlap";
	case HDI_GPT_P_SLOT: return "partition %a is beyond the table length";
	case HDI_GPT_P_TYPE0: return "partition %a has the all-zero type GUID (unused)";
	case HDI_GPT_P_DUP_UUID: return "partitions %a and %b have the same unique GUID";
	case HDI_GPT_P_LAYOUT: return "the table does not fit the disk (entry arrays, usable range, backup header)";
	case HDI_GPT_P_ENTRY_SIZE: return "entries are not 128 bytes; such a table is not rewritten";
	case HDI_GPT_P_NO_TABLE: return "there is no GPT to write";
	default: return "invalid GPT";
	}
}

static bool layout_ok(const struct hdi_gpt *g)
{
	uint64_t asec = hdi_gpt_array_sectors(g), e1, e2;
	return g->nentries >= 1 && g->nentries <= HDI_GPT_MAX_ENTRIES &&
	       g->array_lba >= 2 && hdi_add_ok(g->array_lba, asec, &e1) &&
	       e1 <= g->first_usable && g->first_usable <= g->last_usable &&
	       g->last_usable < g->alt_array_lba &&
	       hdi_add_ok(g->alt_array_lba, asec, &e2) && e2 <= g->alt_lba &&
	       g->alt_lba < g->disk_sectors;
}

static int check_part(const struct hdi_gpt *g, const struct hdi_gpt_part *p,
		      struct hdi_gpt_problem *why)
{
	unsigned n = p->slot + 1u;
	if (p->slot >= g->nentries)
		return problem(why, HDI_GPT_P_SLOT, n, 0);
	if (hdi_guid_is_zero(&p->type))
		return problem(why, HDI_GPT_P_TYPE0, n, 0);
	if (p->first > p->last)
		return problem(why, HDI_GPT_P_EMPTY_RANGE, n, 0);
	if (p->first < g->first_usable || p->last > g->last_usable)
		return problem(why, HDI_GPT_P_OUTSIDE, n, 0);
	return HDI_OK;
}

int hdi_gpt_validate(const struct hdi_gpt *g, struct hdi_gpt_problem *why)
{
	uint32_t i, j;
	int r;
	if (g->kind != HDI_GPT_VALID)
		return problem(why, HDI_GPT_P_NO_TABLE, 0, 0);
	if (g->entry_size != HDI_GPT_ENTRY_SIZE)
		return problem(why, HDI_GPT_P_ENTRY_SIZE, 0, 0);
	if (!layout_ok(g))
		return problem(why, HDI_GPT_P_LAYOUT, 0, 0);
	for (i = 0; i < g->nparts; i++) {
		const struct hdi_gpt_part *p = &g->parts[i];
		if ((r = check_part(g, p, why)) < 0)
			return r;
		for (j = 0; j < i; j++) {
			const struct hdi_gpt_part *q = &g->parts[j];
			if (q->first <= p->last && p->first <= q->last)
				return problem(why, HDI_GPT_P_OVERLAP, q->slot + 1u,
					       p->slot + 1u);
			if (hdi_guid_eq(&q->uuid, &p->uuid))
				return problem(why, HDI_GPT_P_DUP_UUID, q->slot + 1u,
					       p->slot + 1u);
		}
	}
	return problem(why, HDI_GPT_OK, 0, 0);
}

/* ---- writing ------------------------------------------------------------------ */

/* Builds array sector k in g->buf; *next is the first part not yet placed
 * (parts are sorted by slot). Returns the bytes of the array in it. */
static uint32_t build_array_sector(struct hdi_gpt *g, uint64_t k, uint32_t *next)
{
	uint32_t per = g->sector / HDI_GPT_ENTRY_SIZE;
	uint64_t first = k * per, total = (uint64_t)g->nentries * HDI_GPT_ENTRY_SIZE;
	memset(g->buf, 0, g->sector);
	while (*next < g->nparts && g->parts[*next].slot < first + per) {
		const struct hdi_gpt_part *p = &g->parts[*next];
		hdi_gpt_entry_store(g->buf + (p->slot - first) * HDI_GPT_ENTRY_SIZE, p);
		(*next)++;
	}
	return (uint32_t)hdi_min64(g->sector, total - k * g->sector);
}

/* Writes the array at lba (when write) and returns its CRC in *crc. */
static int put_array(struct hdi_gpt *g, uint64_t lba, bool write, uint32_t *crc)
{
	uint64_t k, asec = hdi_gpt_array_sectors(g);
	uint32_t next = 0, c = 0, len;
	int r;
	for (k = 0; k < asec; k++) {
		len = build_array_sector(g, k, &next);
		c = hdi_crc32(c, g->buf, len);
		if (write && (r = hdi_gpt_sec_write(g, lba + k)) < 0)
			return r;
	}
	*crc = c;
	return write ? hdi_bdev_flush(g->dev) : HDI_OK;
}

static int put_header(struct hdi_gpt *g, bool primary, uint32_t array_crc)
{
	uint8_t *b = g->buf;
	uint64_t my = primary ? 1u : g->alt_lba;
	int r;
	memset(b, 0, g->sector);
	memcpy(b + HDI_GPT_H_SIG, HDI_GPT_SIG, 8);
	hdi_st_le32(b + HDI_GPT_H_REVISION, HDI_GPT_REVISION);
	hdi_st_le32(b + HDI_GPT_H_SIZE, HDI_GPT_HEADER_SIZE);
	hdi_gpt_st64(b + HDI_GPT_H_MY_LBA, my);
	hdi_gpt_st64(b + HDI_GPT_H_ALT_LBA, primary ? g->alt_lba : 1u);
	hdi_gpt_st64(b + HDI_GPT_H_FIRST_USABLE, g->first_usable);
	hdi_gpt_st64(b + HDI_GPT_H_LAST_USABLE, g->last_usable);
	memcpy(b + HDI_GPT_H_DISK_GUID, g->disk_guid.b, 16);
	hdi_gpt_st64(b + HDI_GPT_H_ARRAY_LBA, primary ? g->array_lba : g->alt_array_lba);
	hdi_st_le32(b + HDI_GPT_H_NENTRIES, g->nentries);
	hdi_st_le32(b + HDI_GPT_H_ENTRY_SIZE, HDI_GPT_ENTRY_SIZE);
	hdi_st_le32(b + HDI_GPT_H_ARRAY_CRC, array_crc);
	hdi_st_le32(b + HDI_GPT_H_CRC, hdi_crc32(0, b, HDI_GPT_HEADER_SIZE));
	if ((r = hdi_gpt_sec_write(g, my)) < 0)
		return r;
	return hdi_bdev_flush(g->dev);
}

/* The protective MBR: one 0xEE entry from LBA 1 to min(last, 2^32-1).
 * Boot code stays; a hybrid MBR (other entries too) is left alone. */
static int put_pmbr(struct hdi_gpt *g)
{
	uint8_t *b = g->buf, *ee = 0;
	uint32_t want = (uint32_t)hdi_min64(g->disk_sectors - 1u, 0xFFFFFFFFu);
	bool magic, other = false;
	unsigned i;
	int r = hdi_gpt_sec_read(g, 0);
	if (r < 0)
		return r;
	magic = b[510] == 0x55 && b[511] == 0xAA;
	for (i = 0; magic && i < 4; i++) {
		uint8_t *e = b + 446 + 16 * i;
		if (e[4] == 0xEE && !ee)
			ee = e;
		else if (e[4] || hdi_ld_le32(e + 12))
			other = true;
	}
	if (ee && other)
		return HDI_OK;
	if (ee && hdi_ld_le32(ee + 8) == 1u && hdi_ld_le32(ee + 12) == want)
		return HDI_OK;
	if (!ee) {
		memset(b + 440, 0, 72);
		ee = b + 446;
	}
	memset(ee, 0, 16);
	ee[2] = 0x02;                      /* CHS 0/0/2: LBA 1 */
	ee[4] = 0xEE;
	ee[5] = ee[6] = ee[7] = 0xFF;      /* CHS past the BIOS limit */
	hdi_st_le32(ee + 8, 1u);
	hdi_st_le32(ee + 12, want);
	b[510] = 0x55;
	b[511] = 0xAA;
	if ((r = hdi_gpt_sec_write(g, 0)) < 0)
		return r;
	return hdi_bdev_flush(g->dev);
}

int hdi_gpt_write(struct hdi_gpt *g, struct hdi_gpt_problem *why)
{
	uint64_t bytes;
	uint32_t crc;
	int r = hdi_gpt_validate(g, why);
	if (r < 0)
		return r;
	if ((r = hdi_bdev_size(g->dev, &bytes)) < 0)
		return r;
	if ((bytes >> hdi_gpt_shift(g->sector)) < g->disk_sectors)
		return problem(why, HDI_GPT_P_LAYOUT, 0, 0);
	/* Backup first: until the primary is rewritten it still describes
	 * the old table, and a torn primary falls back to the new backup. */
	if ((r = put_array(g, g->alt_array_lba, true, &crc)) < 0 ||
	    (r = put_header(g, false, crc)) < 0 ||
	    (r = put_array(g, g->array_lba, true, &crc)) < 0 ||
	    (r = put_header(g, true, crc)) < 0 ||
	    (r = put_pmbr(g)) < 0)
		return r;
	g->status = 0;
	g->revision = HDI_GPT_REVISION;
	return HDI_OK;
}

int hdi_gpt_wipe(struct hdi_gpt *g)
{
	uint64_t at[3] = { 1u, g->alt_lba, g->disk_sectors - 1u };
	unsigned i;
	int r;
	for (i = 0; i < 3; i++) {
		if (at[i] < 1 || at[i] >= g->disk_sectors)
			continue;
		if ((r = hdi_gpt_sec_read(g, at[i])) < 0)
			return r;
		if (memcmp(g->buf, HDI_GPT_SIG, 8))
			continue;
		memset(g->buf, 0, g->sector);
		if ((r = hdi_gpt_sec_write(g, at[i])) < 0 ||
		    (r = hdi_bdev_flush(g->dev)) < 0)
			return r;
	}
	return HDI_OK;
}

#endif /* HDI_CONFIG_GPT && !HDI_CONFIG_READONLY */
