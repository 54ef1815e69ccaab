/* core/qcow2_stub_write.c: TEMPORARY link placeholders for the write path.
 * Deleted by the write-path work when the real functions land. */
#include "hdi/qcow2.h"
int hdi_qcow2_write(hdi_qcow2_t *q, uint64_t off, const void *buf, size_t len) { (void)q; (void)off; (void)buf; (void)len; return HDI_EUNSUPP; }
int hdi_qcow2_write_zeroes(hdi_qcow2_t *q, uint64_t off, uint64_t len) { (void)q; (void)off; (void)len; return HDI_EUNSUPP; }
int hdi_qcow2_discard(hdi_qcow2_t *q, uint64_t off, uint64_t len) { (void)q; (void)off; (void)len; return HDI_EUNSUPP; }
int hdi_qcow2_resize(hdi_qcow2_t *q, uint64_t s, uint32_t f) { (void)q; (void)s; (void)f; return HDI_EUNSUPP; }
