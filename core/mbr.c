/* core/mbr.c: reading an MBR and its EBR chain into struct hdi_mbr,
 * geometry and CHS, and the in-memory edits. */
#include "mbr_int.h"

#if HDI_CONFIG_MBR

int hdi_mbr_sec_read(const struct hdi_bdev *dev, uint8_t *buf, uint64_t lba)
{
	uint64_t off = lba << 9;
	if (lba >= HDI_MBR_MAX_SECTORS)
		return HDI_EINVAL;
	if (dev->granule <= HDI_MBR_SECTOR)
		return hdi_bdev_read(dev, off, buf, HDI_MBR_SECTOR);
	return hdi_bdev_pread(dev, off, buf, HDI_MBR_SECTOR, buf + HDI_MBR_SECTOR);
}

int hdi_mbr_sec_write(const struct hdi_bdev *dev, uint8_t *buf, uint64_t lba)
{
	uint64_t off = lba << 9;
	if (lba >= HDI_MBR_MAX_SECTORS)
		return HDI_EINVAL;
	if (dev->granule <= HDI_MBR_SECTOR)
		return hdi_bdev_write(dev, off, buf, HDI_MBR_SECTOR);
	return hdi_bdev_pwrite(dev, off, buf, HDI_MBR_SECTOR, buf + HDI_MBR_SECTOR);
}

void hdi_mbr_default_geometry(uint64_t disk_sectors, uint16_t *heads,
			      uint8_t *sectors)
{
	/* The bands the issue fixes (504 MiB, 1, 2, 4 GiB): LBA-assist's
	 * heads, with the upper bounds rounded to the familiar sizes. */
	static const struct { uint32_t max_sectors; uint16_t heads; } band[] = {
		{ 1024u * 16u * 63u, 16 }, { 1u << 21, 32 },
		{ 1u << 22, 64 }, { 1u << 23, 128 },
	};
	size_t i;
	*sectors = 63;
	for (i = 0; i < HDI_ARRAY_SIZE(band); i++) {
		if (disk_sectors <= band[i].max_sectors) {
			*heads = band[i].heads;
			return;
		}
	}
	*heads = 255;
}

int hdi_mbr_set_geometry(struct hdi_mbr *m, unsigned heads, unsigned sectors)
{
	if (heads < 1 || heads > 255 || sectors < 1 || sectors > 63)
		return HDI_EINVAL;
	m->heads = (uint16_t)heads;
	m->sectors = (uint8_t)sectors;
	return HDI_OK;
}

void hdi_mbr_lba_to_chs(uint32_t lba, unsigned heads, unsigned sectors,
			uint8_t out[3])
{
	uint32_t spc = (uint32_t)heads * sectors;
	uint32_t c = lba / spc, rem = lba % spc;
	uint32_t h = rem / sectors, s = rem % sectors + 1u;
	if (c > 1023u) {
		c = 1023u;
		h = heads - 1u;
		s = sectors;
	}
	out[0] = (uint8_t)h;
	out[1] = (uint8_t)(s | ((c >> 2) & 0xC0u));
	out[2] = (uint8_t)c;
}

bool hdi_mbr_slot_used(const struct hdi_mbr_part *p)
{
	size_t i;
	if (p->start || p->count || p->type || p->status)
		return true;
	for (i = 0; i < sizeof p->chs; i++)
		if (p->chs[i])
			return true;
	return false;
}

/* base is the sector the entry's start is relative to (0 or an EBR). */
static int entry_load(struct hdi_mbr_part *p, const uint8_t *e, uint32_t base)
{
	uint64_t start = (uint64_t)base + hdi_ld_le32(e + HDI_MBR_PE_LBA);
	if (start >= HDI_MBR_MAX_SECTORS)
		return HDI_ECORRUPT;
	p->start = (uint32_t)start;
	p->count = hdi_ld_le32(e + HDI_MBR_PE_COUNT);
	p->ebr = base;
	p->type = e[HDI_MBR_PE_TYPE];
	p->status = e[HDI_MBR_PE_STATUS];
	memcpy(p->chs, e + HDI_MBR_PE_CHS_FIRST, 3);
	memcpy(p->chs + 3, e + HDI_MBR_PE_CHS_LAST, 3);
	p->flags = 0;
	return HDI_OK;
}

