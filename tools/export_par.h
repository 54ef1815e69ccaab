/* tools/export_par.h: reading a compressed image's virtual disk in worker
 * threads (tools/export_par.c), each chunk put where it belongs. */
#ifndef ED_EXPORT_PAR_H
#define ED_EXPORT_PAR_H

#include <stddef.h>
#include <stdint.h>
#include "ed.h"

struct ed_xp {
	struct ed_image *im;       /* the open source: map lookups, plain data */
	const char *snap;          /* snapshot the workers select too, or NULL */
	unsigned jobs;             /* reading threads, this one included
				    * (each worker opens the image) */
	uint64_t size;             /* virtual bytes */
	void *ctx;
	/* 1 if [off, off+*len) reads as zeros; else *len bytes of one kind
	 * and *host their plain host offset (UINT64_MAX: must be read). */
	int (*extent)(struct ed_image *im, uint64_t off, uint64_t *len,
		      uint64_t *host);
	/* Puts n bytes at off: from data, or from the file of im (the
	 * calling thread's open image) at host when data is NULL. Called
	 * from several threads at once. 0 or 1 (reported). */
	int (*put)(void *ctx, struct ed_image *im, uint64_t off,
		   const unsigned char *data, uint64_t host, size_t n);
	void (*progress)(void *ctx, uint64_t off);
};

/* Copies [from, size) in order; 0, or 1 after reporting an error. */
int ed_export_par(struct ed_xp *x, uint64_t from);

#endif
