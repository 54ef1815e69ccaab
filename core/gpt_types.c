/* core/gpt_types.c: GUID text and byte order, partition names (UTF-16LE
 * from and to UTF-8), and the partition types users name. */
#include "gpt_int.h"

#if HDI_CONFIG_GPT

/* Text groups 1-3 are little-endian on disk, groups 4-5 in text order:
 * text byte k comes from disk byte order[k]. */
static const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6,
				   8, 9, 10, 11, 12, 13, 14, 15 };

void hdi_guid_to_str(const struct hdi_guid *g, char out[37])
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned k, o = 0;
	for (k = 0; k < 16; k++) {
		uint8_t v = g->b[order[k]];
		if (k == 4 || k == 6 || k == 8 || k == 10)
			out[o++] = '-';
		out[o++] = hex[v >> 4];
		out[o++] = hex[v & 15];
	}
	out[o] = 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hdi_guid_from_str(struct hdi_guid *g, const char *s)
{
	struct hdi_guid t;
	unsigned k, i = 0;
	for (k = 0; k < 16; k++) {
		int hi, lo;
		if (k == 4 || k == 6 || k == 8 || k == 10) {
			if (s[i++] != '-')
				return HDI_EINVAL;
		}
		hi = hexval(s[i]);
		lo = hi < 0 ? -1 : hexval(s[i + 1]);
		if (lo < 0)
			return HDI_EINVAL;
		i += 2;
		t.b[order[k]] = (uint8_t)(hi << 4 | lo);
	}
	if (s[i])
		return HDI_EINVAL;
	*g = t;
	return HDI_OK;
}

bool hdi_guid_is_zero(const struct hdi_guid *g)
{
	unsigned i;
	for (i = 0; i < 16; i++)
		if (g->b[i])
			return false;
	return true;
}

bool hdi_guid_eq(const struct hdi_guid *a, const struct hdi_guid *b)
{
	return !memcmp(a->b, b->b, 16);
}

void hdi_guid_make_v4(struct hdi_guid *g)
{
	/* Version in the high nibble of the time_hi field (little-endian,
	 * so disk byte 7), variant 10xx in byte 8. */
	g->b[7] = (uint8_t)((g->b[7] & 0x0F) | 0x40);
	g->b[8] = (uint8_t)((g->b[8] & 0x3F) | 0x80);
}

/* One code point from UTF-8 at *s; -1 when malformed. */
static int32_t utf8_next(const char **s)
{
	const uint8_t *p = (const uint8_t *)*s;
	uint32_t c = p[0], n, i, min;
	if (c < 0x80) {
		*s += 1;
		return (int32_t)c;
	}
	if ((c & 0xE0) == 0xC0)
		n = 1, c &= 0x1F, min = 0x80;
	else if ((c & 0xF0) == 0xE0)
		n = 2, c &= 0x0F, min = 0x800;
	else if ((c & 0xF8) == 0xF0)
		n = 3, c &= 0x07, min = 0x10000;
	else
		return -1;
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return -1;
		c = c << 6 | (p[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return -1;
	*s += n + 1;
	return (int32_t)c;
}

int hdi_gpt_name_from_utf8(uint16_t name[HDI_GPT_NAME_LEN], const char *s)
{
	uint16_t t[HDI_GPT_NAME_LEN];
	unsigned n = 0;
	while (*s) {
		int32_t c = utf8_next(&s);
		if (c < 0)
			return HDI_EINVAL;
		if (c >= 0x10000) {
			if (n + 2 > HDI_GPT_NAME_LEN)
				return HDI_EINVAL;
			c -= 0x10000;
			t[n++] = (uint16_t)(0xD800 + (c >> 10));
			t[n++] = (uint16_t)(0xDC00 + (c & 0x3FF));
		} else {
			if (n + 1 > HDI_GPT_NAME_LEN)
				return HDI_EINVAL;
			t[n++] = (uint16_t)c;
		}
	}
	while (n < HDI_GPT_NAME_LEN)
		t[n++] = 0;
	memcpy(name, t, sizeof t);
	return HDI_OK;
}

static unsigned utf8_put(char *o, uint32_t c)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xC0 | c >> 6);
		o[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (char)(0xE0 | c >> 12);
		o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		o[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | c >> 18);
	o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
	o[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

void hdi_gpt_name_to_utf8(const uint16_t name[HDI_GPT_NAME_LEN],
			  char out[HDI_GPT_NAME_UTF8_MAX])
{
	unsigned i, o = 0;
	for (i = 0; i < HDI_GPT_NAME_LEN && name[i]; i++) {
		uint32_t c = name[i];
		if (c >= 0xD800 && c <= 0xDBFF && i + 1 < HDI_GPT_NAME_LEN &&
		    name[i + 1] >= 0xDC00 && name[i + 1] <= 0xDFFF) {
			c = 0x10000 + ((c - 0xD800) << 10) + (name[i + 1] - 0xDC00u);
			i++;
		} else if (c >= 0xD800 && c <= 0xDFFF) {
			c = 0xFFFD;             /* a lone surrogate */
		}
		o += utf8_put(out + o, c);
	}
	out[o] = 0;
}

const struct hdi_gpt_type hdi_gpt_types[] = {
	{ .name = "EFI System", .guid = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
	  .shortcut = "U", .alias = "uefi" },
	{ .name = "BIOS boot", .guid = "21686148-6449-6E6F-744E-656564454649" },
	{ .name = "Linux filesystem", .guid = "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
	  .shortcut = "L", .alias = "linux" },
	{ .name = "Linux swap", .guid = "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F",
	  .shortcut = "S", .alias = "swap" },
	{ .name = "Microsoft basic data", .guid = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7" },
	{ .name = "Linux root (x86)", .guid = "44479540-F297-41B2-9AF7-D131D5F0458A" },
	{ .name = "Linux root (x86-64)", .guid = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709" },
	{ .name = "Linux home", .guid = "933AC7E1-2EB4-4F13-B844-0E14E2AEF915",
	  .shortcut = "H", .alias = "home" },
	{ .name = "Linux RAID", .guid = "A19D880F-05FC-4D3B-A006-743F0F84911E",
	  .shortcut = "R", .alias = "raid" },
	{ .name = "Linux LVM", .guid = "E6D6D379-F507-44C2-A23C-238F2A3DF928",
	  .shortcut = "V", .alias = "lvm" },
};
const unsigned hdi_gpt_ntypes = HDI_ARRAY_SIZE(hdi_gpt_types);

const struct hdi_gpt_type *hdi_gpt_type_by_guid(const struct hdi_guid *g)
{
	unsigned i;
	for (i = 0; i < hdi_gpt_ntypes; i++) {
		struct hdi_guid t;
		if (hdi_guid_from_str(&t, hdi_gpt_types[i].guid) == HDI_OK &&
		    hdi_guid_eq(&t, g))
			return &hdi_gpt_types[i];
	}
	return 0;
}

#endif /* HDI_CONFIG_GPT */
