/* tools/recipe.h: the recipe of `edqcow2 OUT build RECIPE`: an sfdisk
 * script with image options, boot code and per-partition payloads. */
#ifndef ED_RECIPE_H
#define ED_RECIPE_H

#include <stdint.h>
#include "ed.h"
#include "ed_qcow2_opts.h"

#define RCP_MAX_PARTS 128u
#define RCP_MAX_DEFINES 64u

/* One partition line of the recipe, in file order (the i-th partition
 * line of the script it yields). */
struct rcp_part {
	unsigned line;            /* recipe line number */
	char *file;               /* payload path (resolved), or NULL */
	uint64_t file_size;
	int size_auto;            /* size=auto: the file's size, aligned */
	int size_rest;            /* size=rest: up to the end of the disk */
};

struct recipe {
	const char *path;
	char *script;             /* sfdisk script, line for line the recipe */
	uint64_t hash;            /* of the recipe text before ${...} */
	struct ed_qcow2_opts q;   /* format and qcow2 create options */
	unsigned opts_line;       /* the last line that set one of them */
	int size_auto;            /* size: auto (the default) */
	uint64_t size;
	unsigned size_line;
	char *bootcode;           /* resolved path, or NULL */
	unsigned bootcode_line;
	const char *compression;  /* NULL: none */
	unsigned compression_line;
	unsigned nparts;
	struct rcp_part part[RCP_MAX_PARTS];
};

struct rcp_defines {
	unsigned n;
	const char *name[RCP_MAX_DEFINES];
	const char *value[RCP_MAX_DEFINES];
};

/* Adds "NAME=VALUE" (from --define); prints and returns 1 if malformed. */
int rcp_define(struct rcp_defines *d, const char *arg);
/* Reads and checks the recipe: ${NAME} from d, keys, payload files (they
 * must exist; their sizes are taken). Errors print "edqcow2: RECIPE:LINE:
 * ..." and return 1. */
int rcp_read(struct recipe *r, const char *path, const struct rcp_defines *d);
void rcp_free(struct recipe *r);
/* Prints "edqcow2: RECIPE:LINE: ..." and returns 1. */
int rcp_err(const struct recipe *r, unsigned line, const char *fmt, ...)
	ED_PRINTF(3, 4);

#endif
