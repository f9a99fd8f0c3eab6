/*
 * replay: main() for a fuzz target built without libFuzzer, so `make check` runs the seed corpus
 * and the saved crash inputs through the target with any compiler (and, configured with
 * --enable-sanitizers, under ASan and UBSan). Usage: replay_TARGET [FILE|DIR]...; directories are
 * walked in name order. With no arguments it replays TARGET's seed corpus: the glob patterns in
 * tests/fuzz/TARGET.seeds, relative to the source tree.
 */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "xalloc.h"

/* Inputs larger than this are not what a seed or a crash input looks like: refuse them. */
enum { MAX_INPUT = 16 * 1024 * 1024 };

/* Skip dot files and the READMEs that explain a directory of inputs. */
static int is_input_name(const struct dirent *e)
{
	return e->d_name[0] != '.' && strncmp(e->d_name, "README", 6) != 0;
}

/* Read a file into a buffer of exactly its size, as libFuzzer passes inputs, so a sanitizer sees
 * a read past the end. Returns 0, or -1 with a message. */
static int read_input(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;
	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = xmalloc((size_t)MAX_INPUT + 1);
	n = fread(buf, 1, (size_t)MAX_INPUT + 1, f);
	if (ferror(f) || n > MAX_INPUT) {
		fprintf(stderr, "replay: %s: %s\n", path,
			ferror(f) ? "read error" : "larger than 16 MiB");
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	*out = xmalloc(n);
	memcpy(*out, buf, n);
	*len = n;
	free(buf);
	return 0;
}

/* Replay a file, or every input under a directory. Counts inputs in *count; returns the number
 * of paths that could not be read. */
static int replay_path(const char *path, size_t *count)
{
	struct stat st;
	uint8_t *data;
	size_t len;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (S_ISDIR(st.st_mode)) {
		struct dirent **list;
		int n = scandir(path, &list, is_input_name, alphasort), i, bad = 0;
		if (n < 0) {
			fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
			return 1;
		}
		for (i = 0; i < n; i++) {
			size_t size = strlen(path) + strlen(list[i]->d_name) + 2;
			char *sub = xmalloc(size);
			snprintf(sub, size, "%s/%s", path, list[i]->d_name);
			bad += replay_path(sub, count);
			free(sub);
			free(list[i]);
		}
		free(list);
		return bad;
	}
	if (read_input(path, &data, &len) != 0)
		return 1;
	/* Named before the run: when an input crashes, the last line says which. */
	printf("replay %s\n", path);
	fflush(stdout);
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	(*count)++;
	return 0;
}

/* Replay every file matching the patterns of tests/fuzz/TARGET.seeds. */
static int replay_seeds(size_t *count)
{
	const char *top = fuzz_data_dir();
	size_t size = strlen(top) + sizeof "/tests/fuzz/" FUZZ_TARGET ".seeds";
	char *list = xmalloc(size), line[1024];
	FILE *f;
	int bad = 0;
	snprintf(list, size, "%s/tests/fuzz/%s.seeds", top, FUZZ_TARGET);
	f = fopen(list, "r");
	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", list, strerror(errno));
		free(list);
		return 1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		char pattern[2048];
		glob_t g;
		size_t i;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		snprintf(pattern, sizeof pattern, "%s/%s", top, line);
		/* A pattern may match nothing yet (no crash inputs for this target). */
		if (glob(pattern, 0, NULL, &g) == 0)
			for (i = 0; i < g.gl_pathc; i++)
				bad += replay_path(g.gl_pathv[i], count);
		globfree(&g);
	}
	fclose(f);
	free(list);
	return bad;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int bad = 0, i;
	if (argc == 1)
		bad = replay_seeds(&count);
	for (i = 1; i < argc; i++)
		bad += replay_path(argv[i], &count);
	printf("%zu inputs replayed through fuzz_%s, %d unreadable\n", count, FUZZ_TARGET, bad);
	/* An empty corpus means the seeds moved: a replay that tests nothing must not pass. */
	return bad == 0 && count > 0 ? 0 : 1;
}
