/* core/mbr_write.c: validating an MBR table in memory and writing what
 * changed (EBRs first, sector 0 last), and installing boot code. */
#include "mbr_int.h"

#if HDI_CONFIG_MBR && !HDI_CONFIG_READONLY

static int problem(struct hdi_mbr_problem *why, int code, unsigned a,
		   unsigned b)
{
	if (why) {
		why->code = code;
		why->a = a;
		why->b = b;
	}
	return code ? HDI_EINVAL : HDI_OK;
}

const char *hdi_mbr_problem_str(int code)
{
	switch (code) {
	case HDI_MBR_OK: return "valid";
	case HDI_MBR_P_SIZE0: return "partition %a has no sectors";
	case HDI_MBR_P_TYPE0: return "partition %a has sectors but type 0 (empty)";
	case HDI_MBR_P_STATUS: return "partition %a has a status byte other than 0x00 or 0x80";
	case HDI_MBR_P_SECTOR0: return "partition %a covers sector 0 (the MBR)";
	case HDI_MBR_P_PAST_END: return "partition %a ends past the end of the disk";
	case HDI_MBR_P_PAST_2TIB: return "partition %a ends past 2 TiB, beyond a 32-bit LBA";
	case HDI_MBR_P_TWO_EXT: return "partitions %a and %b are both extended; only one is allowed";
	case HDI_MBR_P_OVERLAP: return "partitions %a and %b overlap";
	case HDI_MBR_P_OUTSIDE_EXT: return "logical partition %a is not inside the extended partition";
	case HDI_MBR_P_EBR_OUTSIDE: return "the EBR of logical partition %a is not inside the extended partition";
	case HDI_MBR_P_FIRST_EBR: return "the first EBR (partition %a) is not at the start of the extended partition";
	case HDI_MBR_P_COVERS_EBR: return "partition %a covers the EBR of partition %b";
	case HDI_MBR_P_LOGICAL_EXT: return "logical partition %a has an extended type";
	case HDI_MBR_P_NO_EXT: return "logical partition %a has no extended partition";
	case HDI_MBR_P_SHARED_EBR: return "logical partitions %a and %b share one EBR";
	case HDI_MBR_P_GPT: return "the disk has a protective MBR (GPT); it is not edited";
	default: return "invalid partition table";
	}
}

/* Checks shared by primaries and logicals. */
static int check_one(const struct hdi_mbr *m, const struct hdi_mbr_part *p,
		     unsigned n, struct hdi_mbr_problem *why)
{
	uint64_t end = (uint64_t)p->start + p->count;
	if (!p->type)
		return problem(why, HDI_MBR_P_TYPE0, n, 0);
	if (!p->count)
		return problem(why, HDI_MBR_P_SIZE0, n, 0);
	if (p->status != 0 && p->status != HDI_MBR_ACTIVE)
		return problem(why, HDI_MBR_P_STATUS, n, 0);
	if (!p->start)
		return problem(why, HDI_MBR_P_SECTOR0, n, 0);
	if (end > HDI_MBR_MAX_SECTORS)
		return problem(why, HDI_MBR_P_PAST_2TIB, n, 0);
	if (end > m->disk_sectors)
		return problem(why, HDI_MBR_P_PAST_END, n, 0);
	return HDI_OK;
}

static bool overlap(const struct hdi_mbr_part *a, const struct hdi_mbr_part *b)
{
	return a->start <= hdi_mbr_end(b) && b->start <= hdi_mbr_end(a);
}

static bool prim_used(const struct hdi_mbr_part *p)
{
	return p->type || p->count;
}

static int check_primaries(const struct hdi_mbr *m, struct hdi_mbr_problem *why)
{
	unsigned i, j, ext = 0;
	int r;
	for (i = 0; i < HDI_MBR_PRIMARIES; i++) {
		const struct hdi_mbr_part *p = &m->p[i];
		if (!prim_used(p))
			continue;
		if ((r = check_one(m, p, i + 1, why)) < 0)
			return r;
		if (hdi_mbr_is_extended(p->type)) {
			if (ext)
				return problem(why, HDI_MBR_P_TWO_EXT, ext, i + 1);
			ext = i + 1;
		}
		for (j = 0; j < i; j++)
			if (prim_used(&m->p[j]) && overlap(&m->p[j], p))
				return problem(why, HDI_MBR_P_OVERLAP, j + 1, i + 1);
	}
	return HDI_OK;
}

