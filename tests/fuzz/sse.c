/* sse: the server-sent-events splitter, fed the input in pieces whose
 * sizes come from its first byte, then ended. */
#include "http/sse.h"

static int on_event(void *user, const char *type, const char *data, size_t n)
{
	(void)type;
	(void)data;
	*(size_t *)user += n;
	return 0;
}

int fuzz_one(const unsigned char *data, size_t n)
{
	if (n < 1)
		return 0;
	size_t step = data[0] % 17 + 1, total = 0;
	struct sse s;
	sse_init(&s);
	for (size_t i = 1; i < n; i += step)
		if (sse_feed(&s, (const char *)data + i, i + step <= n ? step : n - i, on_event,
		             &total) < 0)
			break;
	sse_end(&s, on_event, &total);
	sse_free(&s);
	return 0;
}
