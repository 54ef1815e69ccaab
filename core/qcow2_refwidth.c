/* core/qcow2_refwidth.c: changing the refcount width (amend
 * refcount_bits). */
#include "qcow2_hdr.h"

int hdi_qcw_refwidth(struct qcow2 *q, uint32_t refcount_bits)
{
	(void)refcount_bits;
	return hdi_qc_err(q, HDI_EUNSUPP, "changing refcount_bits is not supported yet");
}
