/* kernel_shim/mem.c: memcpy, memmove, memset and memcmp for a kernel that
 * has no libc: the only undefined symbols the core leaves (see util.h).
 * x86 string instructions; the loop in memcmp is short and simple. */
#include "shim.h"

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	size_t words = n >> 2;
	__asm__ volatile("rep movsl\n\t"
			 "mov %3, %%ecx\n\t"
			 "rep movsb"
			 : "+D"(d), "+S"(src), "+c"(words)
			 : "r"(n & 3u)
			 : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d;
	const unsigned char *s;
	if ((uintptr_t)dst - (uintptr_t)src >= n)  /* forward copy is safe */
		return memcpy(dst, src, n);
	/* dst overlaps the tail of src: copy backwards from the last byte. */
	d = (unsigned char *)dst + n - 1;
	s = (const unsigned char *)src + n - 1;
	__asm__ volatile("std\n\t"
			 "rep movsb\n\t"
			 "cld"
			 : "+D"(d), "+S"(s), "+c"(n)
			 :
			 : "memory");
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	uint32_t v = (uint8_t)c * 0x01010101u;
	size_t words = n >> 2;
	__asm__ volatile("rep stosl\n\t"
			 "mov %3, %%ecx\n\t"
			 "rep stosb"
			 : "+D"(d), "+c"(words)
			 : "a"(v), "r"(n & 3u)
			 : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}
