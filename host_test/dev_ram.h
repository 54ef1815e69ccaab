/* host_test/dev_ram.h: a RAM block device with fault injection and a
 * power-loss model (writes since the last flush stay pending until then). */
#ifndef HOST_TEST_DEV_RAM_H
#define HOST_TEST_DEV_RAM_H

#include <stddef.h>
#include <stdint.h>
#include "hdi/bdev.h"

struct ram_pending {
	uint64_t off;
	size_t len;
	uint8_t *data;
};

struct ram_dev {
	struct hdi_bdev bdev;
	uint8_t *data;          /* what reads see now */
	uint8_t *durable;       /* what survives a power cut (NULL: not tracked) */
	uint64_t size, cap;     /* cap: max size grow() accepts (0: fixed) */
	/* Fault injection: the Nth call (1-based) of that kind fails with
	 * fail_code; 0 disables. Counters count every call. */
	uint64_t nreads, nwrites, nflushes;
	uint64_t fail_read_at, fail_write_at, fail_flush_at;
	int fail_code;
	/* Power cut: after cut_after_writes writes (0: never), every later
	 * call fails with HDI_EIO and the device is "off". */
	uint64_t cut_after_writes;
	int powered_off;
	struct ram_pending *pending;
	size_t npending, pending_cap;
};

/* Creates a device of size bytes (zeroed), growable up to cap (0 = fixed).
 * track_power_loss keeps a durable copy and a pending-write log. */
int ram_dev_init(struct ram_dev *rd, uint64_t size, uint64_t cap,
		     uint32_t granule, int track_power_loss);
void ram_dev_free(struct ram_dev *rd);

/* What the media holds after a power cut now. mode 0: pending writes are
 * dropped; 1: a seeded random subset is applied in a random order; 2: like 1
 * but each applied write may be torn at 512-byte granularity. The result
 * replaces data (and durable); pending is cleared and power comes back on. */
void ram_dev_power_cycle(struct ram_dev *rd, int mode, uint32_t seed);

#endif
