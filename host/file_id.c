/* host/file_id.c: file identity from stat (POSIX) or from
 * GetFileInformationByHandle (Windows). */
#define _FILE_OFFSET_BITS 64
#define _POSIX_C_SOURCE 200809L
#include "file_id.h"
#include <errno.h>
#include "hdi/errors.h"
#ifdef _WIN32
#include <io.h>
#include <windows.h>

static int from_handle(HANDLE h, struct file_id *id)
{
	BY_HANDLE_FILE_INFORMATION bi;
	if (h == INVALID_HANDLE_VALUE || !GetFileInformationByHandle(h, &bi))
		return HDI_EIO;
	id->dev = bi.dwVolumeSerialNumber;
	id->ino = ((uint64_t)bi.nFileIndexHigh << 32) | bi.nFileIndexLow;
	return HDI_OK;
}

int file_id_path(const char *path, struct file_id *id)
{
	HANDLE h = CreateFileA(path, 0, FILE_SHARE_READ | FILE_SHARE_WRITE |
			       FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
			       FILE_FLAG_BACKUP_SEMANTICS, NULL);
	int r;
	if (h == INVALID_HANDLE_VALUE) {
		DWORD e = GetLastError();
		errno = ENOENT;
		return e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND
		       ? HDI_ENOENT : HDI_EIO;
	}
	r = from_handle(h, id);
	CloseHandle(h);
	return r;
}

int file_id_fd(int fd, struct file_id *id)
{
	return from_handle((HANDLE)_get_osfhandle(fd), id);
}

#else
#include <sys/stat.h>

static int from_stat(const struct stat *st, struct file_id *id)
{
	id->dev = (uint64_t)st->st_dev;
	id->ino = (uint64_t)st->st_ino;
	return HDI_OK;
}

int file_id_path(const char *path, struct file_id *id)
{
	struct stat st;
	if (stat(path, &st))
		return errno == ENOENT ? HDI_ENOENT : HDI_EIO;
	return from_stat(&st, id);
}

int file_id_fd(int fd, struct file_id *id)
{
	struct stat st;
	if (fstat(fd, &st))
		return HDI_EIO;
	return from_stat(&st, id);
}
#endif
