/* tools/ed_compress.h: the host's compressors for compressed qcow2 writes
 * (zlib's raw deflate and libzstd, with QEMU's parameters), one context
 * per thread. */
#ifndef ED_COMPRESS_H
#define ED_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

struct ed_zctx;

/* NULL when out of memory. */
struct ed_zctx *ed_zctx_new(void);
void ed_zctx_free(struct ed_zctx *z);
/* An hdi_qcow2_compress_fn; ctx is a struct ed_zctx. */
int ed_compress(void *ctx, uint32_t type, void *dst, size_t dst_cap,
		size_t *dst_len, const void *src, size_t src_len);
/* Can this build write compression type (HDI_QCOW2_COMPRESSION_*)? */
int ed_compress_supported(uint32_t type);

#endif
