/* core/qcow2_cache.c: the slice cache for qcow2 metadata (L1/L2 tables,
 * refcount table and blocks) over the caller's workspace: hashed lookup,
 * LRU eviction, pinning, write-back with QEMU-style flush dependencies. */
#include "qcow2_int.h"

#define NIL UINT32_MAX
#define NO_OFF UINT64_MAX

/* 24 bytes per slot, kept in the workspace next to the slice data. */
struct qc_slot {
	uint64_t off;             /* file offset, NO_OFF when empty */
	uint32_t prev, next;      /* LRU list */
	uint32_t hnext;           /* hash chain */
	uint16_t pins;
	uint8_t kind;
	uint8_t dirty;
};

static uint32_t bucket(const struct qc_cache *c, uint64_t off)
{
	uint32_t x = (uint32_t)(off >> c->slice_bits) ^ (uint32_t)(off >> 43);
	return ((x * 2654435761u) >> 13) & c->hmask;
}

static uint8_t *slot_data(const struct qc_cache *c, uint32_t i)
{
	return c->data + ((size_t)i << c->slice_bits);
}

static void lru_unlink(struct qc_cache *c, uint32_t i)
{
	struct qc_slot *s = &c->slots[i];
	if (s->prev != NIL)
		c->slots[s->prev].next = s->next;
	else
		c->lru_head = s->next;
	if (s->next != NIL)
		c->slots[s->next].prev = s->prev;
	else
		c->lru_tail = s->prev;
	s->prev = s->next = NIL;
}

static void lru_push_head(struct qc_cache *c, uint32_t i)
{
	struct qc_slot *s = &c->slots[i];
	s->prev = NIL;
	s->next = c->lru_head;
	if (c->lru_head != NIL)
		c->slots[c->lru_head].prev = i;
	c->lru_head = i;
	if (c->lru_tail == NIL)
		c->lru_tail = i;
}

/* Empty slots go to the tail so they are reused first. */
static void lru_push_tail(struct qc_cache *c, uint32_t i)
{
	struct qc_slot *s = &c->slots[i];
	s->next = NIL;
	s->prev = c->lru_tail;
	if (c->lru_tail != NIL)
		c->slots[c->lru_tail].next = i;
	c->lru_tail = i;
	if (c->lru_head == NIL)
		c->lru_head = i;
}

static void touch(struct qc_cache *c, uint32_t i)
{
	if (c->lru_head != i) {
		lru_unlink(c, i);
		lru_push_head(c, i);
	}
}

static uint32_t hash_find(const struct qc_cache *c, uint64_t off)
{
	uint32_t i = c->buckets[bucket(c, off)];
	while (i != NIL && c->slots[i].off != off)
		i = c->slots[i].hnext;
	return i;
}

static void hash_insert(struct qc_cache *c, uint32_t i)
{
	uint32_t b = bucket(c, c->slots[i].off);
	c->slots[i].hnext = c->buckets[b];
	c->buckets[b] = i;
}

static void hash_remove(struct qc_cache *c, uint32_t i)
{
	uint32_t *p = &c->buckets[bucket(c, c->slots[i].off)];
	while (*p != NIL && *p != i)
		p = &c->slots[*p].hnext;
	if (*p == i)
		*p = c->slots[i].hnext;
	c->slots[i].hnext = NIL;
}

/* Drops slot i's contents (no write-back) and parks it at the LRU tail. */
static void slot_drop(struct qc_cache *c, uint32_t i)
{
	struct qc_slot *s = &c->slots[i];
	if (s->off != NO_OFF)
		hash_remove(c, i);
	if (s->dirty)
		c->ndirty--;
	s->off = NO_OFF;
	s->dirty = 0;
	lru_unlink(c, i);
	lru_push_tail(c, i);
}

