/* kernel_shim/cc_helpers.c: the compiler's arithmetic helpers that a core
 * build calls on CPUs without a divide instruction or 64-bit registers
 * (Cortex-M0: __aeabi_*; rv32: __ashldi3, __lshrdi3), for kernels that
 * link no libgcc. Written with 32-bit operations and constant shifts only,
 * so none of them calls a helper itself. Division by zero gives 0. */
#include <stdint.h>

uint32_t __aeabi_uidiv(uint32_t n, uint32_t d);
uint64_t __aeabi_uidivmod(uint32_t n, uint32_t d);
int32_t __aeabi_idiv(int32_t n, int32_t d);
uint64_t __aeabi_idivmod(int32_t n, int32_t d);
uint64_t __aeabi_llsl(uint64_t v, int s);
uint64_t __aeabi_llsr(uint64_t v, int s);
uint64_t __aeabi_lmul(uint64_t a, uint64_t b);
uint64_t __ashldi3(uint64_t v, int s);
uint64_t __lshrdi3(uint64_t v, int s);
uint64_t __muldi3(uint64_t a, uint64_t b);

/* Restoring division, one quotient bit per step. */
static uint32_t udivmod(uint32_t n, uint32_t d, uint32_t *rem)
{
	uint32_t q = 0, r = 0;
	int i;
	if (!d) {
		*rem = 0;
		return 0;
	}
	for (i = 31; i >= 0; i--) {
		r = (r << 1) | ((n >> i) & 1u);
		if (r >= d) {
			r -= d;
			q |= 1u << i;
		}
	}
	*rem = r;
	return q;
}

static uint32_t uabs(int32_t v)
{
	return v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
}

uint32_t __aeabi_uidiv(uint32_t n, uint32_t d)
{
	uint32_t r;
	return udivmod(n, d, &r);
}

/* AAPCS returns a 64-bit value in r0 (low: quotient) and r1 (remainder). */
uint64_t __aeabi_uidivmod(uint32_t n, uint32_t d)
{
	uint32_t r, q = udivmod(n, d, &r);
	return ((uint64_t)r << 32) | q;
}

int32_t __aeabi_idiv(int32_t n, int32_t d)
{
	uint32_t r, q = udivmod(uabs(n), uabs(d), &r);
	return (int32_t)((n < 0) != (d < 0) ? 0u - q : q);
}

uint64_t __aeabi_idivmod(int32_t n, int32_t d)
{
	uint32_t r, q = udivmod(uabs(n), uabs(d), &r);
	if ((n < 0) != (d < 0))
		q = 0u - q;
	if (n < 0)
		r = 0u - r;
	return ((uint64_t)r << 32) | q;
}

static uint64_t join(uint32_t hi, uint32_t lo)
{
	return ((uint64_t)hi << 32) | lo;
}

uint64_t __ashldi3(uint64_t v, int s)
{
	uint32_t lo = (uint32_t)v, hi = (uint32_t)(v >> 32);
	if (s & 32)
		return join(lo << (s & 31), 0);
	if (!(s & 31))
		return v;
	return join((hi << s) | (lo >> (32 - s)), lo << s);
}

uint64_t __lshrdi3(uint64_t v, int s)
{
	uint32_t lo = (uint32_t)v, hi = (uint32_t)(v >> 32);
	if (s & 32)
		return join(0, hi >> (s & 31));
	if (!(s & 31))
		return v;
	return join(hi >> s, (lo >> s) | (hi << (32 - s)));
}

uint64_t __aeabi_llsl(uint64_t v, int s)
{
	return __ashldi3(v, s);
}

uint64_t __aeabi_llsr(uint64_t v, int s)
{
	return __lshrdi3(v, s);
}

/* 32 x 32 -> 64 from 16-bit halves: a 32-bit multiply instruction only. */
static uint64_t mul32(uint32_t x, uint32_t y)
{
	uint32_t xl = x & 0xffffu, xh = x >> 16, yl = y & 0xffffu, yh = y >> 16;
	uint32_t ll = xl * yl, lh = xl * yh, hl = xh * yl, hh = xh * yh;
	uint32_t mid = (ll >> 16) + (lh & 0xffffu) + (hl & 0xffffu);
	return join(hh + (lh >> 16) + (hl >> 16) + (mid >> 16),
		    (ll & 0xffffu) | (mid << 16));
}

uint64_t __muldi3(uint64_t a, uint64_t b)
{
	uint32_t al = (uint32_t)a, ah = (uint32_t)(a >> 32);
	uint32_t bl = (uint32_t)b, bh = (uint32_t)(b >> 32);
	return mul32(al, bl) + ((uint64_t)(al * bh + ah * bl) << 32);
}

uint64_t __aeabi_lmul(uint64_t a, uint64_t b)
{
	return __muldi3(a, b);
}
