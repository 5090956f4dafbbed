/* id: UUIDv7 identifiers; see id.h. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/id.h"
#include "base/timeutil.h"

/* Random bytes come from getrandom(2) a pool at a time. Should it fail
 * (no entropy yet, a sandbox without the call), the rest of the pool comes
 * from a generator seeded with the time, the pid and an address: ids must
 * still be unique, if not unpredictable. Invariant: pool[pos..len) unused. */
static unsigned char pool[4096];
static size_t pos, len;

static void fallback(unsigned char *p, size_t n)
{
	static uint64_t x;
	if (!x)
		x = (uint64_t)time_now_ms() ^ (uint64_t)getpid() << 40 ^ (uint64_t)(uintptr_t)&x;
	for (size_t i = 0; i < n; i++) { /* splitmix64, a byte at a time */
		uint64_t z = (x += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		p[i] = (unsigned char)(z ^ (z >> 31));
	}
}

static void random_bytes(unsigned char *out, size_t n)
{
	if (len - pos < n) {
		size_t got = 0;
		while (got < sizeof pool) {
			ssize_t r = getrandom(pool + got, sizeof pool - got, GRND_NONBLOCK);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		fallback(pool + got, sizeof pool - got);
		pos = 0;
		len = sizeof pool;
	}
	memcpy(out, pool + pos, n);
	pos += n;
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
