/* hdi/config.h: compile-time configuration of the library. Every knob has
 * a default here and can be overridden with -D on the compiler command
 * line (or by a header that defines it before this one is included), as
 * littlefs's lfs_util.h and FatFs's ffconf.h are. Defaults: everything on.
 * Every core file and every public header sees the same values, so
 * configure the whole library at once, never file by file. */
#ifndef HDI_CONFIG_H
#define HDI_CONFIG_H

/* 1: the read path only. No allocator, no write, no check or repair, no
 * image creation, no partition-table writes: a bootloader that loads files
 * from an image. hdi_qcow2_open then refuses HDI_QCOW2_RDWR (HDI_EROFS)
 * exactly as hdi_qcow2_open_ro always does; the write-side files compile
 * to nothing. */
#ifndef HDI_CONFIG_READONLY
#define HDI_CONFIG_READONLY 0
#endif

/* Decompressors for compressed qcow2 clusters. Off: such a cluster reads
 * as HDI_EUNSUPP (the rest of the image stays readable). */
#ifndef HDI_CONFIG_ZLIB
#define HDI_CONFIG_ZLIB 1
#endif
#ifndef HDI_CONFIG_ZSTD
#define HDI_CONFIG_ZSTD 1
#endif

/* Partition tables. Off: the module's files compile to nothing. */
#ifndef HDI_CONFIG_MBR
#define HDI_CONFIG_MBR 1
#endif
#ifndef HDI_CONFIG_GPT
#define HDI_CONFIG_GPT 1
#endif

/* Longest name the public structs hold, NUL included: a backing file
 * name (hdi_qcow2_info), a snapshot or bitmap name (truncated to fit).
 * qcow2 allows 1023 bytes, the most this can be. A smaller value shrinks
 * those structs; an image whose backing file name does not fit is then
 * refused with HDI_EUNSUPP. */
#ifndef HDI_CONFIG_NAME_MAX
#define HDI_CONFIG_NAME_MAX 1024
#endif
#if HDI_CONFIG_NAME_MAX < 64 || HDI_CONFIG_NAME_MAX > 1024
#error "HDI_CONFIG_NAME_MAX must be within 64..1024"
#endif

/* Checks of the library's own invariants (never of disk contents: a bad
 * image is an error code, not an assertion). Define it to your kernel's
 * panic, or to assert() on a host; by default it compiles to nothing. */
#ifndef HDI_CONFIG_ASSERT
#define HDI_CONFIG_ASSERT(cond) ((void)sizeof(!(cond)))
#endif

#endif
