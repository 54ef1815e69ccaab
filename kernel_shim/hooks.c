/* kernel_shim/hooks.c: the kernel's log, panic, assert and QEMU-exit hooks,
 * with a small printf subset that needs no 64-bit division. */
#include <stdarg.h>
#include <stdbool.h>
#include "shim.h"

__attribute__((noreturn)) static void default_halt(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void (*k_log_sink)(const char *s, size_t n) = k_serial_write;
void (*k_halt_hook)(void) = default_halt;
const char *k_panic_prefix = "";

/* Formats into a line buffer and hands whole chunks to the sink. */
struct out { char buf[128]; size_t n; };

static void flush_out(struct out *o)
{
	if (o->n)
		k_log_sink(o->buf, o->n);
	o->n = 0;
}

static void put(struct out *o, char c)
{
	if (o->n == sizeof o->buf)
		flush_out(o);
	o->buf[o->n++] = c;
}

/* Decimal by subtracting powers of ten: no __udivdi3. */
static int utoa10(uint64_t v, char *d)
{
	static const uint64_t p10[] = {
		10000000000000000000ull, 1000000000000000000ull,
		100000000000000000ull, 10000000000000000ull,
		1000000000000000ull, 100000000000000ull, 10000000000000ull,
		1000000000000ull, 100000000000ull, 10000000000ull,
		1000000000ull, 100000000ull, 10000000ull, 1000000ull,
		100000ull, 10000ull, 1000ull, 100ull, 10ull, 1ull };
	int n = 0;
	unsigned i;
	for (i = 0; i < sizeof p10 / sizeof p10[0]; i++) {
		char c = '0';
		while (v >= p10[i]) {
			v -= p10[i];
			c++;
		}
		if (n || c != '0' || i + 1 == sizeof p10 / sizeof p10[0])
			d[n++] = c;
	}
	return n;
}

static int utoa16(uint64_t v, char *d)
{
	char t[16];
	int n = 0, i;
	do {
		t[n++] = "0123456789abcdef"[v & 15u];
		v >>= 4;
	} while (v);
	for (i = 0; i < n; i++)
		d[i] = t[n - 1 - i];
	return n;
}

static void emit_num(struct out *o, uint64_t v, bool neg, bool hex,
		     int width, char pad)
{
	char d[24];
	int n = hex ? utoa16(v, d) : utoa10(v, d), i;
	if (neg && pad == '0')
		put(o, '-');
	for (i = n + neg; i < width; i++)
		put(o, pad);
	if (neg && pad != '0')
		put(o, '-');
	for (i = 0; i < n; i++)
		put(o, d[i]);
}

static void vlog(const char *fmt, va_list ap)
{
	struct out o;
	o.n = 0;
	for (; *fmt; fmt++) {
		int longs = 0, width = 0;
		char pad = ' ';
		uint64_t v;
		bool neg = false;
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			for (s = s ? s : "(null)"; *s; s++)
				put(&o, *s);
			continue;
		}
		case 'c':
			put(&o, (char)va_arg(ap, int));
			continue;
		case 'd': {
			int64_t sv = longs >= 2 ? va_arg(ap, long long)
				   : longs ? va_arg(ap, long) : va_arg(ap, int);
			neg = sv < 0;
			v = neg ? 0 - (uint64_t)sv : (uint64_t)sv;
			emit_num(&o, v, neg, false, width, pad);
			continue;
		}
		case 'u':
		case 'x':
			v = longs >= 2 ? va_arg(ap, unsigned long long)
			  : longs ? va_arg(ap, unsigned long)
				  : va_arg(ap, unsigned);
			emit_num(&o, v, false, *fmt == 'x', width, pad);
			continue;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			emit_num(&o, (uintptr_t)va_arg(ap, void *), false, true,
				 8, '0');
			continue;
		case '\0':
			fmt--;
			continue;
		default:
			put(&o, *fmt);
		}
	}
	flush_out(&o);
}

void k_logf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void k_panic(const char *fmt, ...)
{
	va_list ap;
	k_logf("%s", k_panic_prefix);
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
	k_halt_hook();
	default_halt();
}

void k_assert_fail(const char *expr, const char *file, int line)
{
	k_panic("assertion failed: %s at %s:%d\n", expr, file, line);
}

void k_qemu_exit(uint8_t code)
{
	k_outb(0xf4, code);
	default_halt();
}
