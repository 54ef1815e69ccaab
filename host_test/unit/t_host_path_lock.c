/* host_test/unit/t_host_path_lock.c: backing names resolved beside the
 * overlay with POSIX and Windows rules (QEMU's path_combine gives the
 * expected values), and QEMU's lock bytes between two open descriptions. */
#define _POSIX_C_SOURCE 200809L
#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include "file_id.h"
#include "file_lock.h"
#include "path.h"
#include "hdi/errors.h"

static int beside_is(const char *overlay, const char *name, int win,
		     const char *want)
{
	char out[256];
	size_t n = path_beside(out, sizeof out, overlay, name, win);
	return n == strlen(want) && !strcmp(out, want);
}

TEST(host_path_posix)
{
	CHECK(beside_is("img/top.qcow2", "base.qcow2", 0, "img/base.qcow2"));
	CHECK(beside_is("img/top.qcow2", "../b.qcow2", 0, "img/../b.qcow2"));
	CHECK(beside_is("top.qcow2", "base.qcow2", 0, "base.qcow2"));
	CHECK(beside_is("/a/b/top.qcow2", "/abs.qcow2", 0, "/abs.qcow2"));
	/* backslashes and drive letters are ordinary characters here */
	CHECK(beside_is("img/top.qcow2", "..\\b.qcow2", 0, "img/..\\b.qcow2"));
	CHECK(beside_is("img\\top.qcow2", "b.qcow2", 0, "b.qcow2"));
	CHECK(beside_is("img/top.qcow2", "C:\\b.qcow2", 0, "img/C:\\b.qcow2"));
}

TEST(host_path_windows)
{
	CHECK(beside_is("vm\\top.qcow2", "..\\base.qcow2", 1, "vm\\..\\base.qcow2"));
	CHECK(beside_is("C:\\vm\\top.qcow2", "base.qcow2", 1, "C:\\vm\\base.qcow2"));
	CHECK(beside_is("C:\\vm/x\\top.qcow2", "b.qcow2", 1, "C:\\vm/x\\b.qcow2"));
	CHECK(beside_is("C:/vm/top.qcow2", "b.qcow2", 1, "C:/vm/b.qcow2"));
	CHECK(beside_is("C:top.qcow2", "b.qcow2", 1, "C:b.qcow2"));
	CHECK(beside_is("vm\\top.qcow2", "D:\\b.qcow2", 1, "D:\\b.qcow2"));
	CHECK(beside_is("vm\\top.qcow2", "d:b.qcow2", 1, "d:b.qcow2"));
	CHECK(beside_is("vm\\top.qcow2", "\\\\srv\\share\\b.qcow2", 1, "\\\\srv\\share\\b.qcow2"));
	CHECK(beside_is("vm\\top.qcow2", "/b.qcow2", 1, "/b.qcow2"));
	CHECK(beside_is("top.qcow2", "b.qcow2", 1, "b.qcow2"));
	CHECK(path_is_absolute("C:\\x", 1) && !path_is_absolute("C:\\x", 0));
	CHECK(!path_is_absolute("x\\y", 1) && !path_is_absolute("1:x", 1));
}

TEST(host_path_truncates)
{
	char out[8];
	CHECK_EQ(path_beside(out, sizeof out, "dir/top", "base.qcow2", 0), 14);
	CHECK(!strcmp(out, "dir/bas"));
}

TEST(host_lock_between_descriptions)
{
	char path[] = "/tmp/hdi-lock-XXXXXX";
	const unsigned rw = FILE_PERM_CONSISTENT_READ | FILE_PERM_WRITE | FILE_PERM_RESIZE;
	const unsigned keep = FILE_PERM_ALL & ~(FILE_PERM_WRITE | FILE_PERM_RESIZE);
	struct file_lock_conflict c;
	struct file_id a, b;
	int fd = mkstemp(path), f1, f2, f3;
	CHECK(fd >= 0);
	f1 = open(path, O_RDWR);
	f2 = open(path, O_RDWR);
	f3 = open(path, O_RDONLY);
	CHECK(!file_id_fd(f1, &a) && !file_id_path(path, &b) &&
	      file_id_eq(&a, &b));
	/* readers that share everything get along with one another */
	CHECK_EQ(file_lock(f3, FILE_PERM_CONSISTENT_READ, FILE_PERM_ALL, &c), HDI_OK);
	CHECK_EQ(file_lock(f1, rw, keep, &c), HDI_OK);
	/* a second writer: our write is not shared by the first */
	CHECK_EQ(file_lock(f2, rw, keep, &c), HDI_EBUSY);
	CHECK(c.perm == FILE_PERM_WRITE && !c.shared);
	/* a qcow2 reader does not share write, which the writer holds */
	close(f2);
	f2 = open(path, O_RDONLY);
	CHECK_EQ(file_lock(f2, FILE_PERM_CONSISTENT_READ, keep, &c), HDI_EBUSY);
	CHECK(c.perm == FILE_PERM_WRITE && c.shared);
	/* closing the writer's description releases its bytes */
	close(f1);
	close(f2);
	f2 = open(path, O_RDONLY);
	CHECK_EQ(file_lock(f2, FILE_PERM_CONSISTENT_READ, keep, &c), HDI_OK);
	CHECK(!strcmp(file_perm_name(FILE_PERM_RESIZE), "resize"));
	close(f2);
	close(f3);
	close(fd);
	unlink(path);
}
