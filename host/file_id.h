/* host/file_id.h: which file a path or descriptor is (device and inode;
 * volume serial and file index on Windows), so that symlinks, hard links
 * and different spellings of one file compare equal. */
#ifndef HOST_FILE_ID_H
#define HOST_FILE_ID_H

#include <stdint.h>

struct file_id {
	uint64_t dev;
	uint64_t ino;
};

/* HDI_OK, HDI_ENOENT (no such file) or HDI_EIO (errno set). */
int file_id_path(const char *path, struct file_id *id);
int file_id_fd(int fd, struct file_id *id);

static inline int file_id_eq(const struct file_id *a,
				 const struct file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

#endif
