/* host_test/unit/main.c: runs every registered unit test, in name order,
 * printing "ok NAME" or "not ok NAME: file:line: what". */
#include "unit.h"
#include <stdlib.h>
#include <string.h>

static struct unit_test *head;
static int failed_now;
static const char *current;

void unit_register(struct unit_test *t)
{
	struct unit_test **p = &head;
	while (*p && strcmp((*p)->name, t->name) < 0)
		p = &(*p)->next;
	t->next = *p;
	*p = t;
}

void unit_fail(const char *file, int line, const char *what)
{
	if (!failed_now)
		printf("not ok unit.%s: %s:%d: %s\n", current, file, line, what);
	failed_now = 1;
}

int main(int argc, char **argv)
{
	struct unit_test *t;
	int fails = 0;
	for (t = head; t; t = t->next) {
		if (argc > 1 && !strstr(t->name, argv[1]))
			continue;
		current = t->name;
		failed_now = 0;
		t->fn();
		if (!failed_now)
			printf("ok unit.%s\n", t->name);
		fails += failed_now;
		fflush(stdout);
	}
	return fails ? 1 : 0;
}
