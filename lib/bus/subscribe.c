/* subscribe: a subscriber's fifo, made under a hidden name and renamed
 * into place, read in whole lines; and events sent by reference, resolved
 * from the state file; see bus.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/timeutil.h"
#include "bus/bus.h"
#include "bus/fifodir.h"
#include "json/json.h"
#include "state/db.h"

int bus_resolve(struct db *db, const char *line, size_t len, char **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	/* Cheap test first: a reference event has "ref" and no "data". */
	if (!memmem(line, len, "\"ref\":", 6))
		return 0;
	jv ev = json_parse(line, len);
	const char *ref = json_str(ev, "ref", NULL);
	jv data = json_get(ev, "data");
	int rc = 0;
	if (ref && !jv_is_valid(data)) {
		if (!db)
			rc = BUS_NEED_DB;
		else
			rc = (*out = db_payload_get(db, ref, n)) ? 1 : -1;
	}
	jv_free(data);
	jv_free(ev);
	return rc;
}

int bus_subscribe(struct bus *b, const char *const patterns[], int n, struct bus_sub **out)
{
	*out = NULL;
	if (n <= 0)
		return err_set("no pattern to subscribe to");
	for (int i = 0; i < n; i++)
		if (bus_check_topic(patterns[i], strlen(patterns[i])) < 0)
			return -1;
	struct bus_sub *s = calloc(1, sizeof *s);
	if (!s)
		return err_errno("subscribe");
	s->b = b;
	s->rfd = s->wfd = -1;
	unsigned rnd = 0;
	if (getrandom(&rnd, sizeof rnd, 0) < 0)
		rnd = (unsigned)time_now_ms();
	char tmp[NAME_MAX_LEN], tmpinfo[NAME_MAX_LEN + 8], info[NAME_MAX_LEN + 8];
	snprintf(s->name, sizeof s->name, "sub.%ld.%08x", (long)getpid(), rnd);
	snprintf(tmp, sizeof tmp, ".tmp.%ld.%08x", (long)getpid(), rnd);
	snprintf(tmpinfo, sizeof tmpinfo, "%s.info", tmp);
	snprintf(info, sizeof info, "%s.info", s->name);
	int mode = b->shared ? 0660 : 0600;

	if (mkfifoat(b->dfd, tmp, (mode_t)mode) < 0) {
		err_errno(b->dir);
		goto fail;
	}
	fchmodat(b->dfd, tmp, (mode_t)mode, 0);
	if ((s->rfd = busi_open_entry(b, tmp, O_RDONLY | O_NONBLOCK, S_IFIFO)) < 0 ||
	    (s->wfd = busi_open_entry(b, tmp, O_WRONLY | O_NONBLOCK, S_IFIFO)) < 0) {
		err_errno("subscribe");
		goto fail;
	}
	for (int size = BUS_PIPE_SIZE; size >= 65536; size /= 2)
		if (fcntl(s->rfd, F_SETPIPE_SZ, size) >= 0)
			break;

	jv pats = jv_array();
	for (int i = 0; i < n; i++)
		pats = jv_array_append(pats, jv_string(patterns[i]));
	char since[32];
	jv o = json_set(json_set(json_set(jv_object(), "pid", jv_number(getpid())), "patterns",
	                         pats),
	                "since", jv_string(time_rfc3339(time_now_ms(), since)));
	jv text = jv_dump_string(o, 0);
	int fd = openat(b->dfd, tmpinfo, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	int ok = fd >= 0 && fchmod(fd, (mode_t)mode) == 0 &&
	         write(fd, jv_string_value(text), (size_t)jv_string_length_bytes(jv_copy(text))) ==
	                 jv_string_length_bytes(jv_copy(text)) &&
	         write(fd, "\n", 1) == 1;
	jv_free(text);
	if (fd >= 0)
		close(fd);
	if (!ok || renameat(b->dfd, tmpinfo, b->dfd, info) < 0 ||
	    renameat(b->dfd, tmp, b->dfd, s->name) < 0) {
		err_errno("subscribe");
		unlinkat(b->dfd, tmpinfo, 0);
		unlinkat(b->dfd, info, 0);
		goto fail;
	}
	busi_bump(b);
	*out = s;
	return 0;
fail:
	unlinkat(b->dfd, tmp, 0);
	if (s->rfd >= 0)
		close(s->rfd);
	if (s->wfd >= 0)
		close(s->wfd);
	free(s);
	return -1;
}

int bus_sub_fd(const struct bus_sub *s)
{
	return s->rfd;
}

int bus_sub_read(struct bus_sub *s, int (*fn)(const char *line, size_t n, void *ctx), void *ctx)
{
	for (;;) {
		/* First the lines already here (left by an FN that stopped). */
		size_t start = 0;
		char *nl;
		while (start < s->len && (nl = memchr(s->buf + start, '\n', s->len - start))) {
			size_t n = (size_t)(nl - (s->buf + start));
			int rc = fn(s->buf + start, n, ctx);
			start += n + 1;
			if (rc) {
				memmove(s->buf, s->buf + start, s->len - start);
				s->len -= start;
				return rc;
			}
		}
		if (start) {
			memmove(s->buf, s->buf + start, s->len - start);
			s->len -= start;
		}
		if (s->cap - s->len < 65536) {
			size_t cap = s->cap ? s->cap * 2 : 131072;
			char *nb = realloc(s->buf, cap);
			if (!nb)
				return err_errno("bus");
			s->buf = nb;
			s->cap = cap;
		}
		ssize_t k = read(s->rfd, s->buf + s->len, s->cap - s->len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			return 0;
		if (k <= 0) /* cannot happen while we hold a write end */
			return k < 0 ? err_errno("bus") : 0;
		s->len += (size_t)k;
	}
}

void bus_unsubscribe(struct bus_sub *s)
{
	if (!s)
		return;
	busi_unlink_sub(s->b->dfd, s->name);
	busi_bump(s->b);
	close(s->rfd);
	close(s->wfd);
	free(s->buf);
	free(s);
}

