/* catalogue: the model catalogue with the input as the user's models.json. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "model/catalogue.h"

int fuzz_one(const unsigned char *data, size_t n)
{
	char path[] = "/tmp/fuzz-models.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	if (write(fd, data, n) == (ssize_t)n) {
		struct catalogue *c;
		if (catalogue_load(&c, path) == 0) {
			for (size_t i = 0; i < catalogue_count(c); i++)
				catalogue_find(c, catalogue_at(c, i)->id);
			catalogue_find(c, "openai:gpt-4o-mini");
			catalogue_free(c);
		}
	}
	close(fd);
	unlink(path);
	return 0;
}
