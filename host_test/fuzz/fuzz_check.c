/* host_test/fuzz/fuzz_check.c: libFuzzer target: the input is a qcow2 file;
 * open it read-only and run the read-only check (qemu-img check's walk of
 * every reference). It must end, never write, and count sanely. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_chain c;
	static struct hdi_qcow2_check_result res;
	size_t ws;

	/* alternate workspaces so both cache sizes see every input shape */
	ws = (size & 1) ? FZ_WS_MIN : FZ_WS_BIG;
	if (fz_open(&c, data, size, ws) == HDI_OK) {
		int r;
		memset(&res, 0xa5, sizeof res);
		r = hdi_qcow2_check(&c.q[0], 0, &res);
		FZ_ASSERT(r <= 0);
		if (r == HDI_OK) {
			FZ_ASSERT(res.corruptions_fixed == 0 && res.leaks_fixed == 0);
		}
	}
	fz_close(&c);
	return 0;
}
