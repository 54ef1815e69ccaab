/* kernel_shim/boot.S: our MBR boot code (bytes 0..439 of sector 0). It loads
 * the kernel from the active partition and enters 32-bit protected mode.
 *
 * The kernel image starts at the partition's first sector with a 16-byte
 * header (see entry.S): "HDIK", its length in sectors, its 32-bit entry.
 * It is loaded to KERN_SEG:0 (physical 0x10000), one sector per BIOS call,
 * with INT 13h AH=42h when the extensions are present and AH=02h (CHS,
 * geometry from AH=08h) otherwise. -DFORCE_CHS skips the extension check so
 * the tests can boot through the CHS path on a BIOS that has both.
 * Failures print "HDI-BOOT: <why>" to COM1 and the screen, then halt. */
	.code16
	.section .text
	.globl _start

#define KERN_SEG   0x1000          /* kernel at physical 0x10000 */
#define KERN_MAX   1024            /* 512 KiB: 0x10000..0x90000, below the EBDA */
#define PART_TABLE 0x7dbe
#define KMAGIC     0x4b494448      /* "HDIK" little-endian */

/* Only relative jumps and ds=0 data, so a BIOS entering at 07C0:0000
 * instead of 0000:7C00 does no harm. */
_start:
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss                /* blocks interrupts until after the next */
	mov	$0x7c00, %sp
	cld
	mov	%dl, drive

	/* The active partition: status byte 0x80. */
	mov	$PART_TABLE, %si
	mov	$4, %cx
find:	cmpb	$0x80, (%si)
	je	found
	add	$16, %si
	loop	find
	mov	$msg_noact, %si
	jmp	fail
found:
	mov	8(%si), %eax
	mov	%eax, dap_lba

#ifndef FORCE_CHS
	mov	$0x41, %ah
	mov	$0x55aa, %bx
	int	$0x13                   /* dl = drive still */
	jc	chs
	cmp	$0xaa55, %bx
	jne	chs
	shr	%cl                     /* bit 0: packet (AH=42h) access */
	jnc	chs
	incb	use_ext
	jmp	load
#endif
chs:
	mov	$8, %ah
	mov	drive, %dl
	xor	%di, %di                /* es:di = 0 works around BIOS bugs */
	int	$0x13
	jc	diskerr
	and	$0x3f, %cx
	jz	diskerr
	mov	%cx, spt
	movzbw	%dh, %dx
	inc	%dx
	mov	%dx, heads

load:
	call	read_sector             /* first sector: the header */
	mov	$KERN_SEG, %ax
	mov	%ax, %es
	cmpl	$KMAGIC, %es:0
	jne	badk
	mov	%es:4, %ecx             /* kernel length in sectors */
	jecxz	badk
	cmp	12(%si), %ecx           /* must fit in the partition ... */
	ja	badk
	cmp	$KERN_MAX, %ecx         /* ... and below the EBDA */
	ja	badk
	dec	%cx
	jz	pmode
more:	incl	dap_lba
	addw	$0x20, dap_seg
	call	read_sector
	loop	more
	jmp	pmode

diskerr:
	mov	$msg_disk, %si
	jmp	fail
badk:
	mov	$msg_badk, %si
fail:
	push	%si
	mov	$msg_pre, %si
	call	puts
	pop	%si
	call	puts
halt:	cli
	hlt
	jmp	halt

/* Prints the NUL-terminated string at si to COM1 and the BIOS console. */
puts:	lodsb
	test	%al, %al
	jz	1f
	mov	$0x3f8, %dx
	out	%al, %dx
	mov	$0x0e, %ah
	xor	%bx, %bx
	int	$0x10
	jmp	puts
1:	ret

pmode:
	cli                             /* for good: the kernel has no IDT */
	lgdt	gdt
	mov	%cr0, %eax
	or	$1, %al
	mov	%eax, %cr0
	mov	$0x10, %ax              /* 16-bit protected mode loads descriptors */
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss                /* no stack: the kernel sets its own */
	ljmp	$0x08, $pm32

	.code32
pm32:
	jmp	*(KERN_SEG * 16 + 8)

	.code16
/* Reads the sector at dap_lba into dap_seg:0. Keeps every register but
 * flags; three tries with a disk reset between them. */
read_sector:
	pusha
	mov	$3, %bp
retry:
	cmpb	$0, use_ext
	je	1f
	mov	$dap, %si
	mov	$0x42, %ah
	jmp	2f
1:	mov	dap_lba, %eax
	xor	%edx, %edx
	mov	spt, %ecx
	div	%ecx                    /* eax = track, dx = sector - 1 */
	inc	%dx
	mov	%dx, %cx
	xor	%edx, %edx
	mov	heads, %ebx
	div	%ebx                    /* eax = cylinder, dx = head */
	cmp	$1023, %eax
	ja	diskerr                 /* past what CHS can address */
	mov	%dl, %dh
	mov	%al, %ch
	shl	$6, %ah
	or	%ah, %cl
	les	dap_off, %bx            /* es:bx = dap_seg:dap_off */
	mov	$0x0201, %ax
2:	mov	drive, %dl
	int	$0x13
	jnc	3f
	xor	%ah, %ah                /* reset, then try again */
	int	$0x13
	dec	%bp
	jnz	retry
	jmp	diskerr
3:	xor	%ax, %ax
	mov	%ax, %es
	popa
	ret

msg_pre:	.asciz "HDI-BOOT: "
msg_noact:	.asciz "no active partition"
msg_disk:	.asciz "disk error"
msg_badk:	.asciz "bad kernel"

drive:		.byte 0
use_ext:	.byte 0
spt:		.long 0                 /* CHS geometry from AH=08h */
heads:		.long 0

/* Disk address packet for AH=42h; dap_off/dap_seg double as es:bx for CHS. */
dap:		.byte 16, 0
		.word 1                 /* sectors per call */
dap_off:	.word 0
dap_seg:	.word KERN_SEG
dap_lba:	.long 0, 0

/* The null descriptor's bytes hold the GDTR operand (limit, base). */
gdt:		.word gdt_end - gdt - 1
		.long gdt
		.word 0
		.quad 0x00cf9a000000ffff  /* 0x08: code, flat 4 GiB, 32-bit */
		.quad 0x00cf92000000ffff  /* 0x10: data, flat 4 GiB */
gdt_end:

	.org 440                         /* fails to assemble when too big */

	.section .note.GNU-stack, "", @progbits
