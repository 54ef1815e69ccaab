/* core/qcow2_snap.h: internal API of the snapshot write path
 * (qcow2_snap_refs.c, qcow2_snap_table.c, qcow2_snap_write.c): reference
 * walks over an L1 table's reach and the snapshot table rewrite. */
#ifndef HDI_QCOW2_SNAP_H
#define HDI_QCOW2_SNAP_H

#include "qcow2_wr.h"

enum qs_op {
	QS_ROOM,     /* every reached cluster can take one more reference */
	QS_INC,      /* one more reference each (active: COPIED cleared) */
	QS_DEC,      /* one reference less each, freed at zero */
	QS_COPIED    /* active only: COPIED set exactly where refcount is 1 */
};

/* Applies op to every cluster the L1 table [l1_off, l1_size entries)
 * reaches: each L2 table's entries first, then the table. active: the
 * table is the active L1 (its COPIED flags are maintained). */
int hdi_qcs_walk(struct qcow2 *q, uint64_t l1_off, uint32_t l1_size,
		 enum qs_op op, bool active);

/* A new snapshot table entry (v3 extra data: vm state, disk size,
 * icount; as QEMU 7.2 writes it). */
struct qs_entry {
	uint64_t l1_offset;
	uint32_t l1_size;
	uint32_t date_sec, date_nsec;
	uint64_t vm_clock_nsec, disk_size, icount;
	const char *id, *name;
	uint32_t id_len, name_len;
};

/* Writes a new snapshot table: the current entries except index skip
 * (UINT32_MAX: none), then add (NULL: none) appended; flushed, then the
 * header names it in one write; the old table is freed after. */
int hdi_qcs_table_replace(struct qcow2 *q, uint32_t skip,
			  const struct qs_entry *add);

/* Copies n entries of L1 table src to a new table (allocated, COPIED
 * stripped, zeros up to size entries), flushed. *dst receives its offset
 * (0 when size is 0). */
int hdi_qcs_l1_copy(struct qcow2 *q, uint64_t src, uint32_t n, uint32_t size,
		    uint64_t *dst);


#endif
