/* core/qcow2_hdr.h: the header rebuild shared by amend and rebase
 * (core/qcow2_header_write.c). */
#ifndef HDI_QCOW2_HDR_H
#define HDI_QCOW2_HDR_H

#include "qcow2_wr.h"

struct qc_hdr_edit {
	uint32_t version;        /* 2 or 3; from 2 to 3 the v3 fields start
				  * cleared with 16-bit refcounts */
	uint64_t compat;         /* v3: compatible feature bits */
	bool set_backing;        /* else the backing name and format stay */
	const char *name, *fmt;  /* NULL or "": none */
};

/* Rewrites the header cluster as e says (extensions kept, except the
 * feature table and bitmaps for v2, the backing format when replaced),
 * in one write followed by a flush; updates q. */
int hdi_qch_rewrite(struct qcow2 *q, const struct qc_hdr_edit *e);

/* Rebuilds the refcount structure with refcount_bits bits per entry
 * (core/qcow2_refwidth.c): new table and blocks written and flushed, one
 * header write switches, then the old structure is freed. */
int hdi_qcw_refwidth(struct qcow2 *q, uint32_t refcount_bits);

#endif
