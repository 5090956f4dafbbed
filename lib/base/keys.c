/* keys: API keys from the environment or the 0600 keys file; see keys.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/keys.h"
#include "base/path.h"

static struct {
	int loaded;
	char *text;     /* the file, its lines cut at '\n' */
	size_t len;
	char why[300];  /* why the file was refused, or "" */
	char *path;
} K;

static void load(void)
{
	K.loaded = 1;
	const char *env = getenv("PANIC_KEYS");
	K.path = env && *env ? strdup(env) : path_config("keys");
	if (!K.path)
		return;
	FILE *f = fopen(K.path, "re");
	if (!f)
		return; /* no file: keys come from the environment only */
	struct stat st;
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(K.why, sizeof K.why, "%s: not a regular file", K.path);
	} else if (st.st_uid != geteuid()) {
		snprintf(K.why, sizeof K.why, "%s: owned by user %u, not you (%u)", K.path,
		         (unsigned)st.st_uid, (unsigned)geteuid());
	} else if (st.st_mode & 077) {
		snprintf(K.why, sizeof K.why,
		         "%s: readable by others (mode %03o); run chmod 600 on it", K.path,
		         (unsigned)(st.st_mode & 0777));
	} else {
		size_t cap = (size_t)st.st_size + 1;
		K.text = malloc(cap);
		if (K.text) {
			K.len = fread(K.text, 1, cap - 1, f);
			K.text[K.len] = 0;
			for (size_t i = 0; i < K.len; i++)
				if (K.text[i] == '\n' || K.text[i] == '\r')
					K.text[i] = 0;
		}
	}
	fclose(f);
}

/* The value of NAME in the file, or NULL. */
static const char *lookup(const char *name)
{
	size_t n = strlen(name);
	for (char *l = K.text; l && l < K.text + K.len; l += strlen(l) + 1) {
		while (*l == ' ' || *l == '\t')
			l++;
		if (!strncmp(l, "export ", 7))
			l += 7;
		if (strncmp(l, name, n) || l[n] != '=')
			continue;
		char *v = l + n + 1;
		size_t k = strlen(v);
		while (k && (v[k - 1] == ' ' || v[k - 1] == '\t'))
			v[--k] = 0;
		if (k >= 2 && (v[0] == '"' || v[0] == '\'') && v[k - 1] == v[0]) {
			v[k - 1] = 0;
			v++;
		}
		return *v ? v : NULL;
	}
	return NULL;
}

void keys_reset(void)
{
	free(K.text);
	free(K.path);
	memset(&K, 0, sizeof K);
}

int keys_refused(void)
{
	if (!K.loaded)
		load();
	if (*K.why)
		err_set("%s", K.why);
	return *K.why != 0;
}

const char *keys_get(const char *name)
{
	const char *v = getenv(name);
	if (v && *v)
		return v;
	if (!K.loaded)
		load();
	if (*K.why) {
		err_set("%s", K.why);
		return NULL;
	}
	if ((v = lookup(name)))
		return v;
	err_set("no key: set %s or put %s=... in %s", name, name,
	        K.path ? K.path : "~/.config/panic/keys");
	return NULL;
}
