/* http: requests on one curl multi handle, polled by the engine; see
 * http.h. libcurl itself is loaded on the first request (curl.h).
 */
#include <errno.h>
#include <jv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/timeutil.h"
#include "http/curl.h"
#include "http/http.h"
#include "json/json.h"

#define HTTP_TIMEOUT_MS 120000
#define HTTP_CONNECT_MS 10000
#define HTTP_ATTEMPTS 4
#define HTTP_BACKOFF_MS 500
#define HTTP_BACKOFF_MAX 30000
#define HTTP_RETRY_AFTER_MAX 60000
#define HTTP_IDLE 256

static struct {
	CURLM *m;
	struct pollfd *socks;
	int nsocks, capsocks;
	int64_t timer; /* monotonic ms, -1: none */
	struct http_req *waiting; /* retries, by nothing in particular */
	CURL *idle[HTTP_IDLE];
	int nidle;
	int active;
	int fired; /* requests let go with http_fire() */
	long backoff;
	uint64_t rnd; /* the jitter's generator, seeded per process */
} H = { .timer = -1 };

/* A random number for the backoff's jitter (xorshift64*). */
static uint64_t jitter(void)
{
	H.rnd ^= H.rnd >> 12;
	H.rnd ^= H.rnd << 25;
	H.rnd ^= H.rnd >> 27;
	return H.rnd * 2685821657736338717ull;
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *u, void *sp)
{
	(void)e, (void)u, (void)sp;
	int i;
	for (i = 0; i < H.nsocks && H.socks[i].fd != s; i++)
		;
	if (what == CURL_POLL_REMOVE) {
		if (i < H.nsocks)
			H.socks[i] = H.socks[--H.nsocks];
		return 0;
	}
	if (i == H.nsocks) {
		if (H.nsocks == H.capsocks) {
			int cap = H.capsocks ? H.capsocks * 2 : 16;
			struct pollfd *p = realloc(H.socks, (size_t)cap * sizeof *p);
			if (!p)
				return -1;
			H.socks = p;
			H.capsocks = cap;
		}
		H.nsocks++;
	}
	H.socks[i].fd = s;
	H.socks[i].events = (short)((what & CURL_POLL_IN ? POLLIN : 0) |
	                            (what & CURL_POLL_OUT ? POLLOUT : 0));
	return 0;
}

static int on_timer(CURLM *m, long ms, void *u)
{
	(void)m, (void)u;
	H.timer = ms < 0 ? -1 : time_mono_ms() + ms;
	return 0;
}

