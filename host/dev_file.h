/* host/dev_file.h: a portable stdio FILE block device (64-bit offsets
 * on Linux and on Windows/MinGW), used by edqcow2 and the tests. */
#ifndef HOST_DEV_FILE_H
#define HOST_DEV_FILE_H

#include <stdio.h>
#include "hdi/bdev.h"

struct file_dev {
	FILE *f;
	struct hdi_bdev bdev;
	uint64_t size;
	int writable;
};

/* mode: "rb" or "r+b" (open existing), "w+b" (create/truncate), "c+b"
 * (open read-write, created empty if missing, never truncated).
 * Granule 1 unless granule is non-zero. Returns HDI_OK or a negative code
 * (errno is left set for the caller's message). */
int file_dev_open(struct file_dev *fd, const char *path,
		      const char *mode, uint32_t granule);
int file_dev_close(struct file_dev *fd);

#endif
