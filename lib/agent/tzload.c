/* tzload: the one part of tz that reads files: a zone by name from
 * $TZDIR or /usr/share/zoneinfo, or the local zone ($TZ, else
 * /etc/localtime); see tz.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/tz.h"
#include "base/err.h"

#define TZ_FILE_MAX (1 << 20)

/* Reads the zone file PATH into Z: 0, -1 with err_msg(), or 1 if there
 * is no such file. */
static int load_file(struct tz *z, const char *name, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 1 : err_errno(path);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > TZ_FILE_MAX) {
		close(fd);
		return err_set("%s: not a zone file", path);
	}
	unsigned char *buf = malloc((size_t)st.st_size + 1);
	ssize_t k = buf ? read(fd, buf, (size_t)st.st_size) : -1;
	close(fd);
	int rc = k == st.st_size ? tz_parse_tzif(z, name, buf, (size_t)k)
	                         : err_set("%s: cannot read", path);
	free(buf);
	return rc;
}

static int utc_name(const char *s)
{
	return !strcmp(s, "UTC") || !strcmp(s, "Z") || !strcmp(s, "UTC0") ||
	       !strcmp(s, "Etc/UTC") || !strcmp(s, "GMT") || !strcmp(s, "UCT");
}

int tz_load(struct tz *z, const char *name)
{
	memset(z, 0, sizeof *z);
	int local = !name || !*name;
	if (local) {
		/* $TZ as glibc reads it: ":NAME", a path, a name or a rule. */
		name = getenv("TZ");
		if (!name)
			return load_file(z, "localtime", "/etc/localtime") == 0
			               ? 0
			               : (tz_fixed(z, "UTC", 0), 0);
		if (*name == ':')
			name++;
		if (!*name) {
			tz_fixed(z, "UTC", 0);
			return 0;
		}
		if (*name == '/') {
			int rc = load_file(z, name, name);
			return rc == 1 ? err_set("TZ=%s: no such zone file", name) : rc;
		}
	}
	if (utc_name(name)) {
		tz_fixed(z, "UTC", 0);
		return 0;
	}
	if (tz_name_ok(name)) {
		const char *dir = getenv("TZDIR");
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
		int rc = load_file(z, name, path);
		if (rc <= 0)
			return rc;
	}
	/* Not a zone file: a POSIX TZ string, or nothing. */
	if (tz_parse_posix(z, name) == 0)
		return 0;
	return err_set("%s'%s': no such time zone (see /usr/share/zoneinfo)", local ? "TZ=" : "",
	               name);
}
