/* core/qcow2_measure.c: image file sizes as qemu-img measure reports them:
 * header, L1/L2 tables and the refcount structure that counts everything,
 * plus the data clusters. Arithmetic only: no device, no workspace. */
#include "hdi/errors.h"
#include "hdi/qcow2_measure.h"

#define MAX_L1_BYTES   (32ull << 20)   /* QEMU's QCOW_MAX_L1_SIZE */
#define L1E_BITS       3u              /* 8-byte L1 entries */

/* Every divisor here is a power of two, 1 << bits: shifts, so that 32-bit
 * freestanding builds need no 64-bit division helpers. */
static uint64_t div_up(uint64_t a, unsigned bits)
{
	return (a >> bits) + ((a & ((1ull << bits) - 1u)) != 0);
}

static uint64_t round_up(uint64_t a, unsigned bits)
{
	return div_up(a, bits) << bits;
}

void hdi_qcow2_measure_init(struct hdi_qcow2_measure_result *m)
{
	m->required = m->fully_allocated = m->bitmaps = 0;
	m->data = m->data_end = m->bitmap_dir = 0;
}

void hdi_qcow2_measure_data(struct hdi_qcow2_measure_result *m, uint32_t cluster_bits,
			    uint64_t off, uint64_t len)
{
	uint64_t cs = 1ull << cluster_bits, end = off + len, start;
	if (!len || end <= m->data_end)
		return;
	/* clusters already counted stay counted once */
	start = off > m->data_end ? off & ~(cs - 1) : m->data_end;
	end = round_up(end, cluster_bits);
	m->data += end - start;
	m->data_end = end;
}

void hdi_qcow2_measure_bitmap(struct hdi_qcow2_measure_result *m, uint32_t cluster_bits,
			      uint64_t disk_size, uint32_t granularity_bits,
			      size_t name_len)
{
	uint64_t bits = div_up(disk_size, granularity_bits);
	uint64_t clusters = div_up(div_up(bits, 3), cluster_bits);
	m->bitmaps -= round_up(m->bitmap_dir, cluster_bits);
	m->bitmaps += (clusters << cluster_bits) +
		      round_up(clusters * 8, cluster_bits);
	m->bitmap_dir += round_up(24 + (uint64_t)name_len, 3);  /* dir entry */
	m->bitmaps += round_up(m->bitmap_dir, cluster_bits);
}

/* Refcount table and blocks for `clusters` clusters plus themselves: the
 * fixed point where they cover their own clusters too. */
static uint64_t refcount_bytes(uint64_t clusters, unsigned cbits,
			       unsigned rorder)
{
	unsigned per_table = cbits - 3, per_block = cbits + 3 - rorder;
	uint64_t table = 0, blocks = 0, n = 0, last;
	do {
		last = n;
		blocks = div_up(clusters + table + blocks, per_block);
		table = div_up(blocks, per_table);
		n = clusters + blocks + table;
	} while (n != last);
	return (blocks + table) << cbits;
}

/* Every cluster allocated: data, L2 tables for all of it, the L1 table,
 * the header and the refcounts of all that. */
static uint64_t full_size(uint64_t vsize, unsigned cbits, unsigned rorder,
			  unsigned l2e_bits)
{
	uint64_t meta = 1ull << cbits, nl2e, nl1e;
	nl2e = round_up(vsize >> cbits, cbits - l2e_bits);
	meta += nl2e << l2e_bits;
	nl1e = round_up((nl2e << l2e_bits) >> cbits, cbits - L1E_BITS);
	meta += nl1e << L1E_BITS;
	meta += refcount_bytes((meta + vsize) >> cbits, cbits, rorder);
	return meta + vsize;
}

int hdi_qcow2_measure(struct hdi_qcow2_measure_result *m,
		      const struct hdi_qcow2_create_opts *o, bool full_data)
{
	unsigned cb = o->cluster_bits, l2e_bits = o->extended_l2 ? 4u : 3u;
	unsigned rorder = 0;
	uint64_t vsize;
	if (cb < 9 || cb > 21 || !o->refcount_bits || o->refcount_bits > 64 ||
	    (o->refcount_bits & (o->refcount_bits - 1)) || o->size > (1ull << 62))
		return HDI_EINVAL;
	while ((1u << rorder) < o->refcount_bits)
		rorder++;
	vsize = round_up(o->size, cb);
	if (div_up(vsize >> cb, cb - l2e_bits) << L1E_BITS > MAX_L1_BYTES)
		return HDI_EINVAL;
	m->fully_allocated = full_size(vsize, cb, rorder, l2e_bits);
	m->required = m->fully_allocated - vsize +
		      (full_data ? vsize : m->data < vsize ? m->data : vsize);
	return HDI_OK;
}
