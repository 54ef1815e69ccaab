/* core/qcow2_stub_read.c: TEMPORARY link placeholders for the read path.
 * Deleted by the read-path work when the real functions land. */
#include "hdi/qcow2.h"
int hdi_qcow2_open(hdi_qcow2_t *q, struct hdi_bdev *f, const struct hdi_qcow2_opts *o) { (void)q; (void)f; (void)o; return HDI_EUNSUPP; }
int hdi_qcow2_close(hdi_qcow2_t *q) { (void)q; return HDI_OK; }
int hdi_qcow2_flush(hdi_qcow2_t *q) { (void)q; return HDI_OK; }
struct hdi_bdev *hdi_qcow2_bdev(hdi_qcow2_t *q) { (void)q; return 0; }
const char *hdi_qcow2_errmsg(const hdi_qcow2_t *q) { (void)q; return "qcow2 not built yet"; }
int hdi_qcow2_read(hdi_qcow2_t *q, uint64_t off, void *buf, size_t len) { (void)q; (void)off; (void)buf; (void)len; return HDI_EUNSUPP; }
int hdi_qcow2_info(hdi_qcow2_t *q, struct hdi_qcow2_info *o) { (void)q; (void)o; return HDI_EUNSUPP; }
int hdi_qcow2_map(hdi_qcow2_t *q, uint64_t off, struct hdi_qcow2_extent *o) { (void)q; (void)off; (void)o; return HDI_EUNSUPP; }
int hdi_qcow2_snapshot_get(hdi_qcow2_t *q, uint32_t i, struct hdi_qcow2_snapshot *o) { (void)q; (void)i; (void)o; return HDI_EUNSUPP; }
int hdi_qcow2_snapshot_find(hdi_qcow2_t *q, const char *n) { (void)q; (void)n; return HDI_EUNSUPP; }
int hdi_qcow2_snapshot_select(hdi_qcow2_t *q, uint32_t i) { (void)q; (void)i; return HDI_EUNSUPP; }
bool hdi_qcow2_probe(const void *p, size_t len) { const unsigned char *b = p; return len >= 4 && b[0] == 'Q' && b[1] == 'F' && b[2] == 'I' && b[3] == 0xfb; }
