/* core/gpt_edit.c: GPT edits in memory: a new empty table, adding and
 * deleting entries, laying the table out for a disk size (the backup at
 * the end), and finding free space. Nothing here does I/O. */
#include "gpt_int.h"

#if HDI_CONFIG_GPT

int hdi_gpt_set_disk_sectors(struct hdi_gpt *g, uint64_t sectors)
{
	uint64_t asec = hdi_gpt_array_sectors(g), alt_array, last;
	uint32_t i;
	if (sectors < 2u * asec + 4u || sectors - 1u < asec + 1u)
		return HDI_EINVAL;
	alt_array = sectors - 1u - asec;
	last = alt_array - 1u;
	if (last < g->first_usable)
		return HDI_EINVAL;
	for (i = 0; i < g->nparts; i++)
		if (g->parts[i].last > last)
			return HDI_EINVAL;
	g->disk_sectors = sectors;
	g->alt_lba = sectors - 1u;
	g->alt_array_lba = alt_array;
	g->last_usable = last;
	return HDI_OK;
}

int hdi_gpt_set_usable(struct hdi_gpt *g, uint64_t first, uint64_t last)
{
	uint64_t f = first ? first : g->first_usable;
	uint64_t l = last ? last : g->last_usable;
	if (f < g->array_lba + hdi_gpt_array_sectors(g) || l >= g->alt_array_lba ||
	    f > l)
		return HDI_EINVAL;
	g->first_usable = f;
	g->last_usable = l;
	return HDI_OK;
}

int hdi_gpt_new(struct hdi_gpt *g, const struct hdi_bdev *dev, uint32_t sector,
		void *buf, size_t buf_size, struct hdi_gpt_part *parts,
		uint32_t max_parts, uint32_t nentries, uint64_t first_usable,
		const struct hdi_guid *disk_guid, hdi_gpt_guid_fn guid_fn,
		void *guid_ctx)
{
	uint64_t asec;
	int r = hdi_gpt_init(g, dev, sector, buf, buf_size, parts, max_parts);
	if (r < 0)
		return r;
	g->guid_fn = guid_fn;
	g->guid_ctx = guid_ctx;
	g->nentries = nentries ? nentries : HDI_GPT_DEFAULT_ENTRIES;
	g->entry_size = HDI_GPT_ENTRY_SIZE;
	g->revision = HDI_GPT_REVISION;
	if (g->nentries > HDI_GPT_MAX_ENTRIES)
		return HDI_EINVAL;
	asec = hdi_gpt_array_sectors(g);
	g->array_lba = 2;
	g->first_usable = first_usable ? first_usable : 2u + asec;
	if (g->first_usable < 2u + asec)
		return HDI_EINVAL;
	if ((r = hdi_gpt_set_disk_sectors(g, g->disk_sectors)) < 0)
		return r;
	if (disk_guid)
		g->disk_guid = *disk_guid;
	else if (!guid_fn)
		return HDI_EINVAL;
	else if ((r = guid_fn(guid_ctx, &g->disk_guid)) < 0)
		return r;
	g->kind = HDI_GPT_VALID;
	return HDI_OK;
}

int hdi_gpt_add(struct hdi_gpt *g, unsigned n, uint64_t first, uint64_t last,
		const struct hdi_guid *type, const struct hdi_guid *uuid)
{
	struct hdi_gpt_part p;
	uint32_t i;
	int r;
	if (g->kind != HDI_GPT_VALID || !type || hdi_guid_is_zero(type))
		return HDI_EINVAL;
	if (!n) {
		for (n = 1; n <= g->nentries && hdi_gpt_find(g, n); n++)
			;
		if (n > g->nentries)
			return HDI_ENOSPC;
	}
	if (n > g->nentries)
		return HDI_EINVAL;
	if (hdi_gpt_find(g, n))
		return HDI_EBUSY;
	if (g->nparts >= g->max_parts)
		return HDI_ENOSPC;
	memset(&p, 0, sizeof p);
	p.first = first;
	p.last = last;
	p.type = *type;
	p.slot = n - 1u;
	if (uuid)
		p.uuid = *uuid;
	else if (!g->guid_fn)
		return HDI_EINVAL;
	else if ((r = g->guid_fn(g->guid_ctx, &p.uuid)) < 0)
		return r;
	for (i = g->nparts; i > 0 && g->parts[i - 1].slot > p.slot; i--)
		g->parts[i] = g->parts[i - 1];
	g->parts[i] = p;
	g->nparts++;
	return (int)n;
}

