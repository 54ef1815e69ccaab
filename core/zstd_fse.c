/* core/zstd_fse.c: FSE table descriptions (RFC 8878 4.1.1) and the
 * decoding tables built from a normalized distribution (4.1.1.1). */
#include "zstd_int.h"

#if HDI_CONFIG_ZSTD

/* 32 bits of src from bit `pos` on, little-endian; zeros past the end. */
static uint32_t fw_peek(const uint8_t *src, size_t len, size_t pos)
{
	size_t i = pos >> 3;
	uint64_t v = 0;
	unsigned k;
	for (k = 0; k < 5 && i + k < len; k++)
		v |= (uint64_t)src[i + k] << (8 * k);
	return (uint32_t)(v >> (pos & 7));
}

/* A value in [0, 2 * thr - 1 - rem]: small values take nb - 1 bits. */
static int read_count(const uint8_t *src, size_t len, size_t *pos,
		      unsigned nb, int thr, int rem)
{
	uint32_t v = fw_peek(src, len, *pos);
	int max = 2 * thr - 1 - rem;
	int c = (int)(v & (uint32_t)(thr - 1));
	if (c < max) {
		*pos += nb - 1;
		return c;
	}
	c = (int)(v & (uint32_t)(2 * thr - 1));
	if (c >= thr)
		c -= max;
	*pos += nb;
	return c;
}

int hdi_zs_ncount(struct zs_work *w, const uint8_t *src, size_t len,
		  unsigned *max_sym, unsigned *log, unsigned max_log)
{
	size_t pos = 4;
	unsigned sym = 0, lim = *max_sym + 1, nb;
	int rem, thr;
	bool prev0 = false;
	if (!len)
		return HDI_ECORRUPT;
	*log = (src[0] & 15u) + 5u;
	if (*log > max_log)
		return HDI_ECORRUPT;
	memset(w->norm, 0, sizeof(w->norm));
	rem = (1 << *log) + 1;
	thr = 1 << *log;
	nb = *log + 1;
	while (rem > 1 && sym < lim) {
		int c;
		if (prev0) {
			/* 2-bit repeat flags: 3 means three zeros and another flag */
			uint32_t f;
			while ((f = fw_peek(src, len, pos) & 3u) == 3u) {
				sym += 3;
				pos += 2;
				if (pos > 8 * len)
					return ZS_STRICT();
			}
			sym += f;
			pos += 2;
			if (sym >= lim)
				break;
		}
		c = read_count(src, len, &pos, nb, thr, rem) - 1;
		rem -= c < 0 ? -c : c;
		w->norm[sym++] = (int16_t)c;
		prev0 = c == 0;
		if (rem < thr) {
			if (rem <= 1)
				break;
			nb = zs_highbit((uint32_t)rem) + 1;
			thr = 1 << (nb - 1);
		}
	}
	/* a description that runs past its section: libzstd reads on from
	 * bits it has already used, so what it decodes there is arbitrary */
	if ((pos + 7) / 8 > len)
		return ZS_STRICT();
	if (rem != 1 || sym > lim)
		return HDI_ECORRUPT;
	*max_sym = sym - 1;
	return (int)((pos + 7) / 8);
}

void hdi_zs_fse_build(struct zs_work *w, struct zs_fse *t, unsigned max_sym,
		      unsigned log)
{
	uint32_t size = 1u << log, mask = size - 1, high = size - 1;
	uint32_t step = (size >> 1) + (size >> 3) + 3, pos = 0, u;
	unsigned s;
	int i;
	/* "less than 1" symbols take the last cells, one each */
	for (s = 0; s <= max_sym; s++) {
		if (w->norm[s] == -1) {
			t[high--].sym = (uint8_t)s;
			w->next[s] = 1;
		} else {
			w->next[s] = (uint16_t)w->norm[s];
		}
	}
	for (s = 0; s <= max_sym; s++) {
		for (i = 0; i < w->norm[s]; i++) {
			t[pos].sym = (uint8_t)s;
			do
				pos = (pos + step) & mask;
			while (pos > high);
		}
	}
	/* each symbol's states in order: the first ones read one bit more */
	for (u = 0; u < size; u++) {
		uint32_t x = w->next[t[u].sym]++;
		unsigned bits = log - zs_highbit(x);
		t[u].bits = (uint8_t)bits;
		t[u].base = (uint16_t)((x << bits) - size);
	}
}

#endif /* HDI_CONFIG_ZSTD */
