/* record: the record reader. The first byte picks the mode; the rest is
 * parsed as one line, then read as a stream with a 64-byte line limit,
 * and every record is written back with a field added. */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "json/json.h"
#include "json/ndjson.h"

static void write_back(jv rec, const char *raw, size_t rawlen)
{
	FILE *f = fopen("/dev/null", "w");
	struct json_field fld = { "output", jv_null(), "x" };
	json_write_with(f, rec, raw, rawlen, &fld, 1);
	fclose(f);
}

int fuzz_one(const unsigned char *data, size_t n)
{
	if (n < 1)
		return 0;
	enum nd_mode mode = data[0] % 3;
	const char *s = (const char *)data + 1;
	n--;
	jv rec;
	if (nd_parse(s, n, mode, &rec) == ND_RECORD) {
		write_back(rec, NULL, 0);
		jv_free(rec);
	}
	int fd = memfd_create("fuzz", 0);
	if (fd < 0 || write(fd, s, n) != (ssize_t)n || lseek(fd, 0, SEEK_SET) < 0)
		return 0;
	struct nd_reader *r = nd_new(fd, 64, mode);
	int rc;
	while (r && (rc = nd_next(r, &rec, 1)) != ND_EOF && rc != ND_ERROR) {
		if (rc == ND_RECORD) {
			size_t len;
			const char *raw = nd_raw(r, &len);
			write_back(rec, raw, len);
			jv_free(rec);
		}
	}
	nd_free(r);
	close(fd);
	return 0;
}
