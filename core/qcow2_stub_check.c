/* core/qcow2_stub_check.c: TEMPORARY link placeholder for check/repair.
 * Deleted by the check work when the real function lands. */
#include "hdi/qcow2.h"
int hdi_qcow2_check(hdi_qcow2_t *q, uint32_t r, struct hdi_qcow2_check *o) { (void)q; (void)r; (void)o; return HDI_EUNSUPP; }
