/* host/file_lock.c: QEMU's image lock bytes on an open file description
 * (F_OFD_SETLK / F_OFD_GETLK); nothing where those do not exist. */
#define _GNU_SOURCE
#include "file_lock.h"
#include <string.h>
#include "hdi/errors.h"
#ifndef _WIN32
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#endif

static const char *const perm_names[] = {
	[0] = "consistent read",
	[1] = "write",
	[2] = "write unchanged",
	[3] = "resize",
};

const char *file_perm_name(unsigned perm)
{
	unsigned i;
	for (i = 0; i < sizeof perm_names / sizeof perm_names[0]; i++)
		if (perm == 1u << i)
			return perm_names[i];
	return "unknown";
}

#if defined(F_OFD_SETLK) && defined(F_OFD_GETLK)

/* len 0: to the end of the file and beyond */
static int ofd(int fd, int cmd, short type, long off, long len,
	       struct flock *fl)
{
	memset(fl, 0, sizeof(*fl));
	fl->l_type = type;
	fl->l_whence = SEEK_SET;
	fl->l_start = off;
	fl->l_len = len;
	return fcntl(fd, cmd, fl);
}

/* Does another open file description hold byte off? */
static int taken(int fd, long off)
{
	struct flock fl;
	if (ofd(fd, F_OFD_GETLK, F_WRLCK, off, 1, &fl))
		return errno == EACCES || errno == EAGAIN;
	return fl.l_type != F_UNLCK;
}

int file_lock(int fd, unsigned perm, unsigned shared,
		  struct file_lock_conflict *c)
{
	struct flock fl;
	unsigned i, bit;
	/* QEMU's locking=auto: no locks where the file system takes none */
	if (ofd(fd, F_OFD_GETLK, F_WRLCK, 0, 0, &fl))
		return HDI_OK;
	for (i = 0; (bit = 1u << i) & FILE_PERM_ALL; i++) {
		if ((perm & bit) &&
		    ofd(fd, F_OFD_SETLK, F_RDLCK, FILE_LOCK_PERM_BASE + i, 1, &fl))
			goto refused;
		if (!(shared & bit) &&
		    ofd(fd, F_OFD_SETLK, F_RDLCK, FILE_LOCK_SHARED_BASE + i, 1, &fl))
			goto refused;
	}
	/* Set first, test after: of two racing openers at least one sees
	 * the other, as in QEMU. */
	for (i = 0; (bit = 1u << i) & FILE_PERM_ALL; i++) {
		c->perm = bit;
		c->shared = 0;
		if ((perm & bit) && taken(fd, FILE_LOCK_SHARED_BASE + i))
			return HDI_EBUSY;
	}
	for (i = 0; (bit = 1u << i) & FILE_PERM_ALL; i++) {
		c->perm = bit;
		c->shared = 1;
		if (!(shared & bit) && taken(fd, FILE_LOCK_PERM_BASE + i))
			return HDI_EBUSY;
	}
	return HDI_OK;
refused:
	/* a write lock elsewhere on the byte (not QEMU's, which takes
	 * read locks only) */
	if (errno == EACCES || errno == EAGAIN) {
		c->perm = bit;
		c->shared = 0;
		return HDI_EBUSY;
	}
	return HDI_EIO;
}

#else

int file_lock(int fd, unsigned perm, unsigned shared,
		  struct file_lock_conflict *c)
{
	(void)fd; (void)perm; (void)shared; (void)c;
	return HDI_OK;
}

#endif