int hdi_qc_cache_init(struct qc_cache *c, struct qcow2 *q, void *mem,
		      size_t mem_size, uint32_t slice_size)
{
	uintptr_t p = ((uintptr_t)mem + 7u) & ~(uintptr_t)7u;
	size_t avail, per, n, nb = 1;
	uint32_t bits = 0, i;
	memset(c, 0, sizeof(*c));
	if (!hdi_is_pow2(slice_size) || (uintptr_t)mem + mem_size < p)
		return HDI_EINVAL;
	while ((1u << bits) < slice_size)
		bits++;
	avail = mem_size - (size_t)(p - (uintptr_t)mem);
	/* per slot: data + slot record + about one bucket */
	per = slice_size + sizeof(struct qc_slot) + sizeof(uint32_t);
	n = avail / per;
	if (n < 2 || n > 0x7fffffffu)
		return HDI_ENOMEM;
	while (nb * 2 <= n)
		nb *= 2;
	c->q = q;
	c->slice_size = slice_size;
	c->slice_bits = bits;
	c->slots = (struct qc_slot *)p;
	c->buckets = (uint32_t *)(c->slots + n);
	c->data = (uint8_t *)(c->buckets + nb);
	/* nb <= n, so records + buckets + data fit in n * per <= avail; nb is
	 * even, so data stays 8-aligned. */
	c->nslots = (uint32_t)n;
	c->hmask = (uint32_t)nb - 1u;
	c->lru_head = c->lru_tail = NIL;
	c->last = NIL;
	for (i = 0; i < nb; i++)
		c->buckets[i] = NIL;
	for (i = 0; i < c->nslots; i++) {
		c->slots[i].off = NO_OFF;
		c->slots[i].pins = 0;
		c->slots[i].dirty = 0;
		c->slots[i].kind = 0;
		c->slots[i].hnext = NIL;
		c->slots[i].prev = c->slots[i].next = NIL;
		lru_push_tail(c, i);
	}
	return HDI_OK;
}

static int flush_dependency(struct qc_cache *c)
{
	int r = hdi_qc_cache_flush(c->depends);
	if (r < 0)
		return r;
	c->depends = NULL;
	c->depends_on_flush = false;
	return HDI_OK;
}

/* Writes slot i back if dirty, after whatever must reach the disk first. */
static int slot_writeback(struct qc_cache *c, uint32_t i)
{
	struct qc_slot *s = &c->slots[i];
	struct qcow2 *q = c->q;
	int r;
	if (!s->dirty)
		return HDI_OK;
	if (c->depends) {
		r = flush_dependency(c);
	} else if (c->depends_on_flush) {
		r = hdi_bdev_flush(q->file);
		if (r == HDI_OK)
			c->depends_on_flush = false;
	} else {
		r = HDI_OK;
	}
	if (r < 0)
		return r;
	if (q->meta_write_hook) {
		r = q->meta_write_hook(q, (enum qc_kind)s->kind, s->off,
				       c->slice_size);
		if (r < 0)
			return r;
	}
	r = hdi_qc_pwrite(q, s->off, slot_data(c, i), c->slice_size);
	if (r < 0)
		return r;
	s->dirty = 0;
	c->ndirty--;
	return HDI_OK;
}

/* The least recently used unpinned slot, written back and emptied. */
static int evict(struct qc_cache *c, uint32_t *out)
{
	uint32_t i;
	int r;
	for (i = c->lru_tail; i != NIL; i = c->slots[i].prev)
		if (!c->slots[i].pins)
			break;
	if (i == NIL)
		return hdi_qc_err(c->q, HDI_ENOMEM,
				  "metadata cache too small: every slice is in use");
	r = slot_writeback(c, i);
	if (r < 0)
		return r;
	slot_drop(c, i);
	*out = i;
	return HDI_OK;
}

/* Reads a slice; bytes past the end of the file read as zeros (a table
 * smaller than its cluster may end the file). */
static int slice_read(struct qc_cache *c, uint64_t off, uint8_t *dst)
{
	struct qcow2 *q = c->q;
	size_t n = c->slice_size;
	if (off >= q->file_size)
		n = 0;
	else if (q->file_size - off < n)
		n = (size_t)(q->file_size - off);
	memset(dst + n, 0, c->slice_size - n);
	return n ? hdi_qc_pread(q, off, dst, n) : HDI_OK;
}

