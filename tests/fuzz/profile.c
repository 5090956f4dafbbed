/* profile: profiles.json, read and applied: the profiles "p" and "local". */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "model/platform.h"
#include "model/profile.h"

int fuzz_one(const unsigned char *data, size_t n)
{
	char path[] = "/tmp/fuzz-profiles.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	if (write(fd, data, n) == (ssize_t)n) {
		jv doc = profile_load(path);
		static const char *const names[] = { "p", "local" };
		for (int i = 0; jv_is_valid(doc) && i < 2; i++) {
			struct call_opts o = { .temperature = -1, .schema = jv_null() };
			const char *model = NULL;
			profile_apply(doc, names[i], &o, &model);
			jv_free(o.schema);
		}
		jv_free(doc);
	}
	close(fd);
	unlink(path);
	return 0;
}
