/* core/mbr_place.c: where a new partition goes (free space, alignment,
 * the EBR of a logical), and a partition as a window device. */
#include "mbr_int.h"

#if HDI_CONFIG_MBR

/* The sectors already taken in the area being searched: used primaries
 * (the extended one as a whole) for a primary; EBRs and logicals inside
 * the extended partition for a logical. */
struct area {
	const struct hdi_mbr *m;
	enum hdi_mbr_where where;
	uint64_t lo, hi;          /* the searched region, inclusive */
};

static unsigned n_taken(const struct area *a)
{
	return a->where == HDI_MBR_PRIMARY ? HDI_MBR_PRIMARIES : 2u * a->m->nlogical;
}

/* Interval k as [*s, *e]; false when k is an unused slot. */
static bool taken(const struct area *a, unsigned k, uint64_t *s, uint64_t *e)
{
	const struct hdi_mbr_part *p;
	if (a->where == HDI_MBR_PRIMARY) {
		p = &a->m->p[k];
		if (!p->count)
			return false;
		*s = p->start;
		*e = hdi_mbr_end(p);
		return true;
	}
	p = &a->m->l[k / 2];
	if (k & 1) {
		*s = *e = p->ebr;
	} else {
		*s = p->start;
		*e = hdi_mbr_end(p);
	}
	return true;
}

/* Moves pos past every interval covering it. */
static uint64_t skip_taken(const struct area *a, uint64_t pos)
{
	unsigned k, n = n_taken(a);
	bool moved = true;
	uint64_t s, e;
	while (moved) {
		moved = false;
		for (k = 0; k < n; k++) {
			if (taken(a, k, &s, &e) && s <= pos && pos <= e) {
				pos = e + 1;
				moved = true;
			}
		}
	}
	return pos;
}

/* Last free sector of the gap that starts at free sector g0. */
static uint64_t gap_end(const struct area *a, uint64_t g0)
{
	unsigned k, n = n_taken(a);
	uint64_t s, e, end = a->hi;
	for (k = 0; k < n; k++)
		if (taken(a, k, &s, &e) && s > g0 && s - 1 < end)
			end = s - 1;
	return end;
}

/* First sector of the gap holding free sector pos. */
static uint64_t gap_start(const struct area *a, uint64_t pos)
{
	unsigned k, n = n_taken(a);
	uint64_t s, e, start = a->lo;
	for (k = 0; k < n; k++)
		if (taken(a, k, &s, &e) && e < pos && e + 1 > start)
			start = e + 1;
	return start;
}

/* Smallest multiple of n at or above v. Beyond 32 bits every region has
 * ended, so v itself is as good an answer (and needs no 64-bit division). */
static uint64_t round_up(uint64_t v, uint32_t n)
{
	uint32_t r;
	if (n <= 1 || v > 0xFFFFFFFFu)
		return v;
	r = (uint32_t)v % n;
	return r ? v + (n - r) : v;
}

/* Where the EBR (logical) and the data go in the gap starting at g0. */
static void candidate(const struct area *a, uint32_t align, uint64_t g0,
		      uint64_t *e, uint64_t *s)
{
	const struct hdi_mbr *m = a->m;
	uint32_t cyl = (uint32_t)m->heads * m->sectors;
	if (a->where == HDI_MBR_PRIMARY) {
		*e = 0;
		if (align != HDI_MBR_ALIGN_CYLINDER)
			*s = round_up(g0, align);
		else
			*s = g0 <= m->sectors ? m->sectors : round_up(g0, cyl);
		return;
	}
	if (align == HDI_MBR_ALIGN_CYLINDER) {
		*e = m->nlogical ? round_up(g0, cyl) : g0;
		*s = *e + m->sectors;
	} else {
		/* As sfdisk: the data one alignment unit past the free space,
		 * rounded up; the EBR one unit before the data (the first EBR
		 * is the extended start). */
		*s = round_up(g0 + align, align);
		*e = m->nlogical ? *s - align : g0;
	}
}

static int area_init(struct area *a, const struct hdi_mbr *m,
		     enum hdi_mbr_where where)
{
	uint64_t limit = hdi_min64(m->disk_sectors, HDI_MBR_MAX_SECTORS);
	a->m = m;
	a->where = where;
	if (where == HDI_MBR_PRIMARY) {
		a->lo = 1;
		a->hi = limit - 1;
		return limit > 1 ? HDI_OK : HDI_ENOSPC;
	}
	if (!hdi_mbr_ext(m))
		return HDI_EINVAL;
	a->lo = hdi_mbr_ext(m)->start;
	a->hi = hdi_min64(hdi_mbr_end(hdi_mbr_ext(m)), limit - 1);
	return a->lo <= a->hi ? HDI_OK : HDI_ENOSPC;
}

static int fixed_start(const struct area *a, uint64_t s, uint32_t *count,
		       uint32_t *ebr, uint32_t *start)
{
	uint64_t e = 0, g1;
	if (s < a->lo || s > a->hi || skip_taken(a, s) != s)
		return HDI_ENOSPC;
	g1 = gap_end(a, s);
	if (a->where == HDI_MBR_LOGICAL) {
		e = a->m->nlogical ? gap_start(a, s) : a->lo;
		if (e >= s)
			return HDI_ENOSPC;      /* no free sector before it for the EBR */
	}
	if (!*count)
		*count = (uint32_t)(g1 - s + 1);
	*ebr = (uint32_t)e;
	*start = (uint32_t)s;
	return HDI_OK;
}

int hdi_mbr_find_space(const struct hdi_mbr *m, enum hdi_mbr_where where,
		       uint32_t align, uint32_t want_start, uint32_t *count,
		       uint32_t *ebr, uint32_t *start)
{
	struct area a;
	uint64_t pos, g1, e, s, need = *count ? *count : 1;
	int r = area_init(&a, m, where);
	if (r < 0)
		return r;
	if (want_start)
		return fixed_start(&a, want_start, count, ebr, start);
	for (pos = a.lo; pos <= a.hi; pos = g1 + 1) {
		pos = skip_taken(&a, pos);
		if (pos > a.hi)
			break;
		g1 = gap_end(&a, pos);
		if (where == HDI_MBR_LOGICAL && !m->nlogical && pos != a.lo)
			break;                  /* the first EBR is the extended start */
		candidate(&a, align, pos, &e, &s);
		if (e > g1 || s > g1 || s + need - 1 > g1)
			continue;
		if (!*count)
			*count = (uint32_t)(g1 - s + 1);
		*ebr = (uint32_t)e;
		*start = (uint32_t)s;
		return HDI_OK;
	}
	return HDI_ENOSPC;
}

/* ---- partition device ------------------------------------------------------- */

int hdi_mbr_partdev_init(struct hdi_bdev_view *pd, const struct hdi_mbr *m,
			 unsigned n)
{
	uint64_t off, len;
	int r = hdi_mbr_range(m, n, &off, &len);
	return r < 0 ? r : hdi_bdev_view_init(pd, m->dev, off, len);
}

#endif /* HDI_CONFIG_MBR */
