/* keys: the keys file (0600, ours) with the input as its text. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/keys.h"

int fuzz_one(const unsigned char *data, size_t n)
{
	char path[] = "/tmp/fuzz-keys.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	fchmod(fd, 0600);
	if (write(fd, data, n) == (ssize_t)n) {
		setenv("PANIC_KEYS", path, 1);
		unsetenv("OPENAI_API_KEY");
		keys_reset();
		keys_get("OPENAI_API_KEY");
		keys_get("A");
		keys_get("export");
		keys_refused();
		keys_reset();
	}
	close(fd);
	unlink(path);
	return 0;
}