static int setup(const char **why)
{
	if (H.m)
		return 0;
	if (curl_load(why) < 0)
		return -1;
	*why = "cannot start libcurl";
	if (curl_api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(H.m = curl_api.multi_init()))
		return -1;
	curl_api.multi_setopt(H.m, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_api.multi_setopt(H.m, CURLMOPT_TIMERFUNCTION, on_timer);
	const char *b = getenv("PANIC_HTTP_BACKOFF_MS");
	H.backoff = b && *b ? atol(b) : HTTP_BACKOFF_MS;
	if (H.backoff < 0 || H.backoff > HTTP_BACKOFF_MAX)
		H.backoff = H.backoff < 0 ? 0 : HTTP_BACKOFF_MAX;
	/* Each process its own jitter: not all of them retrying in step. */
	if (getrandom(&H.rnd, sizeof H.rnd, GRND_NONBLOCK) != (ssize_t)sizeof H.rnd)
		H.rnd = (uint64_t)time_now_ms() ^ (uint64_t)getpid() << 32;
	H.rnd |= 1;
	return 0;
}

int http_header(struct http_req *r, const char *name, const char *value)
{
	if (r->nheaders == HTTP_HEADERS)
		return -1;
	size_t n = strlen(name) + strlen(value) + 3;
	char *h = malloc(n);
	if (!h)
		return -1;
	snprintf(h, n, "%s: %s", name, value);
	r->header[r->nheaders++] = h;
	return 0;
}

/* Blanks R's secret out of its message. */
static void scrub(struct http_req *r)
{
	size_t k = r->secret ? strlen(r->secret) : 0;
	if (k < 4)
		return;
	for (char *p; (p = strstr(r->msg, r->secret));) {
		memset(p, '*', k);
	}
}

static size_t on_header(char *p, size_t size, size_t n, void *u)
{
	struct http_req *r = u;
	size_t len = size * n;
	if (len > 12 && !strncasecmp(p, "retry-after:", 12)) {
		char v[64];
		size_t k = len - 12 < sizeof v - 1 ? len - 12 : sizeof v - 1;
		memcpy(v, p + 12, k);
		v[k] = 0;
		/* Seconds or an HTTP date; anything past the longest wait is
		 * just "too long" (no overflow on 9223372036854775807). */
		char *end;
		long long s = strtoll(v, &end, 10);
		time_t at;
		if (end != v && s >= 0)
			r->retry_after_ms = s > HTTP_RETRY_AFTER_MAX / 1000 ? HTTP_RETRY_AFTER_MAX + 1
			                                                   : s * 1000;
		else if ((at = curl_api.getdate(v, NULL)) > 0) {
			int64_t left = (int64_t)at - time_now_ms() / 1000;
			r->retry_after_ms = left > HTTP_RETRY_AFTER_MAX / 1000 ? HTTP_RETRY_AFTER_MAX + 1
			                    : left > 0                          ? left * 1000
			                                                        : 0;
		}
	} else if (len > 13 && !strncasecmp(p, "content-type:", 13)) {
		const char *v = p + 13;
		while (*v == ' ')
			v++;
		size_t k = len - (size_t)(v - p);
		while (k && (v[k - 1] == '\r' || v[k - 1] == '\n'))
			k--;
		if (k >= sizeof r->ctype)
			k = sizeof r->ctype - 1;
		memcpy(r->ctype, v, k);
		r->ctype[k] = 0;
	}
	return len;
}

static size_t on_write(char *p, size_t size, size_t n, void *u)
{
	struct http_req *r = u;
	size_t len = size * n;
	if (!r->status)
		curl_api.easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
	size_t max = r->max_body ? r->max_body : HTTP_MAX_BODY;
	if (r->on_data && r->status >= 200 && r->status < 300) {
		r->delivered += len;
		if (r->delivered > max) {
			r->kind = "bad_response";
			snprintf(r->msg, sizeof r->msg, "answer larger than %zu bytes", max);
			return 0;
		}
		if (r->on_data(r, p, len) < 0) {
			if (!r->kind)
				r->kind = "aborted";
			return 0;
		}
		return len;
	}
	if (r->resplen + len + 1 > r->respcap) {
		if (r->resplen + len > max) {
			r->kind = "bad_response";
			snprintf(r->msg, sizeof r->msg, "answer larger than %zu bytes", max);
			return 0;
		}
		size_t cap = r->respcap ? r->respcap * 2 : 4096;
		while (cap < r->resplen + len + 1)
			cap *= 2;
		char *b = realloc(r->resp, cap);
		if (!b)
			return 0;
		r->resp = b;
		r->respcap = cap;
	}
	memcpy(r->resp + r->resplen, p, len);
	r->resplen += len;
	r->resp[r->resplen] = 0;
	return len;
}

static void finish(struct http_req *r)
{
	H.active--;
	scrub(r);
	r->on_done(r);
}

static void attempt(struct http_req *r)
{
	CURL *e = H.nidle ? H.idle[--H.nidle] : curl_api.easy_init();
	if (!e) {
		r->kind = "connection";
		snprintf(r->msg, sizeof r->msg, "cannot make a curl handle");
		finish(r);
		return;
	}
	r->easy = e;
	r->status = 0;
	r->resplen = 0;
	if (r->resp)
		r->resp[0] = 0;
	r->ctype[0] = 0;
	r->retry_after_ms = 0;
	r->kind = NULL;
	r->msg[0] = 0;
	r->attempts++;
	long timeout = r->timeout_ms > 0 ? r->timeout_ms : HTTP_TIMEOUT_MS;
	if (r->deadline) { /* the whole request's time is running out */
		int64_t left = r->deadline - time_mono_ms();
		if (left < timeout)
			timeout = left > 1 ? (long)left : 1;
	}
	curl_api.easy_setopt(e, CURLOPT_URL, r->url);
	curl_api.easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	if (r->body) {
		curl_api.easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->bodylen);
		curl_api.easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
	}
	if (r->method)
		curl_api.easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	curl_api.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_api.easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_api.easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_api.easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_api.easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_api.easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
	curl_api.easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	                 timeout < HTTP_CONNECT_MS ? timeout : (long)HTTP_CONNECT_MS);
	curl_api.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_api.easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	/* http and https only, and redirects only when asked for: a key
	 * goes nowhere else, a POST never turns into a GET. */
	curl_api.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_api.easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_api.easy_setopt(e, CURLOPT_FOLLOWLOCATION, r->follow ? 1L : 0L);
	curl_api.easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
	curl_api.easy_setopt(e, CURLOPT_USERAGENT, "panic/" PANIC_VERSION);
	if (curl_api.multi_add_handle(H.m, e) != CURLM_OK) {
		r->easy = NULL;
		curl_api.easy_cleanup(e);
		r->kind = "connection";
		snprintf(r->msg, sizeof r->msg, "cannot start the request");
		finish(r);
	}
}