static int get(struct qc_cache *c, uint64_t off, enum qc_kind kind,
	       void **data, bool read)
{
	uint32_t i = c->last;
	int r;
	*data = NULL;
	if (off & (c->slice_size - 1u) || off == NO_OFF)
		return HDI_EINVAL;
	if (i == NIL || c->slots[i].off != off)
		i = hash_find(c, off);
	if (i == NIL) {
		r = evict(c, &i);
		if (r < 0)
			return r;
		if (read) {
			r = slice_read(c, off, slot_data(c, i));
			if (r < 0)
				return r;   /* the slot stays empty */
		} else {
			memset(slot_data(c, i), 0, c->slice_size);
		}
		c->slots[i].off = off;
		c->slots[i].kind = (uint8_t)kind;
		hash_insert(c, i);
	} else if (!read) {
		memset(slot_data(c, i), 0, c->slice_size);
	}
	if (c->slots[i].pins == UINT16_MAX)
		return hdi_qc_err(c->q, HDI_EBUSY, "metadata slice pinned too often");
	c->slots[i].pins++;
	touch(c, i);
	c->last = i;
	*data = slot_data(c, i);
	return HDI_OK;
}

int hdi_qc_cache_get(struct qc_cache *c, uint64_t off, enum qc_kind kind,
		     void **data)
{
	return get(c, off, kind, data, true);
}

int hdi_qc_cache_get_empty(struct qc_cache *c, uint64_t off,
			   enum qc_kind kind, void **data)
{
	return get(c, off, kind, data, false);
}

static uint32_t slot_of(const struct qc_cache *c, const void *data)
{
	size_t d = (size_t)((const uint8_t *)data - c->data);
	return (uint32_t)(d >> c->slice_bits);
}

void hdi_qc_cache_put(struct qc_cache *c, void **data)
{
	uint32_t i;
	if (!*data)
		return;
	i = slot_of(c, *data);
	HDI_ASSERT(i < c->nslots && c->slots[i].pins);
	if (i < c->nslots && c->slots[i].pins)
		c->slots[i].pins--;
	*data = NULL;
}

void hdi_qc_cache_mark_dirty(struct qc_cache *c, const void *data)
{
	uint32_t i = slot_of(c, data);
	if (i < c->nslots && c->slots[i].off != NO_OFF && !c->slots[i].dirty) {
		c->slots[i].dirty = 1;
		c->ndirty++;
	}
}

int hdi_qc_cache_write(struct qc_cache *c)
{
	uint32_t i;
	int r;
	for (i = 0; i < c->nslots && c->ndirty; i++) {
		r = slot_writeback(c, i);
		if (r < 0)
			return r;
	}
	return HDI_OK;
}

int hdi_qc_cache_flush(struct qc_cache *c)
{
	int r = hdi_qc_cache_write(c);
	if (r < 0)
		return r;
	return hdi_bdev_flush(c->q->file);
}

int hdi_qc_cache_write_slice(struct qc_cache *c, uint64_t off)
{
	uint32_t i = hash_find(c, off);
	return i == NIL ? HDI_OK : slot_writeback(c, i);
}

int hdi_qc_cache_set_dependency(struct qc_cache *c, struct qc_cache *dep)
{
	int r;
	if (dep->depends) {
		r = flush_dependency(dep);
		if (r < 0)
			return r;
	}
	if (c->depends && c->depends != dep) {
		r = flush_dependency(c);
		if (r < 0)
			return r;
	}
	c->depends = dep;
	return HDI_OK;
}

void hdi_qc_cache_depends_on_flush(struct qc_cache *c)
{
	c->depends_on_flush = true;
}

void hdi_qc_cache_discard(struct qc_cache *c, uint64_t off, uint64_t len)
{
	uint64_t end, o;
	uint32_t i;
	if (!len || !hdi_add_ok(off, len, &end))
		return;
	o = off & ~(uint64_t)(c->slice_size - 1u);
	for (; o < end; o += c->slice_size) {
		i = hash_find(c, o);
		if (i != NIL && !c->slots[i].pins)
			slot_drop(c, i);
		if (o + c->slice_size < o)
			break;
	}
	c->last = NIL;
}

int hdi_qc_cache_invalidate(struct qc_cache *c)
{
	uint32_t i;
	int r = HDI_OK;
	for (i = 0; i < c->nslots; i++) {
		struct qc_slot *s = &c->slots[i];
		if (s->off == NO_OFF)
			continue;
		if (s->dirty || s->pins)
			r = HDI_EBUSY;
		else
			slot_drop(c, i);
	}
	c->last = NIL;
	return r;
}
