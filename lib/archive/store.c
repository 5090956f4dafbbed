/* store: the archive directory; see store.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/store.h"
#include "base/err.h"
#include "base/path.h"

/* Removes the temporary files of processes that are gone. */
static void sweep(struct store *s)
{
	int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	for (struct dirent *e; (e = readdir(d));) {
		long pid;
		if (sscanf(e->d_name, ".tmp.%ld.", &pid) == 1 && pid > 0 && pid != getpid() &&
		    kill((pid_t)pid, 0) < 0 && errno == ESRCH)
			unlinkat(s->dirfd, e->d_name, 0);
	}
	closedir(d);
}

int store_open(struct store *s, const char *dir)
{
	memset(s, 0, sizeof *s);
	s->dirfd = -1;
	for (int i = 0; i < 256; i++)
		s->shard[i] = -1;
	if (!*dir)
		return err_set("archive directory: an empty path");
	if (path_mkparents(dir, 0777) < 0 || (mkdir(dir, 0777) < 0 && errno != EEXIST))
		return err_set("archive directory %s: %s", dir, err_msg());
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	if (s->dirfd < 0 || fstat(s->dirfd, &st) < 0) {
		err_errno(dir);
		store_close(s);
		return -1;
	}
	if ((st.st_uid != getuid() && st.st_uid != 0) || (st.st_mode & S_IWOTH)) {
		store_close(s);
		return err_set("archive directory %s: others can write to it: refused", dir);
	}
	s->dir = realpath(dir, NULL);
	if (!s->dir) {
		err_errno(dir);
		store_close(s);
		return -1;
	}
	sweep(s);
	return 0;
}

void store_close(struct store *s)
{
	for (int i = 0; i < 256; i++) {
		if (s->shard[i] >= 0)
			close(s->shard[i]);
		s->shard[i] = -1;
	}
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->dirfd = -1;
	free(s->dir);
	s->dir = NULL;
}

void store_temp_name(struct store *s, char name[static 64])
{
	snprintf(name, 64, ".tmp.%ld.%lu", (long)getpid(), s->ntemp + 1);
}

int store_temp(struct store *s, char name[static 64])
{
	snprintf(name, 64, ".tmp.%ld.%lu", (long)getpid(), ++s->ntemp);
	int fd = openat(s->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd < 0)
		return err_set("%s/%s: %s", s->dir, name, strerror(errno));
	return fd;
}

void store_discard(struct store *s, const char *name)
{
	if (name && *name)
		unlinkat(s->dirfd, name, 0);
}

char *store_path(const struct store *s, const char *rel)
{
	char *p;
	if (asprintf(&p, "%s/%s", s->dir, rel) < 0)
		return NULL;
	return p;
}

void store_name(const char *sha, const char *ext, char rel[static 96])
{
	snprintf(rel, 96, "%.2s/%s.%s", sha, sha, ext);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The shard of REL ("ab"), opened once and kept; its file name in *BASE;
 * -1 if it is not there (and not CREATE) or cannot be. */
static int shard(struct store *s, const char *rel, const char **base, int create)
{
	char dir[3] = { rel[0], rel[1], 0 };
	int i = hexval(rel[0]) << 4 | hexval(rel[1]);
	*base = rel + 3;
	if (hexval(rel[0]) < 0 || hexval(rel[1]) < 0 || rel[2] != '/')
		return err_set("%s: not a stored file's name", rel);
	if (s->shard[i] >= 0)
		return s->shard[i];
	if (create && mkdirat(s->dirfd, dir, 0777) < 0 && errno != EEXIST)
		return err_set("%s/%s: %s", s->dir, dir, strerror(errno));
	int fd = openat(s->dirfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
		return err_set("%s/%s: not a directory (a symlink?): refused", s->dir, dir);
	if (fd < 0)
		return err_set("%s/%s: %s", s->dir, dir, strerror(errno));
	return s->shard[i] = fd;
}

int store_commit(struct store *s, const char *tmp, const char *rel)
{
	const char *base;
	int fd = shard(s, rel, &base, 1);
	if (fd < 0)
		return -1;
	int rc = renameat(s->dirfd, tmp, fd, base);
	if (rc < 0)
		err_set("%s/%s: %s", s->dir, rel, strerror(errno));
	return rc;
}

int store_has(struct store *s, const char *rel, off_t bytes)
{
	const char *base;
	struct stat st;
	int fd = shard(s, rel, &base, 0);
	if (fd < 0)
		return 0;
	return fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	       st.st_size == bytes;
}

int store_read(struct store *s, const char *rel)
{
	const char *base;
	struct stat st;
	int d = shard(s, rel, &base, 0);
	if (d < 0)
		return -1;
	int fd = openat(d, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		err_set("%s/%s: %s", s->dir, rel, strerror(errno));
	else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		fd = err_set("%s/%s: not a regular file", s->dir, rel);
	}
	return fd;
}
