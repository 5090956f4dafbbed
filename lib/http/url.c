/* url: checking and joining addresses; see url.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "http/url.h"

/* Where URL's host begins (after "scheme://"), or NULL. */
static const char *host_of(const char *url)
{
	const char *h = strstr(url, "://");
	return h ? h + 3 : NULL;
}

/* The length of the authority (user@host:port) at H. */
static size_t authority_len(const char *h)
{
	return strcspn(h, "/?#");
}

int url_check(const char *url)
{
	if (!url || !*url)
		return err_set("an empty address");
	const char *h = host_of(url);
	if (!h || (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8)))
		return err_set("'%.80s' is not an http:// or https:// address", url);
	size_t n = authority_len(h);
	if (!n || (h[0] == ':' ))
		return err_set("'%.80s' has no host", url);
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 127)
			return err_set("'%.80s' holds white space or a control character", url);
	return 0;
}

int url_is_https(const char *url)
{
	return !strncasecmp(url, "https://", 8);
}

int url_is_loopback(const char *url)
{
	const char *h = host_of(url);
	if (!h)
		return 0;
	size_t n = authority_len(h);
	const char *at = memchr(h, '@', n);
	if (at) {
		n -= (size_t)(at + 1 - h);
		h = at + 1;
	}
	char host[256];
	if (h[0] == '[') {
		const char *end = memchr(h, ']', n);
		if (!end)
			return 0;
		snprintf(host, sizeof host, "%.*s", (int)(end - h - 1), h + 1);
		return !strcmp(host, "::1");
	}
	size_t k = strcspn(h, ":/?#");
	if (k > n || k >= sizeof host)
		return 0;
	memcpy(host, h, k);
	host[k] = 0;
	if (!strcasecmp(host, "localhost"))
		return 1;
	unsigned a, b, c, d;
	char extra;
	return sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &extra) == 4 && a == 127 &&
	       b < 256 && c < 256 && d < 256;
}

int url_same_origin(const char *url, const char *base)
{
	const char *uh = host_of(url), *bh = host_of(base);
	if (!uh || !bh || uh - url != bh - base || strncasecmp(url, base, (size_t)(uh - url)))
		return 0;
	size_t un = authority_len(uh), bn = authority_len(bh);
	if (un == bn)
		return !strncasecmp(uh, bh, un);
	return un > bn && uh[un - bn - 1] == '.' && !strncasecmp(uh + un - bn, bh, bn);
}

char *url_join(const char *base, const char *path)
{
	const char *h = host_of(base);
	size_t end = strlen(base);
	if (h) { /* the base's query and fragment go after the path */
		size_t q = (size_t)(h - base) + strcspn(h, "?#");
		end = q;
	}
	size_t bl = end;
	while (bl && base[bl - 1] == '/')
		bl--;
	const char *rest = base + end;
	size_t ql = rest[0] == '?' ? strcspn(rest, "#") : 0; /* the base's query */
	/* A path with a query of its own takes the base's after an "&". */
	int amp = ql > 1 && strchr(path, '?');
	char *out;
	if (asprintf(&out, "%.*s%s%s%.*s%s", (int)bl, base, path, amp ? "&" : "",
	             (int)(amp ? ql - 1 : ql), amp ? rest + 1 : rest, rest + ql) < 0)
		return NULL;
	return out;
}
