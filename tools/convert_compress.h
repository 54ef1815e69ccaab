/* tools/convert_compress.h: `convert -c`'s parallel copy loop
 * (tools/convert_compress.c), independent of where the clusters come from. */
#ifndef ED_CONVERT_COMPRESS_H
#define ED_CONVERT_COMPRESS_H

#include <stddef.h>
#include <stdint.h>
#include "hdi/qcow2.h"

struct ed_cc {
	hdi_qcow2_t *dst;          /* open for writing */
	uint64_t size;             /* virtual bytes to copy */
	uint64_t dst_size;         /* dst's virtual size (size rounded up to 512) */
	size_t cluster_size;       /* dst's */
	uint32_t type;             /* dst's compression type */
	unsigned jobs;             /* worker threads; 0: online CPUs */
	void *ctx;
	/* Bytes from off that surely read as zeros (0: data or unknown). */
	uint64_t (*zero_run)(void *ctx, uint64_t off);
	int (*read)(void *ctx, uint64_t off, void *buf, size_t len);
	/* Everything below off is written. */
	void (*progress)(void *ctx, uint64_t off);
	/* Reports an error: what 0 read, 1 write, 2 compress. */
	void (*fail)(void *ctx, int what, int code);
};

/* Returns 0 or 1 (the error was reported through fail). */
int ed_cc_copy(struct ed_cc *c);
unsigned ed_cc_default_jobs(void);

#endif