/* An EBR names its logical partition in the first entry with sectors and
 * a non-extended, non-empty type, and the next EBR in the first entry with
 * sectors and an extended type (the rule libfdisk and Linux follow). */
static void ebr_entries(uint8_t *sec, int *data, int *link)
{
	unsigned i;
	*data = *link = -1;
	for (i = 0; i < 4; i++) {
		uint8_t *e = hdi_mbr_entry(sec, i);
		if (!hdi_ld_le32(e + HDI_MBR_PE_COUNT))
			continue;
		if (hdi_mbr_is_extended(e[HDI_MBR_PE_TYPE])) {
			if (*link < 0)
				*link = (int)i;
		} else if (e[HDI_MBR_PE_TYPE] && *data < 0) {
			*data = (int)i;
		}
	}
}

/* A last EBR whose first two entries are all zero just ends the chain. */
static bool cleared01(uint8_t *sec)
{
	unsigned i;
	for (i = 0; i < 2 * HDI_MBR_ENTRY_SIZE; i++)
		if (hdi_mbr_entry(sec, 0)[i])
			return false;
	return true;
}

static void omit(struct hdi_mbr *m)
{
	if (m->nomitted < HDI_MBR_OMIT_MAX)
		m->omitted[m->nomitted] = (uint8_t)(HDI_MBR_PRIMARIES + 1 + m->nlogical);
	if (m->nomitted < 255)
		m->nomitted++;
}

/* Walks the chain from the extended start. An EBR without a logical is
 * skipped (as libfdisk does); the walk is bounded, so a loop ends. */
static int read_chain(struct hdi_mbr *m)
{
	const struct hdi_mbr_part *x = hdi_mbr_ext(m);
	uint64_t cur = x->start;
	unsigned steps;
	int r, data, link;
	if (!x->start)
		return HDI_OK;
	for (steps = 0; ; steps++) {
		unsigned i;
		if (steps > 2u * HDI_MBR_MAX_LOGICAL || cur >= m->disk_sectors)
			return HDI_ECORRUPT;
		for (i = 0; i < m->nlogical; i++)
			if (m->l[i].ebr == cur)
				return HDI_ECORRUPT;    /* the chain loops */
		r = hdi_mbr_sec_read(m->dev, m->buf, cur);
		if (r < 0)
			return r;
		ebr_entries(m->buf, &data, &link);
		if (data >= 0) {
			struct hdi_mbr_part *p;
			if (m->nlogical >= HDI_MBR_MAX_LOGICAL)
				return HDI_EUNSUPP;
			p = &m->l[m->nlogical];
			r = entry_load(p, hdi_mbr_entry(m->buf, (unsigned)data),
				       (uint32_t)cur);
			if (r < 0)
				return r;
			p->flags = HDI_MBR_PF_ONDISK;
			m->nlogical++;
		}
		else if (link >= 0 || !cleared01(m->buf))
			omit(m);
		if (link < 0)
			return HDI_OK;
		cur = (uint64_t)x->start +
		      hdi_ld_le32(hdi_mbr_entry(m->buf, (unsigned)link) + HDI_MBR_PE_LBA);
	}
}

int hdi_mbr_read(struct hdi_mbr *m, const struct hdi_bdev *dev, void *buf,
		 size_t buf_size)
{
	uint64_t bytes;
	unsigned i;
	int r;
	memset(m, 0, sizeof(*m));
	m->dev = dev;
	m->buf = buf;
	if (!buf || buf_size < HDI_MBR_BUF_SIZE(dev->granule) ||
	    dev->granule > HDI_GRANULE_MAX)
		return HDI_ENOMEM;
	r = hdi_bdev_size(dev, &bytes);
	if (r < 0)
		return r;
	m->disk_sectors = bytes >> 9;
	hdi_mbr_default_geometry(m->disk_sectors, &m->heads, &m->sectors);
	if (m->disk_sectors < 1)
		return HDI_EINVAL;
	r = hdi_mbr_sec_read(dev, m->buf, 0);
	if (r < 0)
		return r;
	if (!hdi_mbr_has_magic(m->buf))
		return HDI_OK;              /* HDI_MBR_NONE: an empty table */
	m->kind = HDI_MBR_DOS;
	m->disk_id = hdi_ld_le32(m->buf + HDI_MBR_OFF_DISK_ID);
	for (i = 0; i < HDI_MBR_PRIMARIES; i++) {
		struct hdi_mbr_part *p = &m->p[i];
		entry_load(p, hdi_mbr_entry(m->buf, i), 0);
		if (p->type == HDI_MBR_TYPE_GPT)
			m->kind = HDI_MBR_GPT;
		if (!m->ext && p->count && hdi_mbr_is_extended(p->type))
			m->ext = (uint8_t)(i + 1);
	}
	if (m->kind == HDI_MBR_GPT || !m->ext)
		return HDI_OK;
	return read_chain(m);
}

