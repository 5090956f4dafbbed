/* dir: the bus directory: opening and closing it, topics, and the names
 * and files of subscribers; see fifodir.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/path.h"
#include "base/utf8.h"
#include "bus/bus.h"
#include "bus/fifodir.h"
#include "json/json.h"

int busi_fifo_name(const char *s)
{
	size_t n = strlen(s);
	return !strncmp(s, "sub.", 4) && strchr(s + 4, '.') && strchr(s + 4, '.') ==
	       strrchr(s, '.') && n < NAME_MAX_LEN;
}

/* "sub.PID.RAND[.suffix]" or ".tmp.PID.RAND[.suffix]": the PID. */
pid_t busi_name_pid(const char *s)
{
	const char *p = s[0] == '.' ? s + 5 : s + 4;
	return (pid_t)strtol(p, NULL, 10);
}

int busi_pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

int bus_check_topic(const char *t, size_t n)
{
	if (n == 0)
		return err_set("empty topic");
	if (n > 255)
		return err_set("topic longer than 255 bytes");
	if (memchr(t, 0, n))
		return err_set("NUL byte in topic");
	if (utf8_check(t, n) != n)
		return err_set("topic is not UTF-8");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c <= ' ' || c == 127)
			return err_set("white space or control character in topic '%.*s'",
			               (int)n, t);
	}
	return 0;
}

/* The parent of PATH must be the user's or root's, and one that others
 * can write must be sticky (/tmp): else its owner could swap the bus. */
static int check_parent(const char *path)
{
	char *p = strdup(path), *slash = p ? strrchr(p, '/') : NULL;
	if (!p)
		return err_errno("bus");
	if (slash == p)
		slash[1] = 0;
	else if (slash)
		*slash = 0;
	else
		strcpy(p, ".");
	struct stat st;
	int rc = 0;
	if (stat(p, &st) < 0)
		rc = err_errno(p);
	else if (st.st_uid != geteuid() && st.st_uid != 0)
		rc = err_set("%s: owned by user %u, not you: refusing to keep a bus in it", p,
		             (unsigned)st.st_uid);
	else if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))
		rc = err_set("%s: others can write it (mode %03o): refusing to keep a bus in it", p,
		             (unsigned)(st.st_mode & 0777));
	free(p);
	return rc;
}

/* The bus directory (open in b->dfd) must be ours and not writable by
 * others; a shared one may be another group member's, but sticky and not
 * writable by the world. */
static int check_dir(struct bus *b, const char *dir)
{
	struct stat st;
	if (fstat(b->dfd, &st) < 0)
		return err_errno(dir);
	if (!b->shared && st.st_uid != geteuid())
		return err_set("%s: owned by user %u, not you (use --shared for a group's bus)", dir,
		               (unsigned)st.st_uid);
	if (!b->shared && (st.st_mode & 022))
		return err_set("%s: others can write it (mode %03o): chmod 700 it, or use --shared",
		               dir, (unsigned)(st.st_mode & 0777));
	if (b->shared && ((st.st_mode & 002) || !(st.st_mode & S_ISVTX)))
		return err_set("%s: a shared bus must be sticky and not writable by the world"
		               " (mode %04o): chmod 3770 it", dir, (unsigned)(st.st_mode & 07777));
	return check_parent(dir);
}

int busi_open_entry(struct bus *b, const char *name, int flags, int type)
{
	int fd = openat(b->dfd, name, flags | O_NOFOLLOW | O_CLOEXEC, b->shared ? 0660 : 0600);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0 || (st.st_mode & S_IFMT) != (mode_t)type ||
	    (!b->shared && st.st_uid != geteuid())) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

