/* id: UUIDv7 identifiers; see id.h. */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "base/id.h"
#include "base/timeutil.h"

static unsigned char pool[4096];
static size_t pool_left;

static void random_bytes(unsigned char *out, size_t n)
{
	if (pool_left < n) {
		size_t got = 0;
		while (got < sizeof pool) {
			ssize_t r = getrandom(pool + got, sizeof pool - got, 0);
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		pool_left = got;
	}
	memcpy(out, pool + (sizeof pool - pool_left), n);
	pool_left -= n;
}

char *id_new_at(int64_t ms, char buf[static ID_LEN + 1])
{
	static int64_t last_ms = -1;
	static unsigned counter;
	unsigned char b[16];

	random_bytes(b + 6, 10);
	if (ms <= last_ms) {
		ms = last_ms;
		if (++counter > 0xfff) { /* counter spent: borrow the next ms */
			ms = ++last_ms;
			counter = 0;
		}
	} else {
		last_ms = ms;
		counter = ((unsigned)b[6] << 4 | b[7] >> 4) & 0x7ff;
	}
	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (40 - 8 * i));
	b[6] = (unsigned char)(0x70 | (counter >> 8));
	b[7] = (unsigned char)(counter & 0xff);
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));

	static const char hex[] = "0123456789abcdef";
	char *p = buf;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[b[i] >> 4];
		*p++ = hex[b[i] & 15];
	}
	*p = 0;
	return buf;
}

char *id_new(char buf[static ID_LEN + 1])
{
	return id_new_at(time_now_ms(), buf);
}
