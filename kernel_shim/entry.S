/* kernel_shim/entry.S: the kernel's image header and 32-bit entry.
 * boot.S reads the header from the partition's first sector, loads the
 * image to 0x10000 and jumps to the entry in flat 32-bit protected mode with
 * interrupts off. The entry enables A20 (.bss is at 1 MiB, see
 * linker/kernel.ld), makes a stack, zeroes .bss and calls k_kmain. */
	.section .header, "a"
	.ascii	"HDIK"                  /* magic, checked by boot.S */
	.long	_kernel_sectors         /* image length in 512-byte sectors */
	.long	_start32                /* entry point */
	.long	0                       /* reserved */

	.section .text
	.globl	_start32
_start32:
	cli
	cld
	/* Fast A20 (port 0x92; bit 0 would reset the machine), then make sure
	 * 1 MiB + 0x500 no longer aliases 0x500 (free low memory by now). */
	in	$0x92, %al
	or	$2, %al
	and	$0xfe, %al
	out	%al, $0x92
	movl	$0, 0x500
	movl	$0xa20a20a2, 0x100500
	cmpl	$0, 0x500
	jne	a20_off
	mov	$_stack_top, %esp
	mov	$__bss_start, %edi
	mov	$__bss_end, %ecx
	sub	%edi, %ecx
	xor	%eax, %eax
	rep	stosb
	call	k_kmain
1:	cli
	hlt
	jmp	1b

a20_off:
	mov	$a20_msg, %esi
	mov	$0x3f8, %dx
2:	lodsb
	test	%al, %al
	jz	1b
	out	%al, %dx
	jmp	2b

	.section .rodata
a20_msg:
	.asciz	"HDI-BOOT: A20 line stays off\n"
	.section .text

/* CPU exception stubs for vectors 0..31, 16 bytes apart (idt.c computes
 * their addresses): each pushes a dummy error code where the CPU pushes
 * none, then its vector, and calls k_exception(vector, error, eip). */
	.balign	16
	.globl	k_exc_stubs
k_exc_stubs:
	.set	vec, 0
	.rept	32
	.balign	16
	.if	vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30
	.else
	pushl	$0
	.endif
	pushl	$vec
	jmp	exc_common
	.set	vec, vec + 1
	.endr
exc_common:
	cld
	call	k_exception           /* does not return */
1:	cli
	hlt
	jmp	1b

	.section .bss
	.balign	16
	.space	16384
_stack_top:

	.section .note.GNU-stack, "", @progbits   /* no executable stack */