const struct hdi_mbr_part *hdi_mbr_get(const struct hdi_mbr *m, unsigned n)
{
	if (n >= 1 && n <= HDI_MBR_PRIMARIES)
		return &m->p[n - 1];
	if (n > HDI_MBR_PRIMARIES && n - HDI_MBR_PRIMARIES <= m->nlogical)
		return &m->l[n - HDI_MBR_PRIMARIES - 1];
	return 0;
}

unsigned hdi_mbr_count(const struct hdi_mbr *m)
{
	return HDI_MBR_PRIMARIES + m->nlogical;
}

int hdi_mbr_range(const struct hdi_mbr *m, unsigned n, uint64_t *off,
		  uint64_t *len)
{
	const struct hdi_mbr_part *p = hdi_mbr_get(m, n);
	if (!p || !p->count || !p->type)
		return HDI_ENOENT;
	*off = (uint64_t)p->start << 9;
	*len = (uint64_t)p->count << 9;
	return HDI_OK;
}

/* ---- edits ------------------------------------------------------------------ */

static int editable(const struct hdi_mbr *m)
{
	return m->kind == HDI_MBR_GPT ? HDI_EUNSUPP : HDI_OK;
}

int hdi_mbr_set_primary(struct hdi_mbr *m, unsigned n, uint32_t start,
			uint32_t count, uint8_t type, bool active)
{
	struct hdi_mbr_part *p;
	bool ext = hdi_mbr_is_extended(type);
	int r = editable(m);
	if (r < 0)
		return r;
	if (n < 1 || n > HDI_MBR_PRIMARIES || !count || type == HDI_MBR_TYPE_EMPTY)
		return HDI_EINVAL;
	p = &m->p[n - 1];
	if (m->ext == n && !(ext && p->start == start)) {
		/* The chain went with the old extended partition. */
		m->ext = 0;
		m->nlogical = 0;
	}
	if (ext && !m->ext) {
		m->ext = (uint8_t)n;
		m->nlogical = 0;
		m->dirty |= HDI_MBR_D_EMPTYEBR;
	}
	memset(p, 0, sizeof(*p));
	p->start = start;
	p->count = count;
	p->type = type;
	p->status = active ? HDI_MBR_ACTIVE : 0;
	p->flags = HDI_MBR_PF_WRITE | HDI_MBR_PF_CHS;
	return HDI_OK;
}

int hdi_mbr_add_logical(struct hdi_mbr *m, uint32_t ebr, uint32_t start,
			uint32_t count, uint8_t type, bool active)
{
	const struct hdi_mbr_part *x = hdi_mbr_ext(m);
	struct hdi_mbr_part *p;
	int r = editable(m);
	if (r < 0)
		return r;
	if (!x || !count || type == HDI_MBR_TYPE_EMPTY || hdi_mbr_is_extended(type))
		return HDI_EINVAL;
	if (m->nlogical >= HDI_MBR_MAX_LOGICAL)
		return HDI_ENOSPC;
	if (!m->nlogical && ebr != x->start)
		return HDI_EINVAL;
	if (m->nlogical)
		m->l[m->nlogical - 1].flags |= HDI_MBR_PF_LINK;
	p = &m->l[m->nlogical++];
	memset(p, 0, sizeof(*p));
	p->ebr = ebr;
	p->start = start;
	p->count = count;
	p->type = type;
	p->status = active ? HDI_MBR_ACTIVE : 0;
	p->flags = HDI_MBR_PF_WRITE | HDI_MBR_PF_CHS | HDI_MBR_PF_LINK;
	m->dirty &= (uint8_t)~HDI_MBR_D_EMPTYEBR;
	return (int)(HDI_MBR_PRIMARIES + m->nlogical);
}

