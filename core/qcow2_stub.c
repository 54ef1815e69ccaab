/* core/qcow2_stub.c: TEMPORARY placeholders so the tree links while the
 * qcow2 modules are written. Deleted when core/qcow2_open.c lands. */
#include "hdi/qcow2.h"
int hdi_qcow2_open(hdi_qcow2_t *q, struct hdi_bdev *f, const struct hdi_qcow2_opts *o) { (void)q; (void)f; (void)o; return HDI_EUNSUPP; }
int hdi_qcow2_close(hdi_qcow2_t *q) { (void)q; return HDI_OK; }
struct hdi_bdev *hdi_qcow2_bdev(hdi_qcow2_t *q) { (void)q; return 0; }
const char *hdi_qcow2_errmsg(const hdi_qcow2_t *q) { (void)q; return "qcow2 not built yet"; }
int hdi_qcow2_read(hdi_qcow2_t *q, uint64_t off, void *buf, size_t len) { (void)q; (void)off; (void)buf; (void)len; return HDI_EUNSUPP; }
int hdi_qcow2_write(hdi_qcow2_t *q, uint64_t off, const void *buf, size_t len) { (void)q; (void)off; (void)buf; (void)len; return HDI_EUNSUPP; }
bool hdi_qcow2_probe(const void *p, size_t len) { const unsigned char *b = p; return len >= 4 && b[0] == 'Q' && b[1] == 'F' && b[2] == 'I' && b[3] == 0xfb; }
