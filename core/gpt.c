/* core/gpt.c: reading a GPT: the protective MBR, the primary header and
 * its entry array (streamed through one sector, CRC as it goes), the
 * backup when the primary is damaged; lookups and partition windows. */
#include "gpt_int.h"

#if HDI_CONFIG_GPT

int hdi_gpt_sec_read(const struct hdi_gpt *g, uint64_t lba)
{
	uint64_t off;
	if (!hdi_mul_ok(lba, g->sector, &off))
		return HDI_EINVAL;
	if (g->dev->granule <= g->sector)
		return hdi_bdev_read(g->dev, off, g->buf, g->sector);
	return hdi_bdev_pread(g->dev, off, g->buf, g->sector, g->buf + g->sector);
}

unsigned hdi_gpt_shift(uint32_t sector)
{
	return sector == 4096u ? 12u : 9u;
}

uint64_t hdi_gpt_array_secs(uint32_t nentries, uint32_t entry_size,
			    uint32_t sector)
{
	uint64_t bytes = (uint64_t)nentries * entry_size;
	return (bytes + sector - 1u) >> hdi_gpt_shift(sector);
}

uint64_t hdi_gpt_array_sectors(const struct hdi_gpt *g)
{
	return hdi_gpt_array_secs(g->nentries, g->entry_size, g->sector);
}

void hdi_gpt_entry_load(struct hdi_gpt_part *p, const uint8_t *e)
{
	unsigned i;
	memcpy(p->type.b, e + HDI_GPT_E_TYPE, 16);
	memcpy(p->uuid.b, e + HDI_GPT_E_UUID, 16);
	p->first = hdi_gpt_ld64(e + HDI_GPT_E_FIRST);
	p->last = hdi_gpt_ld64(e + HDI_GPT_E_LAST);
	p->attrs = hdi_gpt_ld64(e + HDI_GPT_E_ATTRS);
	for (i = 0; i < HDI_GPT_NAME_LEN; i++)
		p->name[i] = hdi_ld_le16(e + HDI_GPT_E_NAME + 2 * i);
}

/* A header as read, before it is trusted. */
struct hdr {
	uint64_t my, alt, first, last, array, asec;
	uint32_t n, esize, array_crc, rev;
	struct hdi_guid guid;
};

static bool valid_esize(uint32_t es, uint32_t sector)
{
	return es >= HDI_GPT_ENTRY_SIZE && es <= sector && hdi_is_pow2(es);
}

/* Decodes and checks the header in g->buf, read from LBA at. */
static bool header_ok(const struct hdi_gpt *g, uint64_t at, struct hdr *h)
{
	uint8_t *b = g->buf;
	uint32_t hsize = hdi_ld_le32(b + HDI_GPT_H_SIZE), crc;
	uint64_t n = g->disk_sectors, end;
	if (memcmp(b, HDI_GPT_SIG, 8) || hsize < HDI_GPT_HEADER_SIZE ||
	    hsize > g->sector)
		return false;
	crc = hdi_ld_le32(b + HDI_GPT_H_CRC);
	hdi_st_le32(b + HDI_GPT_H_CRC, 0);
	if (hdi_crc32(0, b, hsize) != crc)
		return false;
	hdi_st_le32(b + HDI_GPT_H_CRC, crc);
	h->rev = hdi_ld_le32(b + HDI_GPT_H_REVISION);
	h->my = hdi_gpt_ld64(b + HDI_GPT_H_MY_LBA);
	h->alt = hdi_gpt_ld64(b + HDI_GPT_H_ALT_LBA);
	h->first = hdi_gpt_ld64(b + HDI_GPT_H_FIRST_USABLE);
	h->last = hdi_gpt_ld64(b + HDI_GPT_H_LAST_USABLE);
	memcpy(h->guid.b, b + HDI_GPT_H_DISK_GUID, 16);
	h->array = hdi_gpt_ld64(b + HDI_GPT_H_ARRAY_LBA);
	h->n = hdi_ld_le32(b + HDI_GPT_H_NENTRIES);
	h->esize = hdi_ld_le32(b + HDI_GPT_H_ENTRY_SIZE);
	h->array_crc = hdi_ld_le32(b + HDI_GPT_H_ARRAY_CRC);
	if (h->my != at || !h->n || h->n > HDI_GPT_MAX_ENTRIES ||
	    !valid_esize(h->esize, g->sector) || h->first > h->last ||
	    h->alt == at)
		return false;
	h->asec = hdi_gpt_array_secs(h->n, h->esize, g->sector);
	if (!hdi_add_ok(h->array, h->asec, &end) || end > n || h->array < 2)
		return false;
	/* The array lies between the header and the usable range. */
	if (at == 1)
		return end <= h->first && h->alt > h->last;
	return h->array > h->last && end <= at && h->my > h->last;
}

