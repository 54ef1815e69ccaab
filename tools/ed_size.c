/* tools/ed_size.c: size arguments as qemu-img reads them (qemu_strtosz):
 * decimal with an optional fraction, suffixes b k M G T P E (powers of
 * 1024, either case), the fraction rounded to the nearest byte. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ed.h"

static unsigned suffix_shift(char c, int *ok)
{
	static const char s[] = "bkmgtpe";
	const char *p = c ? strchr(s, c | 0x20) : NULL;
	*ok = p != NULL;
	return p ? (unsigned)(p - s) * 10u : 0;
}

/* 64.64 fixed point times 2^shift, rounded half up, as qemu computes it
 * (so 1.7k is 1741 and 0.5 bytes round to 1). Returns -1 on overflow. */
static int scale(uint64_t val, uint64_t frac, unsigned shift, uint64_t *out)
{
	uint64_t hi, lo, fint;
	if (!shift) {
		*out = val;
		return 0;
	}
	hi = val >> (64 - shift);
	lo = val << shift;
	fint = frac >> (64 - shift);              /* whole bytes of frac */
	if ((frac << shift) >> 63)                /* next bit: round half up */
		fint++;
	if (hi || lo + fint < lo)
		return -1;
	*out = lo + fint;
	return 0;
}

/* The fraction's digits, from the '.', as 64-bit fixed point; *end after
 * them. A value that rounds to 1.0 gives 0, as qemu's conversion does. */
static uint64_t fraction(const char *dot, const char **end)
{
	char *e;
	double f = strtod(dot, &e);
	*end = e > dot ? e : dot + 1;    /* "1." and "1.k" are whole */
	if (e <= dot + 1 || !(f < 1.0))
		return 0;
	return (uint64_t)(f * 18446744073709551616.0);
}

int ed_parse_size(const char *s, uint64_t *out)
{
	const char *p, *end;
	char *e;
	unsigned long long v;
	uint64_t frac = 0;
	unsigned shift;
	int hex = 0, ok;
	if (!s || !*s || strchr(s, '-'))
		return HDI_EINVAL;
	errno = 0;
	v = strtoull(s, &e, 10);
	if (errno || e == s)
		return HDI_EINVAL;
	end = e;
	if (v == 0 && (*end == 'x' || *end == 'X')) {
		v = strtoull(s, &e, 16);
		if (errno || *e == '.')
			return HDI_EINVAL;
		end = e;
		hex = 1;
	} else if (*end == '.') {
		for (p = end + 1; *p >= '0' && *p <= '9'; p++)
			;
		frac = fraction(end, &end);
		if (end != p)        /* an exponent ("1.5e3") is not a size */
			return HDI_EINVAL;
	}
	shift = suffix_shift(*end, &ok);
	if (ok)
		end++;
	/* edqcow2 also takes KiB / KB (1024 too) */
	if (ok && shift && *end == 'i')
		end++;
	if (ok && shift && (*end == 'B' || *end == 'b'))
		end++;
	if (*end || (frac && !shift) || (hex && frac))
		return HDI_EINVAL;
	if (scale(v, frac, shift, out) || *out > (uint64_t)INT64_MAX)
		return HDI_EINVAL;
	return HDI_OK;
}
