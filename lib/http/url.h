/* url: the few things panic needs to know about an address before it
 * sends anything there (DESIGN.md §2, Secrets): only http and https, the
 * origin a key belongs to, whether a host is this machine, and a base URL
 * joined to a path with the base's query kept.
 */
#ifndef PANIC_HTTP_URL_H
#define PANIC_HTTP_URL_H

/* 0 if URL is an absolute http:// or https:// address with a host; else
 * -1 with err_msg() saying why (an empty string, file://, gopher://...). */
int url_check(const char *url);
/* 1 if URL is https. */
int url_is_https(const char *url);
/* 1 if URL's host is this machine: localhost, 127.0.0.0/8 or [::1]. */
int url_is_loopback(const char *url);
/* 1 if URL is at BASE's origin (scheme, host and port) or at a host under
 * BASE's host (api.example.com under example.com... and
 * streaming.api.replicate.com under api.replicate.com). */
int url_same_origin(const char *url, const char *base);
/* BASE (trailing slashes dropped) with PATH put before BASE's query and
 * fragment, which are kept: ("http://h/v1?v=2", "/chat") is
 * "http://h/v1/chat?v=2". A malloc'd string, or NULL. */
char *url_join(const char *base, const char *path);

#endif
