/* driver: main() for a fuzzing harness (see README.md). Under AFL++
 * (afl-clang-fast defines __AFL_FUZZ_TESTCASE_LEN) a persistent loop over
 * test cases in shared memory; otherwise each file named is one input. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int fuzz_one(const unsigned char *data, size_t n);

#ifdef __AFL_FUZZ_TESTCASE_LEN
__AFL_FUZZ_INIT();
int main(void)
{
	__AFL_INIT();
	unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF;
	while (__AFL_LOOP(10000))
		fuzz_one(buf, (size_t)__AFL_FUZZ_TESTCASE_LEN);
	return 0;
}
#else
int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			return 2;
		}
		unsigned char *buf = NULL;
		size_t n = 0, cap = 0, k;
		do {
			if (n == cap && !(buf = realloc(buf, cap = cap ? cap * 2 : 65536)))
				return 2;
			k = fread(buf + n, 1, cap - n, f);
			n += k;
		} while (k > 0);
		fclose(f);
		fuzz_one(buf, n);
		free(buf);
	}
	return 0;
}
#endif
