/* admin: listing the subscribers of a bus and sweeping the dead; see
 * bus.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus/bus.h"
#include "bus/fifodir.h"
#include "json/json.h"

static int has_reader(struct bus *b, const char *name)
{
	int fd = busi_open_entry(b, name, O_WRONLY | O_NONBLOCK, S_IFIFO);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == ENXIO ? 0 : -1;
}

struct list_ctx {
	int (*fn)(const struct bus_peer_info *p, void *ctx);
	void *ctx;
	int stop;
};

static void list_one(struct bus *b, const char *name, void *arg)
{
	struct list_ctx *lc = arg;
	if (lc->stop || !busi_fifo_name(name))
		return;
	char path[NAME_MAX_LEN + 8];
	struct stat st;
	jv info = busi_read_info(b, name);
	struct bus_peer_info p = { .name = name, .pid = busi_name_pid(name), .drops = 0, .queued = -1 };
	p.patterns = json_get(info, "patterns");
	if (!jv_is_valid(p.patterns)) {
		jv_free(p.patterns);
		p.patterns = jv_array();
	}
	snprintf(path, sizeof path, "%s.drops", name);
	if (fstatat(b->dfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
		p.drops = (long)st.st_size;
	p.alive = has_reader(b, name) == 1;
	int fd = busi_open_entry(b, name, O_RDONLY | O_NONBLOCK, S_IFIFO);
	int q;
	if (fd >= 0 && ioctl(fd, FIONREAD, &q) == 0)
		p.queued = q;
	if (fd >= 0)
		close(fd);
	lc->stop = lc->fn(&p, lc->ctx) != 0;
	jv_free(p.patterns);
	jv_free(info);
}

int bus_list(struct bus *b, int (*fn)(const struct bus_peer_info *p, void *ctx), void *ctx)
{
	struct list_ctx lc = { fn, ctx, 0 };
	return busi_each_entry(b, list_one, &lc);
}

static void clean_one(struct bus *b, const char *name, void *arg)
{
	int *removed = arg;
	char fifo[NAME_MAX_LEN];
	struct stat st;
	if (busi_fifo_name(name)) {
		if (has_reader(b, name) == 0) {
			busi_unlink_sub(b->dfd, name);
			++*removed;
		}
		return;
	}
	if (!strncmp(name, ".tmp.", 5)) { /* half-made by a process now dead */
		if (!busi_pid_alive(busi_name_pid(name)))
			unlinkat(b->dfd, name, 0);
		return;
	}
	if (strncmp(name, "sub.", 4))
		return;
	/* An .info or .drops without its fifo, its owner dead. */
	snprintf(fifo, sizeof fifo, "%s", name);
	char *dot = strrchr(fifo, '.');
	if (dot)
		*dot = 0;
	if (fstatat(b->dfd, fifo, &st, AT_SYMLINK_NOFOLLOW) < 0 && !busi_pid_alive(busi_name_pid(name)))
		unlinkat(b->dfd, name, 0);
}

int bus_clean(struct bus *b)
{
	int removed = 0;
	if (busi_each_entry(b, clean_one, &removed) < 0)
		return -1;
	return removed;
}
