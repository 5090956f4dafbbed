/* api: requests to Vestaboard's APIs and their answers; see api.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "json/json.h"
#include "http/url.h"
#include "vesta/api.h"

static const char *const dflt[] = { "https://rw.vestaboard.com/",
	                            "https://cloud.vestaboard.com/",
	                            "http://vestaboard.local:7000" };

int vesta_check_url(const struct vesta_target *t)
{
	const char *base = t->base_url ? t->base_url : dflt[t->api];
	if (url_check(base) < 0)
		return err_set("board %s: base_url: %s", t->name, err_msg());
	if (!url_is_https(base) && t->api != VESTA_LOCAL && !t->allow_http && !url_is_loopback(base))
		return err_set("board %s: the key would go over plain http to %s; use https "
		               "(or allow_http)", t->name, base);
	return 0;
}

int vesta_request(struct http_req *r, const struct vesta_target *t, const char *key,
                  const struct vesta_board *b, int timeout_ms)
{
	static const char *const header[] = { "X-Vestaboard-Read-Write-Key",
		                              "X-Vestaboard-Token", "X-Vestaboard-Local-Api-Key" };
	const char *base = t->base_url ? t->base_url : dflt[t->api];
	if (vesta_check_url(t) < 0)
		return -1;
	if (!(r->url = url_join(base, t->api == VESTA_LOCAL ? "/local-api/message" : "/")))
		return err_set("out of memory");
	if (!(r->body = malloc(VESTA_TEXT_MAX + 32)))
		return err_set("out of memory");
	char *p = r->body;
	if (t->api == VESTA_CLOUD)
		p += sprintf(p, "{\"characters\":");
	p += vesta_board_text(b, p);
	if (t->api == VESTA_CLOUD)
		*p++ = '}';
	r->bodylen = (size_t)(p - r->body);
	if ( http_header(r, "Content-Type", "application/json") < 0 ||
	    http_header(r, header[t->api], key) < 0)
		return err_set("out of memory");
	r->secret = key;
	r->timeout_ms = timeout_ms;
	r->max_attempts = 1;
	return 0;
}

int vesta_answer(const struct http_req *r)
{
	if (!r->kind)
		return VESTA_SENT;
	if ((r->status == 409 || r->status == 405) && r->resp &&
	    (strcasestr(r->resp, "fingerprint") || strcasestr(r->resp, "duplicate")))
		return VESTA_DUPLICATE;
	if (r->status == 429 || r->status == 503 || !strcmp(r->kind, "connection"))
		return VESTA_BUSY;
	return VESTA_FAILED;
}

int64_t vesta_pace_wait(const struct vesta_pace *p, int64_t now)
{
	return p->ready_at > now ? p->ready_at - now : 0;
}

void vesta_pace_done(struct vesta_pace *p, int64_t now)
{
	p->ready_at = now + p->interval;
	p->backoff = 0;
}

int64_t vesta_pace_busy(struct vesta_pace *p, int64_t now, int64_t retry_after)
{
	int64_t floor = p->interval > 1000 ? p->interval : 1000;
	p->backoff = p->backoff ? p->backoff * 2 : floor;
	if (p->backoff > 600000)
		p->backoff = 600000;
	int64_t wait = retry_after > p->backoff ? retry_after : p->backoff;
	p->ready_at = now + wait;
	return wait;
}
