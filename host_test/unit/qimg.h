/* host_test/unit/qimg.h: a tiny qcow2 image builder on the RAM device for
 * the read-path unit tests: it lays out header, refcount table/block and
 * L1 by hand, and pokes L2 entries directly, so tests control every bit. */
#ifndef QIMG_H
#define QIMG_H

#include <stdlib.h>
#include <string.h>
#include "dev_ram.h"
#include "hdi/qcow2.h"

#define QI_UNUSED __attribute__((unused))

struct qimg {
	struct ram_dev rd;
	uint32_t cb, cs, version, extl2;
	uint64_t size, next;          /* virtual size, next free host byte */
	uint64_t l1_off, rt_off, rb_off;
	uint32_t l1_size;
	hdi_qcow2_t q;
	void *ws;
	size_t ws_size;
	struct hdi_qcow2_opts o;
};

static QI_UNUSED void qi_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static QI_UNUSED void qi_be64(uint8_t *p, uint64_t v)
{
	qi_be32(p, (uint32_t)(v >> 32));
	qi_be32(p + 4, (uint32_t)v);
}
static QI_UNUSED void qi_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v;
}
static QI_UNUSED uint64_t qi_ld64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;
	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Room for the whole image: 64 clusters or 4 MiB, whichever is more. */
static QI_UNUSED uint64_t qi_alloc(struct qimg *m, uint64_t bytes)
{
	uint64_t off = m->next;
	m->next += (bytes + m->cs - 1) & ~(uint64_t)(m->cs - 1);
	if (m->next > m->rd.size) {
		uint64_t old = m->rd.size;
		m->rd.data = realloc(m->rd.data, m->next);
		memset(m->rd.data + old, 0, m->next - old);
		m->rd.size = m->next;
	}
	/* refcount 1 in the (16-bit) refcount block, for realism */
	{
		uint64_t c;
		for (c = off >> m->cb; c < (m->next >> m->cb); c++)
			if (2 * c + 2 <= m->cs)
				qi_be16(m->rd.data + m->rb_off + 2 * c, 1);
	}
	return off;
}

/* A v2/v3 image of size bytes, cluster_bits cb, optional extended L2. */
static QI_UNUSED void qi_init(struct qimg *m, uint32_t cb, uint64_t size,
			      uint32_t version, uint32_t extl2)
{
	uint8_t *h;
	uint64_t l2_bytes;
	memset(m, 0, sizeof(*m));
	m->cb = cb;
	m->cs = 1u << cb;
	m->version = version;
	m->extl2 = extl2;
	m->size = size;
	ram_dev_init(&m->rd, m->cs, 0, 1, 0);
	m->next = m->cs;
	m->rt_off = m->cs;
	m->rb_off = 2ull * m->cs;
	m->next = 3ull * m->cs;
	l2_bytes = (uint64_t)m->cs / (extl2 ? 16 : 8) * m->cs;
	m->l1_size = (uint32_t)((size + l2_bytes - 1) / l2_bytes);
	if (!m->l1_size)
		m->l1_size = 1;
	{
		uint64_t old = m->rd.size;
		m->rd.data = realloc(m->rd.data, m->next);
		memset(m->rd.data + old, 0, m->next - old);
		m->rd.size = m->next;
	}
	m->l1_off = qi_alloc(m, (uint64_t)m->l1_size * 8);
	qi_be16(m->rd.data + m->rb_off, 1);
	qi_be16(m->rd.data + m->rb_off + 2, 1);
	qi_be16(m->rd.data + m->rb_off + 4, 1);
	qi_be64(m->rd.data + m->rt_off, m->rb_off);
	h = m->rd.data;
	qi_be32(h, 0x514649fb);
	qi_be32(h + 4, version);
	qi_be32(h + 20, cb);
	qi_be64(h + 24, size);
	qi_be32(h + 36, m->l1_size);
	qi_be64(h + 40, m->l1_off);
	qi_be64(h + 48, m->rt_off);
	qi_be32(h + 56, 1);
	if (version == 3) {
		qi_be64(h + 72, extl2 ? 1ull << 4 : 0);
		qi_be32(h + 96, 4);
		qi_be32(h + 100, 112);
	}
}

static QI_UNUSED uint32_t qi_l2_entries(const struct qimg *m)
{
	return m->cs / (m->extl2 ? 16 : 8);
}

/* Offset of the L2 entry for virtual cluster vc, allocating the table. */
static QI_UNUSED uint64_t qi_l2e(struct qimg *m, uint64_t vc)
{
	uint64_t l1i = vc / qi_l2_entries(m), l2;
	uint8_t *l1e = m->rd.data + m->l1_off + 8 * l1i;
	l2 = qi_ld64(l1e) & 0x00fffffffffffe00ull;
	if (!l2) {
		l2 = qi_alloc(m, m->cs);
		qi_be64(m->rd.data + m->l1_off + 8 * l1i, l2 | (1ull << 63));
	}
	return l2 + (vc % qi_l2_entries(m)) * (m->extl2 ? 16 : 8);
}

static QI_UNUSED void qi_set(struct qimg *m, uint64_t vc, uint64_t entry,
			     uint64_t bitmap)
{
	uint64_t e = qi_l2e(m, vc);
	qi_be64(m->rd.data + e, entry);
	if (m->extl2)
		qi_be64(m->rd.data + e + 8, bitmap);
}

/* A data cluster filled with byte pattern p (p + i for i-th 512 bytes). */
static QI_UNUSED uint64_t qi_data(struct qimg *m, uint8_t p)
{
	uint64_t off = qi_alloc(m, m->cs), i;
	for (i = 0; i < m->cs; i++)
		m->rd.data[off + i] = (uint8_t)(p + (i >> 9));
	return off;
}

static QI_UNUSED int qi_open(struct qimg *m, size_t ws)
{
	if (!m->ws || m->ws_size != ws) {
		free(m->ws);
		m->ws = malloc(ws);
		m->ws_size = ws;
	}
	memset(&m->o, 0, sizeof m->o);
	m->o.workspace = m->ws;
	m->o.workspace_size = ws;
	return hdi_qcow2_open(&m->q, &m->rd.bdev, &m->o);
}

static QI_UNUSED void qi_free(struct qimg *m)
{
	free(m->ws);
	m->ws = NULL;
	ram_dev_free(&m->rd);
}

#endif
