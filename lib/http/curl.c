/* curl: libcurl loaded at run time; see curl.h. */
#include <dlfcn.h>
#include <stdio.h>

#include "http/curl.h"

struct curl_fns curl_api;

int curl_load(const char **why)
{
	static int state; /* 0 not tried, 1 loaded, -1 failed */
	static char reason[200];
	if (state) {
		*why = reason;
		return state > 0 ? 0 : -1;
	}
	state = -1;
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(reason, sizeof reason, "cannot load libcurl: %s", dlerror());
		*why = reason;
		return -1;
	}
	static const char *const names[] = {
		"curl_global_init",
		"curl_multi_init",
		"curl_multi_setopt",
		"curl_multi_add_handle",
		"curl_multi_remove_handle",
		"curl_multi_socket_action",
		"curl_multi_info_read",
		"curl_easy_init",
		"curl_easy_setopt",
		"curl_easy_getinfo",
		"curl_easy_reset",
		"curl_easy_cleanup",
		"curl_easy_strerror",
		"curl_getdate",
		"curl_slist_append",
		"curl_slist_free_all",
	};
	void **slot = (void **)&curl_api;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		if (!(slot[i] = dlsym(h, names[i]))) {
			snprintf(reason, sizeof reason, "libcurl has no %s", names[i]);
			*why = reason;
			return -1;
		}
	}
	state = 1;
	return 0;
}