void http_start(struct http_req *r)
{
	const char *why;
	r->attempts = 0;
	r->delivered = 0;
	r->easy = NULL;
	r->next = NULL;
	if (setup(&why) < 0) {
		r->kind = "connection";
		snprintf(r->msg, sizeof r->msg, "%s", why);
		r->on_done(r);
		return;
	}
	if (r->nheaders && !r->headers) {
		struct curl_slist *l = NULL;
		for (int k = 0; k < r->nheaders; k++) {
			struct curl_slist *t = curl_api.slist_append(l, r->header[k]);
			if (!t) {
				curl_api.slist_free_all(l);
				l = NULL;
				break;
			}
			l = t;
		}
		if (!l) {
			r->kind = "connection";
			snprintf(r->msg, sizeof r->msg, "out of memory");
			r->on_done(r);
			return;
		}
		r->headers = l;
	}
	if (r->max_attempts <= 0)
		r->max_attempts = HTTP_ATTEMPTS;
	H.active++;
	attempt(r);
}

static void release_easy(struct http_req *r)
{
	CURL *e = r->easy;
	if (!e)
		return;
	r->easy = NULL;
	curl_api.multi_remove_handle(H.m, e);
	if (H.nidle < HTTP_IDLE) {
		curl_api.easy_reset(e);
		H.idle[H.nidle++] = e;
	} else {
		curl_api.easy_cleanup(e);
	}
}

static void unwait(struct http_req *r)
{
	for (struct http_req **p = &H.waiting; *p; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			return;
		}
	}
}

void http_free(struct http_req *r)
{
	if (r->headers)
		curl_api.slist_free_all(r->headers);
	for (int i = 0; i < r->nheaders; i++)
		free(r->header[i]);
	r->nheaders = 0;
	free(r->url);
	free(r->body);
	free(r->resp);
	r->headers = NULL;
	r->url = r->body = r->resp = NULL;
	r->resplen = r->respcap = 0;
}

void http_cancel(struct http_req *r)
{
	if (r->easy) {
		release_easy(r);
		H.active--;
	} else if (r->retry_at) {
		unwait(r);
		H.active--;
	}
	r->retry_at = 0;
	http_free(r);
}

static void fired_done(struct http_req *r)
{
	H.fired--;
	http_free(r);
	free(r);
}

void http_fire(struct http_req *r)
{
	r->on_done = fired_done;
	r->max_attempts = 1;
	H.fired++;
	http_start(r);
}

void http_drain(int ms)
{
	int64_t end = time_mono_ms() + ms;
	while (H.fired > 0) {
		struct pollfd p[64];
		int64_t now = time_mono_ms(), deadline = -1;
		if (now >= end)
			return;
		int n = http_fds(p, 64, &deadline);
		int64_t wait = end - now;
		if (deadline >= 0 && deadline - now < wait)
			wait = deadline > now ? deadline - now : 0;
		if (poll(p, (nfds_t)n, (int)wait) < 0 && errno != EINTR)
			return;
		http_step(p, n, time_mono_ms());
	}
}

int http_active(void)
{
	return H.active;
}

/* The error message an API put in its answer, if any. */
static void api_message(const struct http_req *r, char *buf, size_t size)
{
	buf[0] = 0;
	if (!r->resplen)
		return;
	jv v = json_parse(r->resp, r->resplen);
	jv m = jv_invalid();
	if (jv_get_kind(v) == JV_KIND_ARRAY) /* Gemini may wrap it in a list */
		v = jv_array_get(v, 0);
	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		jv e = json_get(v, "error");
		if (jv_get_kind(e) == JV_KIND_OBJECT)
			m = json_get(e, "message");
		else if (jv_get_kind(e) == JV_KIND_STRING)
			m = jv_copy(e);
		jv_free(e);
		if (jv_get_kind(m) != JV_KIND_STRING) {
			jv_free(m);
			m = json_get(v, "detail");
		}
	}
	if (jv_get_kind(m) == JV_KIND_STRING) {
		snprintf(buf, size, ": %s", jv_string_value(m));
	} else {
		/* The start of the body, on one line. */
		size_t k = 0;
		buf[k++] = ':';
		buf[k++] = ' ';
		for (size_t i = 0; i < r->resplen && k < size - 1 && k < 120; i++)
			buf[k++] = (unsigned char)r->resp[i] < ' ' ? ' ' : r->resp[i];
		buf[k] = 0;
	}
	jv_free(m);
	jv_free(v);
}

