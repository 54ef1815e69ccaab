/* hdi/qcow2_measure.h: how large a qcow2 image file will be, computed the
 * way `qemu-img measure` computes it, for a new image or a copy.
 *
 * Concurrency: a measure reads its source through that source's handle, so
 * the rules of hdi/qcow2.h apply to it; measures of different handles may
 * run at once. */
#ifndef HDI_QCOW2_MEASURE_H
#define HDI_QCOW2_MEASURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hdi/qcow2.h"

#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__) && defined(__ELF__)
/* Only what these headers declare is the library's interface: core is
 * compiled with -fvisibility=hidden, so everything else stays internal. */
#pragma GCC visibility push(default)
#endif

struct hdi_qcow2_measure_result {
	uint64_t required;         /* bytes the image needs for its content */
	uint64_t fully_allocated;  /* bytes with every cluster allocated */
	uint64_t bitmaps;          /* bytes the persistent bitmaps add */
	/* accumulators of the _data and _bitmap calls */
	uint64_t data, data_end, bitmap_dir;
};

/* Zeroes m before the _data / _bitmap calls. */
void hdi_qcow2_measure_init(struct hdi_qcow2_measure_result *m);
/* Guest data at [off, off + len), given in ascending order of off: counted
 * in whole clusters (1 << cluster_bits) of the new image, as qemu-img
 * measure counts the data of an input image. */
void hdi_qcow2_measure_data(struct hdi_qcow2_measure_result *m, uint32_t cluster_bits,
			    uint64_t off, uint64_t len);
/* A persistent bitmap of the input (granularity 1 << granularity_bits,
 * name_len bytes of name, covering disk_size bytes), copied whole: its
 * data clusters, table and directory entry go into m->bitmaps. */
void hdi_qcow2_measure_bitmap(struct hdi_qcow2_measure_result *m, uint32_t cluster_bits,
			      uint64_t disk_size, uint32_t granularity_bits,
			      size_t name_len);
/* Sets m->required and m->fully_allocated for an image made with o
 * (o->size: the virtual size; version, cluster_bits, refcount_bits and
 * extended_l2 are used). full_data: every cluster will hold data
 * (preallocation full or falloc). HDI_EINVAL when the size needs an L1
 * table larger than QEMU allows (a larger cluster size helps) or the
 * options are out of range. */
int hdi_qcow2_measure(struct hdi_qcow2_measure_result *m,
		      const struct hdi_qcow2_create_opts *o, bool full_data);

#if defined(__GNUC__) && defined(__ELF__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif

#endif