static int check_logicals(const struct hdi_mbr *m, struct hdi_mbr_problem *why)
{
	const struct hdi_mbr_part *x = hdi_mbr_ext(m);
	unsigned i, j;
	int r;
	if (m->nlogical && !x)
		return problem(why, HDI_MBR_P_NO_EXT, HDI_MBR_PRIMARIES + 1, 0);
	for (i = 0; i < m->nlogical; i++) {
		const struct hdi_mbr_part *p = &m->l[i];
		unsigned n = HDI_MBR_PRIMARIES + 1 + i;
		if ((r = check_one(m, p, n, why)) < 0)
			return r;
		if (hdi_mbr_is_extended(p->type))
			return problem(why, HDI_MBR_P_LOGICAL_EXT, n, 0);
		if (p->ebr < x->start || p->ebr > hdi_mbr_end(x))
			return problem(why, HDI_MBR_P_EBR_OUTSIDE, n, 0);
		if (i == 0 && p->ebr != x->start)
			return problem(why, HDI_MBR_P_FIRST_EBR, n, 0);
		if (p->start < x->start || hdi_mbr_end(p) > hdi_mbr_end(x))
			return problem(why, HDI_MBR_P_OUTSIDE_EXT, n, 0);
		for (j = 0; j < i; j++) {
			if (overlap(&m->l[j], p))
				return problem(why, HDI_MBR_P_OVERLAP, n - i + j, n);
			if (m->l[j].ebr == p->ebr)
				return problem(why, HDI_MBR_P_SHARED_EBR, n - i + j, n);
		}
	}
	return HDI_OK;
}

/* No data partition may cover an EBR: neither a primary nor a logical. */
static int check_ebrs(const struct hdi_mbr *m, struct hdi_mbr_problem *why)
{
	unsigned i, j;
	for (i = 0; i < m->nlogical; i++) {
		uint32_t e = m->l[i].ebr;
		for (j = 0; j < HDI_MBR_PRIMARIES; j++) {
			const struct hdi_mbr_part *p = &m->p[j];
			if (prim_used(p) && !hdi_mbr_is_extended(p->type) &&
			    p->start <= e && e <= hdi_mbr_end(p))
				return problem(why, HDI_MBR_P_COVERS_EBR, j + 1,
					       HDI_MBR_PRIMARIES + 1 + i);
		}
		for (j = 0; j < m->nlogical; j++) {
			const struct hdi_mbr_part *p = &m->l[j];
			if (p->start <= e && e <= hdi_mbr_end(p))
				return problem(why, HDI_MBR_P_COVERS_EBR,
					       HDI_MBR_PRIMARIES + 1 + j,
					       HDI_MBR_PRIMARIES + 1 + i);
		}
	}
	return HDI_OK;
}

int hdi_mbr_validate(const struct hdi_mbr *m, struct hdi_mbr_problem *why)
{
	int r;
	if (m->kind == HDI_MBR_GPT)
		return problem(why, HDI_MBR_P_GPT, 0, 0);
	if ((r = check_primaries(m, why)) < 0 || (r = check_logicals(m, why)) < 0 ||
	    (r = check_ebrs(m, why)) < 0)
		return r;
	return problem(why, HDI_MBR_OK, 0, 0);
}

/* ---- writing ---------------------------------------------------------------- */

static void chs_of(const struct hdi_mbr *m, uint64_t lba, uint8_t *out)
{
	hdi_mbr_lba_to_chs(lba >= HDI_MBR_MAX_SECTORS ? 0xFFFFFFFFu : (uint32_t)lba,
			   m->heads, m->sectors, out);
}

static void refresh_chs(const struct hdi_mbr *m, struct hdi_mbr_part *p)
{
	if (!(p->flags & HDI_MBR_PF_CHS))
		return;
	chs_of(m, p->start, p->chs);
	chs_of(m, hdi_mbr_end(p), p->chs + 3);
}

/* rel is the sector the stored start counts from (0, or the EBR). */
static void entry_store(uint8_t *e, const struct hdi_mbr_part *p, uint32_t rel)
{
	e[HDI_MBR_PE_STATUS] = p->status;
	memcpy(e + HDI_MBR_PE_CHS_FIRST, p->chs, 3);
	e[HDI_MBR_PE_TYPE] = p->type;
	memcpy(e + HDI_MBR_PE_CHS_LAST, p->chs + 3, 3);
	hdi_st_le32(e + HDI_MBR_PE_LBA, p->start - rel);
	hdi_st_le32(e + HDI_MBR_PE_COUNT, p->count);
}

/* The link entry in logical i's EBR: the next EBR (relative to the
 * extended start) up to the end of the next logical, as libfdisk does. */
static void link_store(const struct hdi_mbr *m, unsigned i, uint8_t *e)
{
	const struct hdi_mbr_part *nx = &m->l[i + 1];
	struct hdi_mbr_part lk;
	memset(&lk, 0, sizeof lk);
	lk.start = nx->ebr;
	lk.count = (uint32_t)(hdi_mbr_end(nx) + 1u - nx->ebr);
	lk.type = HDI_MBR_TYPE_EXT;
	lk.flags = HDI_MBR_PF_CHS;
	refresh_chs(m, &lk);
	entry_store(e, &lk, hdi_mbr_ext(m)->start);
}