/* Decides what the attempt that ended with CODE means: done, or retry. */
static void ended(struct http_req *r, CURLcode code)
{
	int retry = 0;
	char why[200];
	char to[200] = "?";
	char *loc = NULL;
	curl_api.easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->status >= 300 && r->status < 400 &&
	    curl_api.easy_getinfo(r->easy, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc)
		snprintf(to, sizeof to, "%s", loc);
	release_easy(r);
	if (r->kind) {
		/* set by on_write or on_data */
	} else if (code == CURLE_OK) {
		if (r->status >= 200 && r->status < 300)
			goto done;
		if (r->status >= 300 && r->status < 400) {
			r->kind = "redirect";
			snprintf(r->msg, sizeof r->msg, "HTTP %ld: redirected to %s, not followed",
			         r->status, to);
			goto done;
		}
		api_message(r, why, sizeof why);
		r->kind = r->status == 429 ? "rate_limited"
		          : r->status >= 500 ? "http_5xx"
		          : r->status >= 400 ? "http_4xx" : "bad_response";
		retry = r->status == 429 || r->status >= 500;
		snprintf(r->msg, sizeof r->msg, "HTTP %ld%s", r->status, why);
	} else if (code == CURLE_OPERATION_TIMEDOUT) {
		r->kind = "timeout";
		snprintf(r->msg, sizeof r->msg, "no answer within %d ms",
		         r->timeout_ms > 0 ? r->timeout_ms : HTTP_TIMEOUT_MS);
	} else {
		r->kind = "connection";
		retry = code != CURLE_COULDNT_RESOLVE_HOST && code != CURLE_URL_MALFORMAT &&
		        code != CURLE_UNSUPPORTED_PROTOCOL;
		if (r->delivered)
			snprintf(r->msg, sizeof r->msg, "the stream cut off after %zu bytes: %s",
			         r->delivered, curl_api.easy_strerror(code));
		else
			snprintf(r->msg, sizeof r->msg, "%s", curl_api.easy_strerror(code));
	}
	if (retry && !r->delivered && r->attempts < r->max_attempts) {
		int64_t d = H.backoff << (r->attempts - 1 < 16 ? r->attempts - 1 : 16);
		if (d > HTTP_BACKOFF_MAX)
			d = HTTP_BACKOFF_MAX;
		d = d / 2 + (d > 1 ? (int64_t)(jitter() % (uint64_t)(d / 2 + 1)) : 0);
		if (r->retry_after_ms > HTTP_RETRY_AFTER_MAX)
			goto done; /* not worth waiting for */
		if (r->retry_after_ms > d)
			d = r->retry_after_ms;
		if (r->deadline && time_mono_ms() + d >= r->deadline) {
			/* No time left for another attempt: the call's time is up. */
			char last[sizeof r->msg];
			snprintf(last, sizeof last, "%s", r->msg);
			r->kind = "timeout";
			snprintf(r->msg, sizeof r->msg, "no time left to retry: %.270s", last);
			goto done;
		}
		r->retry_at = time_mono_ms() + d;
		r->next = H.waiting;
		H.waiting = r;
		return;
	}
	if (retry && r->attempts > 1) {
		size_t k = strlen(r->msg);
		snprintf(r->msg + k, sizeof r->msg - k, " (after %d attempts)", r->attempts);
	}
done:
	finish(r);
}

int http_fds(struct pollfd *p, int max, int64_t *deadline)
{
	int n = H.nsocks < max ? H.nsocks : max;
	if (n)
		memcpy(p, H.socks, (size_t)n * sizeof *p);
	int64_t d = H.timer;
	for (struct http_req *r = H.waiting; r; r = r->next)
		if (d < 0 || r->retry_at < d)
			d = r->retry_at;
	*deadline = d;
	return n;
}

void http_step(struct pollfd *p, int n, int64_t now)
{
	int running;
	if (!H.m)
		return;
	for (int i = 0; i < n; i++) {
		if (!p[i].revents)
			continue;
		int f = (p[i].revents & POLLIN ? CURL_CSELECT_IN : 0) |
		        (p[i].revents & POLLOUT ? CURL_CSELECT_OUT : 0) |
		        (p[i].revents & (POLLERR | POLLHUP) ? CURL_CSELECT_ERR : 0);
		curl_api.multi_socket_action(H.m, p[i].fd, f, &running);
	}
	if (H.timer >= 0 && now >= H.timer) {
		H.timer = -1;
		curl_api.multi_socket_action(H.m, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	for (struct http_req **w = &H.waiting; *w;) {
		struct http_req *r = *w;
		if (r->retry_at <= now) {
			*w = r->next;
			r->retry_at = 0;
			attempt(r);
		} else {
			w = &r->next;
		}
	}
	CURLMsg *m;
	int left;
	while ((m = curl_api.multi_info_read(H.m, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct http_req *r;
		curl_api.easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		ended(r, m->data.result);
	}
}
