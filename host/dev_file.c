/* host/dev_file.c: the stdio FILE block device. Growth is a write of
 * one zero byte at the new end, so files stay sparse where the OS allows. */
#define _FILE_OFFSET_BITS 64
#define _POSIX_C_SOURCE 200809L
#include "dev_file.h"
#include <errno.h>
#include <string.h>
#include <fcntl.h>
#ifdef _WIN32
#include <io.h>
#define file_seek _fseeki64
#define file_tell _ftelli64
#else
#include <unistd.h>
#include <sys/types.h>
#define file_seek fseeko
#define file_tell ftello
#endif
#ifndef O_BINARY
#define O_BINARY 0
#endif

static int seek(struct file_dev *fd, uint64_t off)
{
	if (off > (uint64_t)INT64_MAX)
		return HDI_EINVAL;
	return file_seek(fd->f, (int64_t)off, SEEK_SET) ? HDI_EIO : HDI_OK;
}

static int f_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct file_dev *fd = ctx;
	size_t got;
	if (off > fd->size || len > fd->size - off)
		return HDI_EINVAL;
	if (seek(fd, off))
		return HDI_EIO;
	got = fread(buf, 1, len, fd->f);
	if (got < len) {
		if (ferror(fd->f))
			return HDI_EIO;
		memset((char *)buf + got, 0, len - got);
	}
	return HDI_OK;
}

static int f_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
	struct file_dev *fd = ctx;
	if (!fd->writable)
		return HDI_EROFS;
	if (seek(fd, off) || fwrite(buf, 1, len, fd->f) != len)
		return HDI_EIO;
	if (off + len > fd->size)
		fd->size = off + len;
	return HDI_OK;
}

static int f_flush(void *ctx)
{
	struct file_dev *fd = ctx;
	if (!fd->writable)
		return HDI_OK;
	if (fflush(fd->f))
		return HDI_EIO;
#ifndef _WIN32
	if (fsync(fileno(fd->f)) && errno != EINVAL)
		return HDI_EIO;
#endif
	return HDI_OK;
}

static int f_size(void *ctx, uint64_t *bytes)
{
	*bytes = ((struct file_dev *)ctx)->size;
	return HDI_OK;
}

static int f_grow(void *ctx, uint64_t bytes)
{
	struct file_dev *fd = ctx;
	if (!fd->writable)
		return HDI_EROFS;
	if (bytes <= fd->size)
		return HDI_OK;
#ifndef _WIN32
	if (fflush(fd->f) || ftruncate(fileno(fd->f), (off_t)bytes))
		return HDI_ENOSPC;
#else
	{
		static const char z;
		if (seek(fd, bytes - 1) || fwrite(&z, 1, 1, fd->f) != 1)
			return HDI_ENOSPC;
	}
#endif
	fd->size = bytes;
	return HDI_OK;
}

static const struct hdi_bdev_ops file_ops = {
	.version = HDI_BDEV_OPS_VERSION,
	.read = f_read,
	.write = f_write,
	.flush = f_flush,
	.size = f_size,
	.grow = f_grow,
};

/* "c+b": like "w+b" but an existing file keeps its bytes until the caller,
 * having locked it, truncates it. */
static FILE *open_create(const char *path)
{
	int h = open(path, O_RDWR | O_CREAT | O_BINARY, 0666);
	FILE *f;
	if (h < 0)
		return NULL;
	f = fdopen(h, "r+b");
	if (!f)
		close(h);
	return f;
}

int file_dev_open(struct file_dev *fd, const char *path,
		      const char *mode, uint32_t granule)
{
	int64_t end;
	memset(fd, 0, sizeof(*fd));
	fd->f = mode[0] == 'c' ? open_create(path) : fopen(path, mode);
	if (!fd->f)
		return errno == ENOENT ? HDI_ENOENT : HDI_EIO;
	fd->writable = strchr(mode, '+') || strchr(mode, 'w');
	if (file_seek(fd->f, 0, SEEK_END) || (end = file_tell(fd->f)) < 0) {
		fclose(fd->f);
		fd->f = NULL;
		return HDI_EIO;
	}
	fd->size = (uint64_t)end;
	fd->bdev.ops = &file_ops;
	fd->bdev.ctx = fd;
	fd->bdev.granule = granule ? granule : 1;
	fd->bdev.flags = fd->writable ? 0 : HDI_BDEV_RDONLY;
	return HDI_OK;
}

int file_dev_close(struct file_dev *fd)
{
	int r = HDI_OK;
	if (!fd->f)
		return HDI_OK;
	if (fd->writable && fflush(fd->f))
		r = HDI_EIO;
	if (fclose(fd->f))
		r = HDI_EIO;
	fd->f = NULL;
	return r;
}
