/*
 * test_outfile: outputs never destroy what they should not — a regular file is replaced whole
 * and keeps its mode, a new one gets 0666 & ~umask, a symlink is written through, a planted
 * temporary-name symlink is not followed, a FIFO and /dev/null are written in place, a
 * directory and an input file are refused. Each case in a fresh directory under tests/out.
 */
#include "check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "outfile.h"

static char dir[1024];

static int setup(void **state)
{
	const char *b = getenv("TOP_BUILDDIR");
	char cmd[2200];
	(void)state;
	snprintf(dir, sizeof dir, "%s/tests/out/outfile", b && b[0] ? b : ".");
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void expect_text(const char *path, const char *text)
{
	char buf[256] = {0};
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_true(fread(buf, 1, sizeof buf - 1, f) < sizeof buf);
	fclose(f);
	assert_string_equal(buf, text);
}

/* Write text to path through outfile; the status of open or close. */
static int write_out(const char *path, const char *text, const char *const *inputs, size_t n)
{
	struct outfile o;
	struct diag d;
	int status;
	diag_init(&d);
	status = outfile_open(&o, path, "-o", inputs, n, &d);
	if (status == 0) {
		fputs(text, o.f);
		status = outfile_close(&o, "-o", &d);
	}
	diag_release(&d);
	return status;
}

static void a_new_file_gets_0666_less_the_umask(void **state)
{
	char p[1200];
	struct stat st;
	mode_t old = umask(027);
	(void)state;
	path_of(p, sizeof p, "new.txt");
	assert_int_equal(write_out(p, "hello\n", NULL, 0), 0);
	umask(old);
	assert_int_equal(stat(p, &st), 0);
	/* 0666 & ~027 = 0640 */
	assert_int_equal(st.st_mode & 07777, 0640);
	expect_text(p, "hello\n");
}

static void an_existing_file_is_replaced_and_keeps_its_mode(void **state)
{
	char p[1200];
	struct stat st;
	(void)state;
	path_of(p, sizeof p, "old.txt");
	put(p, "a much longer old content\n");
	assert_int_equal(chmod(p, 0604), 0);
	assert_int_equal(write_out(p, "new\n", NULL, 0), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0604);
	expect_text(p, "new\n");
}

static void a_symlink_is_written_through_to_its_target(void **state)
{
	char target[1200], link[1200];
	struct stat st;
	(void)state;
	path_of(target, sizeof target, "target.txt");
	path_of(link, sizeof link, "link.txt");
	put(target, "before\n");
	assert_int_equal(symlink("target.txt", link), 0);
	assert_int_equal(write_out(link, "after\n", NULL, 0), 0);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	expect_text(target, "after\n");
}

static void a_planted_tmp_symlink_is_not_followed(void **state)
{
	char victim[1200], planted[1200], out[1200];
	(void)state;
	path_of(victim, sizeof victim, "bashrc");
	path_of(planted, sizeof planted, "r.html.tmp");
	path_of(out, sizeof out, "r.html");
	put(victim, "precious\n");
	assert_int_equal(symlink(victim, planted), 0);
	assert_int_equal(write_out(out, "<html>\n", NULL, 0), 0);
	expect_text(victim, "precious\n");
	expect_text(out, "<html>\n");
}

static void a_directory_is_refused(void **state)
{
	(void)state;
	assert_int_equal(write_out(dir, "x", NULL, 0), -1);
}

static void an_input_of_the_run_is_refused_even_through_another_name(void **state)
{
	char in[1200], alias[1200];
	const char *inputs[1];
	(void)state;
	path_of(in, sizeof in, "scenario.yaml");
	path_of(alias, sizeof alias, "alias.yaml");
	put(in, "model: x\n");
	assert_int_equal(link(in, alias), 0);
	inputs[0] = in;
	assert_int_equal(write_out(alias, "trace", inputs, 1), -1);
	expect_text(in, "model: x\n");
}

static void dev_null_stays_a_device(void **state)
{
	struct stat st;
	(void)state;
	assert_int_equal(write_out("/dev/null", "discarded\n", NULL, 0), 0);
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
}

static void a_fifo_is_written_in_place(void **state)
{
	char p[1200], buf[64] = {0};
	struct stat st;
	int fd;
	(void)state;
	path_of(p, sizeof p, "pipe");
	assert_int_equal(mkfifo(p, 0600), 0);
	/* Our own reader end, opened first without blocking, holds the FIFO open. */
	fd = open(p, O_RDONLY | O_NONBLOCK);
	assert_true(fd >= 0);
	assert_int_equal(write_out(p, "through the pipe\n", NULL, 0), 0);
	assert_int_equal(read(fd, buf, sizeof buf - 1), 17);
	close(fd);
	assert_string_equal(buf, "through the pipe\n");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
}

static void no_temporary_file_is_left_behind(void **state)
{
	char cmd[1300];
	(void)state;
	snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -q dssim-", dir);
	assert_int_not_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_new_file_gets_0666_less_the_umask),
		cmocka_unit_test(an_existing_file_is_replaced_and_keeps_its_mode),
		cmocka_unit_test(a_symlink_is_written_through_to_its_target),
		cmocka_unit_test(a_planted_tmp_symlink_is_not_followed),
		cmocka_unit_test(a_directory_is_refused),
		cmocka_unit_test(an_input_of_the_run_is_refused_even_through_another_name),
		cmocka_unit_test(dev_null_stays_a_device),
		cmocka_unit_test(a_fifo_is_written_in_place),
		cmocka_unit_test(no_temporary_file_is_left_behind),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
