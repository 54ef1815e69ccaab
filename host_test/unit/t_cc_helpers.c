/* host_test/unit/t_cc_helpers.c: kernel_shim/cc_helpers.c (the division,
 * shift and multiply helpers a Cortex-M0 or rv32 kernel links instead of
 * libgcc) against the host's own arithmetic, on edge and random values.
 * The helpers are renamed so the host's libgcc never meets them. */
#include "unit.h"
#include <stdint.h>

#define __aeabi_uidiv    cch_uidiv
#define __aeabi_uidivmod cch_uidivmod
#define __aeabi_idiv     cch_idiv
#define __aeabi_idivmod  cch_idivmod
#define __aeabi_llsl     cch_llsl
#define __aeabi_llsr     cch_llsr
#define __aeabi_lmul     cch_lmul
#define __ashldi3        cch_ashldi3
#define __lshrdi3        cch_lshrdi3
#define __muldi3         cch_muldi3
#include "../../kernel_shim/cc_helpers.c"

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

TEST(cc_helpers_match_host_arithmetic)
{
	static const uint32_t edge[] = { 0, 1, 2, 3, 7, 10, 255, 512, 0xffffu,
		0x10000u, 0x7fffffffu, 0x80000000u, 0x80000001u, 0xfffffffeu, 0xffffffffu };
	uint64_t s = 0x9e3779b97f4a7c15ull;
	unsigned i, j, bad = 0;
	for (i = 0; i < 20000; i++) {
		uint32_t n = i < 225 ? edge[i / 15] : (uint32_t)rnd(&s);
		uint32_t d = i < 225 ? edge[i % 15] : (uint32_t)(rnd(&s) >> (rnd(&s) & 31));
		uint64_t a = rnd(&s), b = rnd(&s) >> (i & 63);
		int sh = (int)(i % 64);
		if (d) {
			uint64_t qr = cch_uidivmod(n, d);
			int32_t sn = (int32_t)n, sd = (int32_t)d;
			bad += cch_uidiv(n, d) != n / d;
			bad += (uint32_t)qr != n / d || (uint32_t)(qr >> 32) != n % d;
			if (!(sn == INT32_MIN && sd == -1)) {
				uint64_t sqr = cch_idivmod(sn, sd);
				bad += cch_idiv(sn, sd) != sn / sd;
				bad += (int32_t)(uint32_t)sqr != sn / sd ||
				       (int32_t)(uint32_t)(sqr >> 32) != sn % sd;
			}
		}
		bad += cch_ashldi3(a, sh) != a << sh || cch_llsl(a, sh) != a << sh;
		bad += cch_lshrdi3(a, sh) != a >> sh || cch_llsr(a, sh) != a >> sh;
		bad += cch_muldi3(a, b) != a * b || cch_lmul(a, b) != a * b;
		for (j = 0; j < 15 && i < 15; j++)
			bad += cch_muldi3(edge[i], edge[j]) != (uint64_t)edge[i] * edge[j];
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(cch_uidiv(5, 0), 0);
}