/* Reads the header at LBA at: 1 valid, 0 invalid, < 0 an I/O error. */
static int load_header(const struct hdi_gpt *g, uint64_t at, struct hdr *h)
{
	int r;
	if (at < 1 || at >= g->disk_sectors)
		return 0;
	r = hdi_gpt_sec_read(g, at);
	if (r < 0)
		return r;
	return header_ok(g, at, h) ? 1 : 0;
}

/* Streams h's array through the sector buffer: 1 when its CRC matches,
 * 0 when not. With store, used entries go to g->parts (*overflow counts
 * the ones that did not fit). */
static int stream_array(struct hdi_gpt *g, const struct hdr *h, bool store,
			uint32_t *overflow)
{
	uint64_t s, left = (uint64_t)h->n * h->esize;
	uint32_t crc = 0, slot = 0, i;
	int r;
	if (store)
		g->nparts = 0;
	for (s = 0; s < h->asec; s++) {
		uint32_t len = (uint32_t)hdi_min64(left, g->sector);
		if ((r = hdi_gpt_sec_read(g, h->array + s)) < 0)
			return r;
		crc = hdi_crc32(crc, g->buf, len);
		left -= len;
		for (i = 0; store && i + h->esize <= len; i += h->esize, slot++) {
			struct hdi_gpt_part *p;
			struct hdi_guid t;
			memcpy(t.b, g->buf + i + HDI_GPT_E_TYPE, 16);
			if (hdi_guid_is_zero(&t))
				continue;
			if (g->nparts >= g->max_parts) {
				(*overflow)++;
				continue;
			}
			p = &g->parts[g->nparts++];
			hdi_gpt_entry_load(p, g->buf + i);
			p->slot = slot;
		}
	}
	return crc == h->array_crc ? 1 : 0;
}

/* Sector 0: the protective MBR (status bits only; never an error). */
static int read_pmbr(struct hdi_gpt *g)
{
	const uint8_t *b = g->buf;
	unsigned i, ee = 0, other = 0;
	uint64_t want = hdi_min64(g->disk_sectors - 1u, 0xFFFFFFFFu);
	int r = hdi_gpt_sec_read(g, 0);
	if (r < 0)
		return r;
	for (i = 0; b[510] == 0x55 && b[511] == 0xAA && i < 4; i++) {
		const uint8_t *e = b + 446 + 16 * i;
		if (e[4] == 0xEE) {
			if (!ee++ && hdi_ld_le32(e + 12) != want)
				g->status |= HDI_GPT_S_PMBR_SIZE;
		} else if (e[4] || hdi_ld_le32(e + 12)) {
			other++;
		}
	}
	if (!ee)
		g->status |= HDI_GPT_S_NO_PMBR;
	else if (other)
		g->status |= HDI_GPT_S_HYBRID;
	return HDI_OK;
}

static void adopt(struct hdi_gpt *g, const struct hdr *h, bool primary)
{
	uint64_t asec = h->asec;
	g->kind = HDI_GPT_VALID;
	g->revision = h->rev;
	g->disk_guid = h->guid;
	g->first_usable = h->first;
	g->last_usable = h->last;
	g->nentries = h->n;
	g->entry_size = h->esize;
	if (primary) {
		g->array_lba = h->array;
		g->alt_lba = h->alt;
		g->alt_array_lba = h->alt > asec ? h->alt - asec : 0;
	} else {
		/* The primary is rebuilt where it belongs: array at LBA 2. */
		g->array_lba = 2;
		g->alt_lba = h->my;
		g->alt_array_lba = h->array;
	}
}

static bool same_table(const struct hdr *a, const struct hdr *b)
{
	return a->first == b->first && a->last == b->last && a->n == b->n &&
	       a->esize == b->esize && a->array_crc == b->array_crc &&
	       hdi_guid_eq(&a->guid, &b->guid);
}

int hdi_gpt_init(struct hdi_gpt *g, const struct hdi_bdev *dev, uint32_t sector,
		void *buf, size_t buf_size, struct hdi_gpt_part *parts,
		uint32_t max_parts)
{
	uint64_t bytes;
	int r;
	memset(g, 0, sizeof(*g));
	g->dev = dev;
	g->buf = buf;
	g->sector = sector;
	g->parts = parts;
	g->max_parts = max_parts;
	if (sector != 512 && sector != 4096)
		return HDI_EINVAL;
	if (!buf || dev->granule > HDI_GRANULE_MAX || !dev->granule ||
	    buf_size < HDI_GPT_BUF_SIZE(sector, dev->granule) ||
	    (max_parts && !parts))
		return HDI_ENOMEM;
	if ((r = hdi_bdev_size(dev, &bytes)) < 0)
		return r;
	g->disk_sectors = bytes >> hdi_gpt_shift(sector);
	return HDI_OK;
}

