/* path: XDG locations; see path.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/path.h"

static char *join(const char *a, const char *b)
{
	char *p;
	if (asprintf(&p, "%s%s", a, b) < 0) {
		err_errno("path");
		return NULL;
	}
	return p;
}

static char *xdg(const char *var, const char *home_rel, const char *tail)
{
	const char *v = getenv(var);
	if (v && *v == '/') {
		char *base = join(v, "/panic/");
		char *p = base ? join(base, tail) : NULL;
		free(base);
		return p;
	}
	const char *home = getenv("HOME");
	if (!home || !*home) {
		err_set("neither %s nor HOME is set", var);
		return NULL;
	}
	char *p;
	if (asprintf(&p, "%s/%s/panic/%s", home, home_rel, tail) < 0) {
		err_errno("path");
		return NULL;
	}
	return p;
}

char *path_db(const char *opt)
{
	const char *env = getenv("PANIC_DB");
	if (opt || (env && *env))
		return join(opt ? opt : env, "");
	return xdg("XDG_STATE_HOME", ".local/state", "panic.db");
}

char *path_bus(const char *opt)
{
	const char *env = getenv("PANIC_BUS");
	if (opt || (env && *env))
		return join(opt ? opt : env, "");
	const char *run = getenv("XDG_RUNTIME_DIR");
	char user[64];
	if (!run || *run != '/') {
		/* cron and system services have no XDG_RUNTIME_DIR: the login
		 * session's runtime directory, if the user has one (while logged
		 * in, or lingering for user units), so they meet on one bus. */
		struct stat st;
		snprintf(user, sizeof user, "/run/user/%u", (unsigned)getuid());
		int mine = lstat(user, &st) == 0 && S_ISDIR(st.st_mode) &&
		           st.st_uid == getuid() && (st.st_mode & 077) == 0;
		run = mine ? user : "/tmp";
	}
	char *p;
	if (asprintf(&p, "%s/panic-%u/bus", run, (unsigned)getuid()) < 0) {
		err_errno("path");
		return NULL;
	}
	return p;
}

char *path_archive(const char *opt)
{
	const char *env = getenv("PANIC_ARCHIVE");
	if (opt || (env && *env))
		return join(opt ? opt : env, "");
	return xdg("XDG_DATA_HOME", ".local/share", "archive");
}

char *path_config(const char *name)
{
	return xdg("XDG_CONFIG_HOME", ".config", name);
}

int path_mkparents(const char *path, int mode)
{
	char *p = join(path, "");
	if (!p)
		return -1;
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
			err_errno(p);
			free(p);
			return -1;
		}
		*s = '/';
	}
	free(p);
	return 0;
}
