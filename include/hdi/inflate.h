/* hdi/inflate.h: a freestanding raw-DEFLATE (RFC 1951) decoder, as qcow2
 * compressed clusters need it. No allocation; the caller passes scratch.
 *
 * Concurrency: all state is in the caller's scratch; calls with different
 * scratch run at once, calls sharing scratch must not overlap. */
#ifndef HDI_INFLATE_H
#define HDI_INFLATE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__) && defined(__ELF__)
/* Only what these headers declare is the library's interface: core is
 * compiled with -fvisibility=hidden, so everything else stays internal. */
#pragma GCC visibility push(default)
#endif

/* Scratch hdi_inflate_raw needs (Huffman tables); any alignment is fine.
 * The output window is dst itself, so no 32 KiB window is needed. */
#define HDI_INFLATE_WORK_SIZE 6160u

/* Decode the raw deflate stream in src into dst. It stops when the final
 * block ends or when dst is full, the semantics of QEMU's qcow2_decompress:
 * filling dst is success even if the stream goes on (a compressed cluster's
 * sector run may end in garbage).
 *
 * Returns HDI_OK when the final block ended (*dst_written may be < dst_len)
 * or dst is full (*dst_written == dst_len); HDI_ECORRUPT for a malformed
 * stream, or one that runs out of input before either; HDI_ENOMEM when
 * work_len < HDI_INFLATE_WORK_SIZE. *dst_written and *src_used (bytes of
 * src consumed, rounded up to a whole byte) are set in every case; either
 * pointer may be NULL. Never reads or writes outside the given buffers. */
int hdi_inflate_raw(void *dst, size_t dst_len, size_t *dst_written,
		    const void *src, size_t src_len, size_t *src_used,
		    void *work, size_t work_len);

#if defined(__GNUC__) && defined(__ELF__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif

#endif
