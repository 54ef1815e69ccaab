/* core/errors.c: names for the library's error codes. */
#include "hdi/errors.h"

const char *hdi_strerror(int err)
{
	switch (err) {
	case HDI_OK: return "success";
	case HDI_EIO: return "I/O error";
	case HDI_ECORRUPT: return "image is corrupt";
	case HDI_EUNSUPP: return "unsupported feature";
	case HDI_ENOSPC: return "no space left on device";
	case HDI_EINVAL: return "invalid argument";
	case HDI_ENOMEM: return "workspace too small";
	case HDI_EROFS: return "read-only";
	case HDI_ENOENT: return "not found";
	case HDI_ETIMEDOUT: return "device timed out";
	case HDI_ELOOP: return "backing chain too deep or looping";
	case HDI_EBUSY: return "busy";
	default: return "unknown error";
	}
}