/* The backup at LBA at: valid header and array (1), else 0. */
static int try_backup(struct hdi_gpt *g, uint64_t at, struct hdr *bh,
		      bool store, uint32_t *overflow)
{
	int r = load_header(g, at, bh);
	if (r <= 0)
		return r;
	r = stream_array(g, bh, store, overflow);
	if (r == 0)
		g->status |= HDI_GPT_S_BACKUP_ARRAY;
	return r;
}

int hdi_gpt_read(struct hdi_gpt *g, const struct hdi_bdev *dev,
		 uint32_t sector, void *buf, size_t buf_size,
		 struct hdi_gpt_part *parts, uint32_t max_parts)
{
	struct hdr ph, bh;
	uint32_t overflow = 0;
	uint64_t last;
	int pr, br = 0, r = hdi_gpt_init(g, dev, sector, buf, buf_size, parts, max_parts);
	bool sig;
	if (r < 0)
		return r;
	if (g->disk_sectors < 3)
		return HDI_OK;                  /* too small for any GPT */
	last = g->disk_sectors - 1u;
	if ((r = read_pmbr(g)) < 0)
		return r;
	if ((pr = load_header(g, 1, &ph)) < 0)
		return pr;
	sig = !memcmp(g->buf, HDI_GPT_SIG, 8);
	if (!pr) {
		g->status |= HDI_GPT_S_PRIMARY_BAD;
	} else if ((pr = stream_array(g, &ph, true, &overflow)) < 0) {
		return pr;
	} else if (!pr) {
		g->status |= HDI_GPT_S_PRIMARY_ARRAY;
	}
	if (pr) {
		/* The primary is in use; check the backup it names. */
		br = try_backup(g, ph.alt, &bh, false, &overflow);
		if (ph.alt != last)
			g->status |= HDI_GPT_S_BACKUP_NOT_END;
	} else {
		uint64_t at = (g->status & HDI_GPT_S_PRIMARY_ARRAY) ? ph.alt : last;
		overflow = 0;
		br = try_backup(g, at, &bh, true, &overflow);
		if (br == 0 && at != last)
			br = try_backup(g, last, &bh, true, &overflow);
		if (br > 0 && bh.my != last)
			g->status |= HDI_GPT_S_BACKUP_NOT_END;
	}
	if (br < 0)
		return br;
	if (!br)
		g->status |= HDI_GPT_S_BACKUP_BAD;
	if (pr && br && !same_table(&ph, &bh))
		g->status |= HDI_GPT_S_MISMATCH;
	if (!pr && !br) {
		g->nparts = 0;
		if ((g->status & HDI_GPT_S_NO_PMBR) && !sig)
			return HDI_OK;          /* no GPT here at all */
		return HDI_ECORRUPT;
	}
	if (!pr)
		g->status |= HDI_GPT_S_USED_BACKUP;
	adopt(g, pr ? &ph : &bh, pr);
	return overflow ? HDI_ENOMEM : HDI_OK;
}

struct hdi_gpt_part *hdi_gpt_find(const struct hdi_gpt *g, unsigned n)
{
	uint32_t i;
	for (i = 0; n && i < g->nparts; i++)
		if (g->parts[i].slot == n - 1u)
			return &g->parts[i];
	return 0;
}

int hdi_gpt_range(const struct hdi_gpt *g, unsigned n, uint64_t *off,
		  uint64_t *len)
{
	const struct hdi_gpt_part *p = hdi_gpt_find(g, n);
	if (!p)
		return HDI_ENOENT;
	if (p->first > p->last || p->last >= g->disk_sectors ||
	    !hdi_mul_ok(p->first, g->sector, off) ||
	    !hdi_mul_ok(p->last - p->first + 1u, g->sector, len))
		return HDI_ECORRUPT;
	return HDI_OK;
}

int hdi_gpt_partdev_init(struct hdi_bdev_view *v, const struct hdi_gpt *g,
			 unsigned n)
{
	uint64_t off, len;
	int r = hdi_gpt_range(g, n, &off, &len);
	return r < 0 ? r : hdi_bdev_view_init(v, g->dev, off, len);
}

#endif /* HDI_CONFIG_GPT */