static void delete_logical(struct hdi_mbr *m, unsigned k)
{
	unsigned i;
	if (k == 0 && m->nlogical > 1) {
		/* The chain must start at the extended start: the next logical
		 * moves into the first EBR. */
		m->l[1].ebr = hdi_mbr_ext(m)->start;
		m->l[1].flags |= HDI_MBR_PF_WRITE | HDI_MBR_PF_LINK | HDI_MBR_PF_ONDISK;
	} else if (k > 0) {
		m->l[k - 1].flags |= HDI_MBR_PF_LINK;
	}
	for (i = k; i + 1 < m->nlogical; i++)
		m->l[i] = m->l[i + 1];
	m->nlogical--;
	if (!m->nlogical)
		m->dirty |= HDI_MBR_D_EMPTYEBR;
}

int hdi_mbr_delete(struct hdi_mbr *m, unsigned n)
{
	struct hdi_mbr_part *p;
	int r = editable(m);
	if (r < 0)
		return r;
	if (n > HDI_MBR_PRIMARIES) {
		if (n - HDI_MBR_PRIMARIES > m->nlogical)
			return HDI_ENOENT;
		delete_logical(m, n - HDI_MBR_PRIMARIES - 1);
		return HDI_OK;
	}
	if (n < 1)
		return HDI_ENOENT;
	p = &m->p[n - 1];
	if (!hdi_mbr_slot_used(p))
		return HDI_ENOENT;
	if (m->ext == n) {
		m->ext = 0;
		m->nlogical = 0;
		m->dirty &= (uint8_t)~HDI_MBR_D_EMPTYEBR;
	}
	memset(p, 0, sizeof(*p));
	p->flags = HDI_MBR_PF_WRITE;
	return HDI_OK;
}

void hdi_mbr_reset(struct hdi_mbr *m, uint32_t disk_id)
{
	memset(m->p, 0, sizeof m->p);
	m->ext = 0;
	m->nlogical = 0;
	m->nomitted = 0;
	m->dirty = 0;
	m->kind = HDI_MBR_NONE;
	m->disk_id = disk_id;
}

int hdi_mbr_clear(struct hdi_mbr *m)
{
	unsigned i;
	int r = editable(m);
	if (r < 0)
		return r;
	for (i = 0; i < HDI_MBR_PRIMARIES; i++) {
		memset(&m->p[i], 0, sizeof(m->p[i]));
		m->p[i].flags = HDI_MBR_PF_WRITE;
	}
	m->ext = 0;
	m->nlogical = 0;
	m->dirty &= (uint8_t)~HDI_MBR_D_EMPTYEBR;
	return HDI_OK;
}

static struct hdi_mbr_part *used_part(struct hdi_mbr *m, unsigned n)
{
	struct hdi_mbr_part *p = (struct hdi_mbr_part *)hdi_mbr_get(m, n);
	return p && p->count && p->type ? p : 0;
}

int hdi_mbr_set_type(struct hdi_mbr *m, unsigned n, uint8_t type)
{
	struct hdi_mbr_part *p;
	int r = editable(m);
	if (r < 0)
		return r;
	if (!(p = used_part(m, n)))
		return HDI_ENOENT;
	if (type == HDI_MBR_TYPE_EMPTY ||
	    hdi_mbr_is_extended(type) != hdi_mbr_is_extended(p->type))
		return HDI_EINVAL;
	p->type = type;
	p->flags |= HDI_MBR_PF_WRITE;
	return HDI_OK;
}

int hdi_mbr_set_active(struct hdi_mbr *m, unsigned n, bool active)
{
	struct hdi_mbr_part *p;
	int r = editable(m);
	if (r < 0)
		return r;
	if (!(p = used_part(m, n)))
		return HDI_ENOENT;
	p->status = active ? HDI_MBR_ACTIVE : 0;
	p->flags |= HDI_MBR_PF_WRITE;
	return HDI_OK;
}

int hdi_mbr_set_disk_id(struct hdi_mbr *m, uint32_t id)
{
	int r = editable(m);
	if (r < 0)
		return r;
	m->disk_id = id;
	m->dirty |= HDI_MBR_D_ID;
	return HDI_OK;
}

#endif /* HDI_CONFIG_MBR */
