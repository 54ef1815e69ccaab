/* kernel_shim/cc_helpers_thumb1.S: __gnu_thumb1_case_uqi, the switch-table
 * helper GCC calls on Thumb-1 (Cortex-M0): r0 is the case index, a byte
 * table of half-word offsets follows the call (lr, with its Thumb bit). */
	.syntax unified
	.thumb
	.text
	.globl	__gnu_thumb1_case_uqi
	.type	__gnu_thumb1_case_uqi, %function
	.thumb_func
__gnu_thumb1_case_uqi:
	push	{r1}
	mov	r1, lr
	subs	r1, r1, #1		/* the table's address: lr without bit 0 */
	ldrb	r1, [r1, r0]
	lsls	r1, r1, #1
	add	lr, lr, r1
	pop	{r1}
	bx	lr
	.size	__gnu_thumb1_case_uqi, . - __gnu_thumb1_case_uqi
