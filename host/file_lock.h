/* host/file_lock.h: QEMU-compatible image locks. Like QEMU's file-posix
 * driver, a holder takes one shared OFD byte-range lock per permission it
 * holds (byte 100 + bit) and one per permission it does not share with
 * others (byte 200 + bit), so edqcow2, qemu-img, qemu-io and qemu-system
 * exclude each other exactly as two QEMU processes do. */
#ifndef HOST_FILE_LOCK_H
#define HOST_FILE_LOCK_H

/* QEMU's BLK_PERM_* bits (include/block/block-common.h), same values. */
#define FILE_PERM_CONSISTENT_READ 0x01u
#define FILE_PERM_WRITE           0x02u
#define FILE_PERM_WRITE_UNCHANGED 0x04u
#define FILE_PERM_RESIZE          0x08u
#define FILE_PERM_ALL             0x0fu

#define FILE_LOCK_PERM_BASE   100   /* held: byte 100 + bit */
#define FILE_LOCK_SHARED_BASE 200   /* not shared: byte 200 + bit */

/* Why a lock was refused: the permission, and whether it was ours that
 * another holder does not share (shared == 0, "Failed to get "write"
 * lock") or one another holder has that we do not share (shared == 1,
 * "Failed to get shared "write" lock"). */
struct file_lock_conflict {
	unsigned perm;
	int shared;
};

/* Takes perm and the complement of shared on fd's open file description,
 * then checks that no other description holds a conflicting byte. The
 * locks go away when the description is closed. Returns HDI_OK (also where
 * OFD locks do not exist: Windows, old kernels, file systems without
 * locks, as QEMU's locking=auto does), HDI_EBUSY with *c filled, or
 * HDI_EIO when a lock cannot be set. */
int file_lock(int fd, unsigned perm, unsigned shared,
		  struct file_lock_conflict *c);

/* "consistent read", "write", "write unchanged", "resize" (QEMU's names). */
const char *file_perm_name(unsigned perm);

#endif
