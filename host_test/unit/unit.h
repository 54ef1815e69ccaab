/* host_test/unit/unit.h: a tiny unit-test harness. TEST(name) registers a
 * test at start-up; CHECK records a failure with file and line. */
#ifndef HDI_UNIT_H
#define HDI_UNIT_H
#include <stdio.h>

struct unit_test { const char *name; void (*fn)(void); struct unit_test *next; };
void unit_register(struct unit_test *t);
void unit_fail(const char *file, int line, const char *what);

#define TEST(name) \
	static void test_##name(void); \
	static struct unit_test reg_##name = { #name, test_##name, 0 }; \
	__attribute__((constructor)) static void register_##name(void) \
	{ unit_register(&reg_##name); } \
	static void test_##name(void)

#define CHECK(cond) do { if (!(cond)) unit_fail(__FILE__, __LINE__, #cond); } while (0)
#define CHECK_EQ(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	if (a_ != b_) { char m_[256]; snprintf(m_, sizeof m_, "%s == %s (%lld != %lld)", \
	#a, #b, a_, b_); unit_fail(__FILE__, __LINE__, m_); } } while (0)
#endif
