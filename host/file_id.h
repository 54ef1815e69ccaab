/* host/file_id.h: which file a path or descriptor is (device and inode;
 * volume serial and file index on Windows), so that symlinks, hard links
 * and different spellings of one file compare equal. */
#ifndef HDI_HOST_FILE_ID_H
#define HDI_HOST_FILE_ID_H

#include <stdint.h>

struct hdi_file_id {
	uint64_t dev;
	uint64_t ino;
};

/* HDI_OK, HDI_ENOENT (no such file) or HDI_EIO (errno set). */
int hdi_file_id_path(const char *path, struct hdi_file_id *id);
int hdi_file_id_fd(int fd, struct hdi_file_id *id);

static inline int hdi_file_id_eq(const struct hdi_file_id *a,
				 const struct hdi_file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

#endif
