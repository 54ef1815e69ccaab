/* core/qcow2_rw_hooks.c: what a read-write open adds (dirty-bit handling,
 * allocation state). Placeholders until the write path takes this file. */
#include "qcow2_int.h"

int hdi_qc_rw_open(struct qcow2 *q)
{
	return hdi_qc_err(q, HDI_EUNSUPP, "writing not built yet");
}

int hdi_qc_rw_flush(struct qcow2 *q)
{
	(void)q;
	return HDI_OK;
}

int hdi_qc_rw_close(struct qcow2 *q)
{
	(void)q;
	return HDI_OK;
}
