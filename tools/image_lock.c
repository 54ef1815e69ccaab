/* tools/image_lock.c: edqcow2's use of QEMU's image locks (which bytes each
 * kind of open takes, -U, the error) and the guards that keep an output
 * from being an input: file identity checks and locked creation. */
#define _FILE_OFFSET_BITS 64
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef _WIN32
#include <windows.h>
#endif
#include "ed.h"
#include "file_id.h"
#include "file_lock.h"

/* The permissions QEMU's block layer asks of the file node (checked with
 * /proc/locks against qemu-io, qemu-img and qemu-system 7.2):
 *   read-only raw:   consistent read, everything shared   (bytes 100)
 *   read-only qcow2: the same, but the format's metadata must not change
 *                    under it: write and resize unshared  (100, 201, 203)
 *   convert's source: as read-only qcow2, raw too
 *   backing file:    as read-only qcow2, whatever its format
 *   info (no I/O):   no consistent read                   (201, 203)
 *   -U:              everything shared                    (100)
 *   read-write:      consistent read, write, resize, with write and
 *                    resize unshared                 (100, 101, 103, 201, 203)
 * qemu-img shares write on a raw image it writes; edqcow2 does not: its
 * partition-table and header edits must not interleave with anyone's. */
int ed_lock(const char *path, struct file_dev *f, int how)
{
	const unsigned keep = FILE_PERM_WRITE | FILE_PERM_RESIZE;
	unsigned perm = FILE_PERM_CONSISTENT_READ, shared = FILE_PERM_ALL;
	struct file_lock_conflict c;
	int r;
	if ((how & ED_LOCK_RDWR) && ed_force_share)
		return ed_err(path, "force-share (-U) can only be used with read-only images");
	if (how & ED_LOCK_RDWR)
		perm |= FILE_PERM_WRITE | FILE_PERM_RESIZE;
	if (how & ED_LOCK_NO_IO)
		perm = 0;
	if (how & (ED_LOCK_RDWR | ED_LOCK_KEEP))
		shared &= ~keep;
	if (ed_force_share)
		shared = FILE_PERM_ALL;
	r = file_lock(fileno(f->f), perm, shared, &c);
	if (r == HDI_EBUSY)
		return ed_err(path, "image is locked: Failed to get %s\"%s\" lock; "
			      "is another process (QEMU?) using it?%s",
			      c.shared ? "shared " : "", file_perm_name(c.perm),
			      how & ED_LOCK_RDWR ? "" : " (-U reads it anyway)");
	if (r)
		return ed_err(path, "cannot lock: %s", strerror(errno));
	return 0;
}

/* Tests make edqcow2 hold an image it has opened and locked: the file
 * named by EDQCOW2_TEST_HOLD is created, and removing it lets the command
 * go on (after at most a minute). */
void ed_test_hold(void)
{
	const char *p = getenv("EDQCOW2_TEST_HOLD");
	FILE *f;
	int i;
	if (!p || !*p || !(f = fopen(p, "w")))
		return;
	fclose(f);
	for (i = 0; i < 600 && !access(p, F_OK); i++) {
#ifdef _WIN32
		Sleep(100);
#else
		struct timespec ts = { 0, 100000000L };
		nanosleep(&ts, NULL);
#endif
	}
}

static int empty(int h)
{
	struct stat st;
	return !fstat(h, &st) && st.st_size == 0;
}

int ed_create_open(struct file_dev *fd, const char *path)
{
	if (file_dev_open(fd, path, "c+b", 0))
		return ed_err(path, "cannot create: %s", strerror(errno));
	if (ed_lock(path, fd, ED_LOCK_RDWR)) {
		file_dev_close(fd);
		return 1;
	}
	/* An empty file (a new one) is not truncated: on ext4 a truncation
	 * to zero makes the close write back the whole file before it
	 * returns (auto_da_alloc), seconds for an exported disk. */
	if (fflush(fd->f) || (!empty(fileno(fd->f)) && ftruncate(fileno(fd->f), 0))) {
		ed_err(path, "cannot create: %s", strerror(errno));
		file_dev_close(fd);
		return 1;
	}
	fd->size = 0;
	ed_test_hold();
	return 0;
}

int ed_output_guard(struct file_dev *g, const char *out)
{
	memset(g, 0, sizeof(*g));
	if (access(out, F_OK))
		return 0;
	if (file_dev_open(g, out, "r+b", 0))
		return ed_err(out, "cannot open for writing: %s", strerror(errno));
	if (ed_lock(out, g, ED_LOCK_RDWR)) {
		file_dev_close(g);
		return 1;
	}
	return 0;
}

/* The depth in im's chain of the file out names (0: im itself), or -1. */
int ed_chain_find(struct ed_image *im, const char *out)
{
	struct file_id want, id;
	struct file_dev *file;
	const char *path;
	hdi_qcow2_t *q;
	unsigned d;
	if (file_id_path(out, &want))
		return -1;
	for (d = 0; !ed_chain_get(im, d, &path, &file, &q); d++)
		if (file->f && !file_id_fd(fileno(file->f), &id) &&
		    file_id_eq(&id, &want))
			return (int)d;
	return -1;
}

int ed_same_file(const char *a, const char *b)
{
	struct file_id x, y;
	return !file_id_path(a, &x) && !file_id_path(b, &y) &&
	       file_id_eq(&x, &y);
}