int bus_open(struct bus **out, const char *dir, int flags)
{
	struct bus *b = calloc(1, sizeof *b);
	*out = NULL;
	if (!b)
		return err_errno("bus");
	b->dfd = b->watch = -1;
	b->shared = (flags & BUS_SHARED) != 0;
	if (!(b->dir = strdup(dir))) {
		free(b);
		return err_errno("bus");
	}
	/* Shared: setgid (fifos get the group) and sticky (nobody removes
	 * another's fifo), as s6's fifodir; private: the owner's only. */
	int mode = b->shared ? 03770 : 0700;
	if (path_mkparents(dir, 0700) < 0)
		goto fail;
	if (mkdir(dir, (mode_t)mode) == 0)
		chmod(dir, (mode_t)mode); /* past the umask */
	else if (errno != EEXIST) {
		err_errno(dir);
		goto fail;
	}
	if ((b->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		err_errno(dir);
		goto fail;
	}
	if (check_dir(b, dir) < 0)
		goto fail;
	if (!(b->mem = open_memstream(&b->membuf, &b->memsize))) {
		err_errno("bus");
		goto fail;
	}
	/* Without the counter (a read-only bus, say) every publish looks. */
	int gfd = busi_open_entry(b, ".gen", O_RDWR | O_CREAT, S_IFREG);
	if (gfd >= 0) {
		struct stat st;
		if (fstat(gfd, &st) == 0 && (st.st_size >= 64 || ftruncate(gfd, 64) == 0)) {
			void *m = mmap(NULL, 64, PROT_READ | PROT_WRITE, MAP_SHARED, gfd, 0);
			if (m != MAP_FAILED)
				b->gen = m;
		}
		close(gfd);
	}
	*out = b;
	return 0;
fail:
	bus_close(b);
	return -1;
}

void bus_close(struct bus *b)
{
	if (!b)
		return;
	bus_flush(b);
	busi_peers_free(b);
	if (b->gen)
		munmap(b->gen, 64);
	if (b->mem)
		fclose(b->mem);
	free(b->membuf);
	free(b->line);
	if (b->watch >= 0)
		close(b->watch);
	if (b->dfd >= 0)
		close(b->dfd);
	free(b->dir);
	free(b);
}



/* The info of subscriber NAME (its JSON object), or jv_invalid(). */
jv busi_read_info(struct bus *b, const char *name)
{
	/* Most infos are short; a subscriber with many patterns (an agent
	 * manager: one per agent) has a long one, read whole up to 1 MiB. */
	char path[NAME_MAX_LEN + 8], small[8192], *buf = small;
	snprintf(path, sizeof path, "%s.info", name);
	int fd = busi_open_entry(b, path, O_RDONLY, S_IFREG);
	if (fd < 0)
		return jv_invalid();
	struct stat st;
	size_t cap = sizeof small;
	if (fstat(fd, &st) == 0 && st.st_size >= (off_t)sizeof small && st.st_size <= (1 << 20)) {
		cap = (size_t)st.st_size + 1;
		if (!(buf = malloc(cap))) {
			close(fd);
			return jv_invalid();
		}
	}
	size_t k = 0;
	ssize_t r;
	while (k < cap - 1 && (r = read(fd, buf + k, cap - 1 - k)) > 0)
		k += (size_t)r;
	close(fd);
	jv info = k ? json_parse(buf, k) : jv_invalid();
	if (buf != small)
		free(buf);
	if (jv_get_kind(info) != JV_KIND_OBJECT) {
		jv_free(info);
		return jv_invalid();
	}
	return info;
}

/* Removes subscriber NAME's fifo and files. */
void busi_unlink_sub(int dfd, const char *name)
{
	char path[NAME_MAX_LEN + 8];
	unlinkat(dfd, name, 0);
	snprintf(path, sizeof path, "%s.info", name);
	unlinkat(dfd, path, 0);
	snprintf(path, sizeof path, "%s.drops", name);
	unlinkat(dfd, path, 0);
}

int busi_each_entry(struct bus *b, void (*fn)(struct bus *b, const char *name, void *ctx),
                      void *ctx)
{
	int fd = dup(b->dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return err_errno(b->dir);
	}
	rewinddir(d);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	/* Collect first: FN may unlink entries. */
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, "..")))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **v = realloc(names, cap * sizeof *v);
			if (!v)
				break;
			names = v;
		}
		if (!(names[n] = strdup(e->d_name)))
			break;
		n++;
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		fn(b, names[i], ctx);
		free(names[i]);
	}
	free(names);
	return 0;
}
/* Tells publishers that subscribers came or went. */
void busi_bump(struct bus *b)
{
	if (b->gen)
		__atomic_add_fetch(b->gen, 1, __ATOMIC_SEQ_CST);
}

