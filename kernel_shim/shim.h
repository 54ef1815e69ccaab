/* kernel_shim/shim.h: what the kernel shim offers a kernel besides the ATA
 * device: port I/O, the COM1 console, and the log/assert/exit hooks. */
#ifndef K_SHIM_H
#define K_SHIM_H

#include <stddef.h>
#include <stdint.h>

/* kernel_shim/mem.c; the same prototypes as core/util.h. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

static inline void k_outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t k_inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* COM1 (0x3F8), 115200 8N1, polled. Output only. */
void k_serial_init(void);
void k_serial_putc(char c);
void k_serial_write(const char *s, size_t n);

/* Hooks. Log lines go to k_log_sink (COM1 unless the kernel sets its
 * own). k_logf takes %s %c %d %u %x %lu %lx %llu %llx %p %%, with an
 * optional 0 flag and width (e.g. %08x); 64-bit values print without
 * 64-bit division, so no libgcc helper is needed. */
extern void (*k_log_sink)(const char *s, size_t n);
void k_logf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* What a failed assertion or a panic does once the message is out: the
 * kernel's choice (the demo exits QEMU); the default halts the CPU. Panic
 * messages start with k_panic_prefix (default ""). */
extern void (*k_halt_hook)(void);
extern const char *k_panic_prefix;
__attribute__((noreturn)) void k_panic(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void k_assert_fail(const char *expr,
					       const char *file, int line);
#define K_KASSERT(e) ((e) ? (void)0 : k_assert_fail(#e, __FILE__, __LINE__))

/* CPU exceptions 0..31 go to k_panic ("cpu exception N ..."). */
void k_idt_init(void);

/* QEMU's isa-debug-exit at iobase 0xf4: QEMU exits with (code << 1) | 1.
 * Halts if the device is missing (real hardware). */
__attribute__((noreturn)) void k_qemu_exit(uint8_t code);

#endif
