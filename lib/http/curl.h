/* curl: libcurl's functions, loaded with dlopen() on the first request.
 *
 * Private to lib/http. Linked, libcurl brings some thirty shared libraries
 * (TLS, HTTP/2, LDAP, SSH...) whose loading would make every panic-invoke
 * and panic-loop start five times slower, HTTP or not; loaded here, only a
 * program that makes a request pays for it.
 */
#ifndef PANIC_HTTP_CURL_H
#define PANIC_HTTP_CURL_H

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

/* libcurl's functions, from dlopen(). */
struct curl_fns {
	CURLcode (*global_init)(long);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_socket_action)(CURLM *, curl_socket_t, int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_reset)(CURL *);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	time_t (*getdate)(const char *, const time_t *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
};
extern struct curl_fns curl_api;

/* Loads libcurl into curl_api; 0, or -1 with the reason in *WHY. */
int curl_load(const char **why);

#endif
