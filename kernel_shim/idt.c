/* kernel_shim/idt.c: an IDT for CPU exceptions 0..31, so a fault in the
 * kernel or the library is reported through k_panic (and the kernel's
 * halt hook) instead of a silent triple fault. Interrupts stay off. */
#include "shim.h"

extern const char k_exc_stubs[];   /* entry.S: 32 stubs, 16 bytes apart */

static uint64_t idt[32];

void k_idt_init(void)
{
	struct __attribute__((packed)) { uint16_t limit; uint32_t base; } idtr;
	unsigned n;
	for (n = 0; n < 32; n++) {
		uint32_t a = (uint32_t)(uintptr_t)k_exc_stubs + 16u * n;
		/* 32-bit interrupt gate, present, ring 0, code selector 0x08. */
		idt[n] = (a & 0xffffu) | (uint64_t)0x08u << 16 |
			 (uint64_t)0x8e00u << 32 | (uint64_t)(a >> 16) << 48;
	}
	idtr.limit = sizeof idt - 1;
	idtr.base = (uint32_t)(uintptr_t)idt;
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

void k_exception(uint32_t vec, uint32_t err, uint32_t eip);
void k_exception(uint32_t vec, uint32_t err, uint32_t eip)
{
	k_panic("cpu exception %u (error %x) at eip %08x\n", (unsigned)vec,
		  (unsigned)err, (unsigned)eip);
}
