/* hdi/errors.h: the library's negative error codes and their names.
 * Device drivers return these too; the core passes a device's code up unchanged.
 *
 * Concurrency: hdi_strerror returns constant strings; call it from anywhere. */
#ifndef HDI_ERRORS_H
#define HDI_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__) && defined(__ELF__)
/* Only what these headers declare is the library's interface: core is
 * compiled with -fvisibility=hidden, so everything else stays internal. */
#pragma GCC visibility push(default)
#endif

#define HDI_OK          0
#define HDI_EIO        (-1)  /* the device failed a read, write or flush */
#define HDI_ECORRUPT   (-2)  /* on-disk metadata is inconsistent or hostile */
#define HDI_EUNSUPP    (-3)  /* a valid feature this build does not implement */
#define HDI_ENOSPC     (-4)  /* the device cannot hold more (no grow, or full) */
#define HDI_EINVAL     (-5)  /* bad argument: range, alignment, option */
#define HDI_ENOMEM     (-6)  /* caller-provided workspace or state too small */
#define HDI_EROFS      (-7)  /* write refused: read-only open, snapshot view, corrupt bit */
#define HDI_ENOENT     (-8)  /* named thing (snapshot, partition) does not exist */
#define HDI_ETIMEDOUT  (-9)  /* a driver gave up waiting on hardware */
#define HDI_ELOOP      (-10) /* backing chain too deep or loops */
#define HDI_EBUSY      (-11) /* object in use (e.g. overlapping request) */

/* A static, human-readable name for an error code. Never NULL. */
const char *hdi_strerror(int err);

#if defined(__GNUC__) && defined(__ELF__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif

#endif