static int write_flush(struct hdi_mbr *m, uint64_t lba)
{
	int r = hdi_mbr_sec_write(m->dev, m->buf, lba);
	return r < 0 ? r : hdi_bdev_flush(m->dev);
}

static int write_ebr(struct hdi_mbr *m, unsigned i)
{
	struct hdi_mbr_part *p = &m->l[i];
	int r;
	if (p->flags & HDI_MBR_PF_ONDISK) {
		if ((r = hdi_mbr_sec_read(m->dev, m->buf, p->ebr)) < 0)
			return r;
	} else {
		memset(m->buf, 0, HDI_MBR_SECTOR);
	}
	memset(m->buf + HDI_MBR_OFF_TABLE, 0, 4 * HDI_MBR_ENTRY_SIZE);
	refresh_chs(m, p);
	entry_store(hdi_mbr_entry(m->buf, 0), p, p->ebr);
	if (i + 1 < m->nlogical)
		link_store(m, i, hdi_mbr_entry(m->buf, 1));
	hdi_mbr_set_magic(m->buf);
	return write_flush(m, p->ebr);
}

static bool mbr_dirty(const struct hdi_mbr *m)
{
	unsigned i;
	if (m->kind == HDI_MBR_NONE || (m->dirty & HDI_MBR_D_ID))
		return true;
	for (i = 0; i < HDI_MBR_PRIMARIES; i++)
		if (m->p[i].flags & HDI_MBR_PF_WRITE)
			return true;
	return false;
}

static int write_mbr(struct hdi_mbr *m)
{
	unsigned i;
	int r = hdi_mbr_sec_read(m->dev, m->buf, 0);
	if (r < 0)
		return r;
	if (m->kind == HDI_MBR_NONE) {
		/* A new table keeps only what may be boot code. */
		memset(m->buf + HDI_MBR_BOOTCODE_SIZE, 0,
		       HDI_MBR_SECTOR - HDI_MBR_BOOTCODE_SIZE);
		for (i = 0; i < HDI_MBR_PRIMARIES; i++)
			m->p[i].flags |= HDI_MBR_PF_WRITE;
		m->dirty |= HDI_MBR_D_ID;
	}
	if (m->dirty & HDI_MBR_D_ID)
		hdi_st_le32(m->buf + HDI_MBR_OFF_DISK_ID, m->disk_id);
	for (i = 0; i < HDI_MBR_PRIMARIES; i++) {
		struct hdi_mbr_part *p = &m->p[i];
		if (!(p->flags & HDI_MBR_PF_WRITE))
			continue;
		if (prim_used(p))
			refresh_chs(m, p);
		entry_store(hdi_mbr_entry(m->buf, i), p, 0);
	}
	hdi_mbr_set_magic(m->buf);
	return write_flush(m, 0);
}

int hdi_mbr_write(struct hdi_mbr *m, struct hdi_mbr_problem *why)
{
	const struct hdi_mbr_part *x;
	unsigned i;
	int r = hdi_mbr_validate(m, why);
	if (r < 0)
		return m->kind == HDI_MBR_GPT ? HDI_EUNSUPP : r;
	x = hdi_mbr_ext(m);
	if (x && !m->nlogical && (m->dirty & HDI_MBR_D_EMPTYEBR)) {
		/* An extended partition without logicals still starts with an
		 * EBR: empty, with its 55 AA, written before the MBR names it. */
		memset(m->buf, 0, HDI_MBR_SECTOR);
		hdi_mbr_set_magic(m->buf);
		if ((r = write_flush(m, x->start)) < 0)
			return r;
	}
	/* Last to first: an EBR is on disk before the one that links to it. */
	for (i = m->nlogical; i-- > 0; )
		if ((m->l[i].flags & (HDI_MBR_PF_WRITE | HDI_MBR_PF_LINK)) &&
		    (r = write_ebr(m, i)) < 0)
			return r;
	if (mbr_dirty(m) && (r = write_mbr(m)) < 0)
		return r;
	for (i = 0; i < HDI_MBR_PRIMARIES; i++)
		m->p[i].flags = 0;
	for (i = 0; i < m->nlogical; i++)
		m->l[i].flags = HDI_MBR_PF_ONDISK;
	m->dirty = 0;
	m->kind = HDI_MBR_DOS;
	return HDI_OK;
}

int hdi_mbr_write_bootcode(const struct hdi_bdev *dev, void *buf,
			   size_t buf_size, const uint8_t *code)
{
	int r;
	if (!buf || buf_size < HDI_MBR_BUF_SIZE(dev->granule))
		return HDI_ENOMEM;
	if ((r = hdi_mbr_sec_read(dev, buf, 0)) < 0)
		return r;
	memcpy(buf, code, HDI_MBR_BOOTCODE_SIZE);
	if ((r = hdi_mbr_sec_write(dev, buf, 0)) < 0)
		return r;
	return hdi_bdev_flush(dev);
}

#endif /* HDI_CONFIG_MBR && !HDI_CONFIG_READONLY */
