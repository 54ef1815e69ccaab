/* kernel_shim/serial.c: the COM1 console, polled, 115200 8N1. */
#include "shim.h"

#define COM1 0x3f8
#define LSR_THRE 0x20          /* transmit holding register empty */

void k_serial_init(void)
{
	k_outb(COM1 + 1, 0x00);  /* no interrupts */
	k_outb(COM1 + 3, 0x80);  /* DLAB: divisor follows */
	k_outb(COM1 + 0, 0x01);  /* 115200 baud */
	k_outb(COM1 + 1, 0x00);
	k_outb(COM1 + 3, 0x03);  /* 8N1 */
	k_outb(COM1 + 2, 0xc7);  /* FIFO on, cleared, 14-byte threshold */
	k_outb(COM1 + 4, 0x03);  /* DTR, RTS */
}

void k_serial_putc(char c)
{
	/* Bounded: a missing UART (LSR reads 0xFF or stuck) cannot hang us. */
	unsigned spin = 100000;
	while (!(k_inb(COM1 + 5) & LSR_THRE) && --spin)
		;
	k_outb(COM1, (uint8_t)c);
}

void k_serial_write(const char *s, size_t n)
{
	/* Lines end in a bare \n, so host tests can match them exactly. */
	while (n--)
		k_serial_putc(*s++);
}
