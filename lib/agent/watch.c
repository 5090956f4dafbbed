/* watch: watched directories, one inotify descriptor for the runner; see
 * runi.h.
 *
 * A directory is watched once however many agents watch it (references
 * counted). A file closed after writing (IN_CLOSE_WRITE) or moved in
 * (IN_MOVED_TO) is handed to every running unit that watches the
 * directory, which matches its pattern. A directory that is deleted or
 * moved away is looked for every WATCH_RETRY_MS; when it is back, it is
 * watched again and the files in it that are newer than its loss are
 * handed on too, so none written in between is missed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/runi.h"
#include "base/err.h"
#include "base/timeutil.h"

#define WATCH_RETRY_MS 250
#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

/* Hands the file NAME of watch I to the units that watch it. */
static void arrived(struct runner *r, int i, const char *name, const char *how)
{
	for (int k = 0; k < r->nu; k++)
		if (r->u[k]->state != U_STOPPED)
			unit_watched(r->u[k], i, r->w.w[i].dir, name, how);
}

/* Files of watch I modified at or after SINCE (wall ms): they came while
 * the directory was away. */
static void scan(struct runner *r, int i, int64_t since)
{
	DIR *d = opendir(r->w.w[i].dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		struct stat st;
		if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		int64_t m = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
		if (m >= since)
			arrived(r, i, e->d_name, "found");
	}
	closedir(d);
}

/* Tries to watch W: 0 (watched, or missing: looked for later), or -1. */
static int attach(struct runner *r, struct watch *w)
{
	w->wd = inotify_add_watch(r->w.fd, w->dir, WATCH_MASK);
	if (w->wd >= 0)
		return 0;
	if (errno == ENOENT) {
		w->retry = time_mono_ms() + WATCH_RETRY_MS;
		return 0;
	}
	if (errno == ENOTDIR)
		return err_set("watch:%s: not a directory", w->dir);
	return err_set("watch:%s: %s", w->dir, strerror(errno));
}

int watch_add(struct runner *r, const char *dir)
{
	if (r->w.fd < 0 && (r->w.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
		return err_errno("inotify");
	int free_slot = -1;
	for (int i = 0; i < r->w.n; i++) {
		if (r->w.w[i].refs && !strcmp(r->w.w[i].dir, dir)) {
			r->w.w[i].refs++;
			return i;
		}
		if (!r->w.w[i].refs && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0) {
		struct watch *v = realloc(r->w.w, (size_t)(r->w.n + 1) * sizeof *v);
		if (!v)
			return err_errno("watch");
		r->w.w = v;
		free_slot = r->w.n++;
	}
	struct watch *w = &r->w.w[free_slot];
	memset(w, 0, sizeof *w);
	w->wd = -1;
	w->lost = time_now_ms();
	if (!(w->dir = strdup(dir)))
		return err_errno("watch");
	if (attach(r, w) < 0) {
		free(w->dir);
		w->dir = NULL;
		return -1;
	}
	w->refs = 1;
	return free_slot;
}

void watch_drop(struct runner *r, int i)
{
	if (i < 0 || i >= r->w.n || !r->w.w[i].refs)
		return;
	struct watch *w = &r->w.w[i];
	if (--w->refs)
		return;
	if (w->wd >= 0) {
		/* Another entry may share the descriptor (the same directory by
		 * two paths): remove it only if none does. */
		int shared = 0;
		for (int k = 0; k < r->w.n; k++)
			shared |= k != i && r->w.w[k].refs && r->w.w[k].wd == w->wd;
		if (!shared)
			inotify_rm_watch(r->w.fd, w->wd);
	}
	free(w->dir);
	w->dir = NULL;
	w->wd = -1;
}

void watch_read(struct runner *r)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t k;
	while ((k = read(r->w.fd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + k;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			p += sizeof *ev + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				run_warn(r, "inotify: events were lost (too many at once)");
				continue;
			}
			for (int i = 0; i < r->w.n; i++) {
				struct watch *w = &r->w.w[i];
				if (!w->refs || w->wd != ev->wd)
					continue;
				if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
					if (ev->mask & IN_MOVE_SELF)
						inotify_rm_watch(r->w.fd, w->wd);
					w->wd = -1;
					w->lost = time_now_ms();
					w->retry = time_mono_ms() + WATCH_RETRY_MS;
				} else if (ev->len && (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO))) {
					arrived(r, i, ev->name, ev->mask & IN_MOVED_TO ? "moved_in" : "closed");
				}
			}
		}
	}
}

void watch_work(struct runner *r, int64_t *ms)
{
	int64_t now = time_mono_ms();
	for (int i = 0; i < r->w.n; i++) {
		struct watch *w = &r->w.w[i];
		if (!w->refs || w->wd >= 0)
			continue;
		if (now >= w->retry) {
			if (attach(r, w) < 0) {
				w->retry = now + WATCH_RETRY_MS;
				run_warn(r, "%s", err_msg());
			} else if (w->wd >= 0) {
				scan(r, i, w->lost);
				continue;
			}
		}
		int64_t left = w->retry - now;
		if (left < *ms || *ms < 0)
			*ms = left < 0 ? 0 : left;
	}
}
