/* tools/ed_read.h: helpers the read-side commands (info, map, snapshot,
 * read, convert) share: snapshot selection, host-file holes, JSON text. */
#ifndef ED_READ_H
#define ED_READ_H

#include <stdint.h>
#include <stdio.h>
#include "ed.h"

/* ed_open read-only, then switch to snapshot (id or name) if not NULL.
 * Prints the error and returns non-zero on failure (image closed). */
int edr_open(struct ed_image *im, const char *image, const char *snapshot);
/* The same with ed_open flags (ED_OPEN_STABLE for a copy's source). */
int edr_open_flags(struct ed_image *im, const char *image,
		   const char *snapshot, int flags);
/* Takes "--snapshot X", "--snapshot=X", "-s X" and "-l X" at argv[*i];
 * returns 1 if consumed (advancing *i), 0 if not an option of that kind,
 * -1 on a missing value. */
int edr_snapshot_opt(int argc, char **argv, int *i, const char **out);
/* Takes "--json", "--output=json", "--output json", "--output=human". */
int edr_json_opt(int argc, char **argv, int *i, int *json);

/* Data/hole run of a host file at off (at most max bytes): *data is 1 for
 * data, 0 for a hole. Without SEEK_DATA support everything is data. */
void edr_file_run(FILE *f, uint64_t size, uint64_t off, uint64_t max,
		  int *data, uint64_t *len);
/* Bytes the file occupies on the host (st_blocks * 512), or -1. */
int64_t edr_allocated(FILE *f);

/* JSON string literal with escapes. */
void edr_json_str(FILE *o, const char *s);
/* qemu's size_to_str: "1.39 MiB". */
void edr_human_size(char *buf, size_t cap, uint64_t v);
/* Maps n bytes of file f at off (inside its size) read-only, so a bulk copy
 * moves them once instead of twice (make bench). NULL when that cannot be
 * done (past the end, a pipe, Windows): the caller reads instead. *base and
 * *len are what edr_unmap takes. */
const unsigned char *edr_map(FILE *f, uint64_t file_size, uint64_t off,
			     size_t n, void **base, size_t *len);
void edr_unmap(void *base, size_t len);

/* qemu's block status at off of the image edr_bs_init was given
 * (tools/block_status.c): EDR_ST_* in *st, for *len bytes (at most max).
 * Ranges are cut at the end of an L2 table's reach, where qemu's qcow2
 * driver cuts them; holes of raw files (and raw backing files, and of
 * metadata-preallocated qcow2 files) read as zeros.
 * Past the end of the disk: zeros. Returns 0 or a library error. */
#define EDR_ST_ALLOC  0x1u    /* allocated somewhere in the chain */
#define EDR_ST_ZERO   0x2u
#define EDR_ST_DATA   0x4u
#define EDR_ST_OFFSET 0x8u    /* a host offset is known */
#define EDR_ST_EOF    0x10u   /* the range reaches the disk's end */
struct edr_bs {
	struct ed_image *im;
	uint64_t l2_reach;
	signed char prealloc[HDI_QCOW2_MAX_CHAIN + 1];   /* -1: not probed */
};
void edr_bs_init(struct edr_bs *b, struct ed_image *im);
int edr_block_status(struct edr_bs *b, uint64_t off, uint64_t max,
		     unsigned *st, uint64_t *len);
/* QEMU's qcow2_detect_metadata_preallocation: far more clusters in use
 * than the file has blocks. Then QEMU asks the file about holes. */
int edr_detect_prealloc(hdi_qcow2_t *q, struct file_dev *fd);

#endif