int hdi_gpt_delete(struct hdi_gpt *g, unsigned n)
{
	struct hdi_gpt_part *p = hdi_gpt_find(g, n);
	uint32_t i;
	if (!p)
		return HDI_ENOENT;
	for (i = (uint32_t)(p - g->parts); i + 1 < g->nparts; i++)
		g->parts[i] = g->parts[i + 1];
	g->nparts--;
	return HDI_OK;
}

void hdi_gpt_clear(struct hdi_gpt *g)
{
	g->nparts = 0;
}

/* ---- free space ------------------------------------------------------------- */

/* The first sector at or after pos that no partition covers. */
static uint64_t skip_used(const struct hdi_gpt *g, uint64_t pos)
{
	bool moved = true;
	uint32_t i;
	while (moved) {
		moved = false;
		for (i = 0; i < g->nparts; i++) {
			const struct hdi_gpt_part *p = &g->parts[i];
			if (p->first <= pos && pos <= p->last && p->last != UINT64_MAX) {
				pos = p->last + 1u;
				moved = true;
			}
		}
	}
	return pos;
}

/* Last free sector of the gap holding free sector pos. */
static uint64_t gap_end(const struct hdi_gpt *g, uint64_t pos)
{
	uint64_t end = g->last_usable;
	uint32_t i;
	for (i = 0; i < g->nparts; i++)
		if (g->parts[i].first > pos && g->parts[i].first - 1u < end)
			end = g->parts[i].first - 1u;
	return end;
}

/* v mod n without a 64-bit division (shift and subtract). */
static uint64_t mod64(uint64_t v, uint64_t n)
{
	uint64_t r = 0;
	int bit;
	if (hdi_is_pow2(n))
		return v & (n - 1u);
	for (bit = 63; bit >= 0; bit--) {
		r = r << 1 | ((v >> bit) & 1u);
		if (r >= n)
			r -= n;
	}
	return r;
}

static bool round_up(uint64_t v, uint64_t n, uint64_t *out)
{
	uint64_t r = n > 1 ? mod64(v, n) : 0;
	return hdi_add_ok(v, r ? n - r : 0, out);
}

int hdi_gpt_find_space(const struct hdi_gpt *g, uint64_t align,
		       uint64_t want_start, uint64_t *count, uint64_t *start)
{
	uint64_t pos, g1, s, need = *count ? *count : 1, end;
	if (g->kind != HDI_GPT_VALID || g->first_usable > g->last_usable)
		return HDI_ENOSPC;
	if (want_start) {
		if (want_start < g->first_usable || want_start > g->last_usable ||
		    skip_used(g, want_start) != want_start)
			return HDI_ENOSPC;
		g1 = gap_end(g, want_start);
		if (!*count)
			*count = g1 - want_start + 1u;
		else if (!hdi_add_ok(want_start, *count - 1u, &end) || end > g1)
			return HDI_ENOSPC;
		*start = want_start;
		return HDI_OK;
	}
	for (pos = g->first_usable; pos <= g->last_usable; pos = g1 + 1u) {
		pos = skip_used(g, pos);
		if (pos > g->last_usable)
			break;
		g1 = gap_end(g, pos);
		if (round_up(pos, align, &s) && s <= g1 &&
		    hdi_add_ok(s, need - 1u, &end) && end <= g1) {
			if (!*count)
				*count = g1 - s + 1u;
			*start = s;
			return HDI_OK;
		}
		if (g1 == UINT64_MAX)
			break;
	}
	return HDI_ENOSPC;
}

#endif /* HDI_CONFIG_GPT */
