/* locks: named locks between processes, released when the holder exits
 * however it exits, each with a note others may read; see db.h.
 *
 * A lock is a file beside the state file, held with flock(2); its content
 * is the holder's note (one JSON line). The kernel drops the lock when the
 * holder dies, however it dies. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/err.h"
#include "json/json.h"
#include "state/db.h"
#include "state/sqlite.h"

struct db_lock {
	int fd;
};

static char *lock_path(struct db *db, const char *name)
{
	char *p;
	if (asprintf(&p, "%s-lock-%s", db->path, name) < 0)
		return NULL;
	return p;
}

int db_lock(struct db *db, const char *name, struct db_lock **out)
{
	*out = NULL;
	char *path = lock_path(db, name);
	if (!path)
		return err_errno("lock");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(path);
	if (fd < 0)
		return err_errno("lock");
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		char buf[DB_NOTE_MAX] = "";
		ssize_t k = pread(fd, buf, sizeof buf, 0);
		close(fd);
		jv note = jv_parse_sized(buf, k > 0 ? (int)k : 0);
		jv pid = json_get(note, "pid");
		int rc = jv_get_kind(pid) == JV_KIND_NUMBER
		                 ? err_set("held by process %.0f", jv_number_value(pid))
		                 : err_set("held by another process");
		jv_free(pid);
		jv_free(note);
		return rc;
	}
	if (!(*out = malloc(sizeof **out))) {
		close(fd);
		return err_errno("lock");
	}
	(*out)->fd = fd;
	return 0;
}

int db_lock_note(struct db_lock *l, jv note)
{
	/* Padded with spaces to a fixed size: rewritten in place, never
	 * truncated, so a reader sees the old note or the new one. */
	char buf[DB_NOTE_MAX];
	jv t = jv_dump_string(jv_copy(note), 0);
	size_t n = (size_t)jv_string_length_bytes(jv_copy(t));
	if (n >= sizeof buf) {
		jv_free(t);
		return err_set("lock note: over %d bytes", DB_NOTE_MAX);
	}
	memcpy(buf, jv_string_value(t), n);
	memset(buf + n, ' ', sizeof buf - n - 1);
	buf[sizeof buf - 1] = '\n';
	jv_free(t);
	if (pwrite(l->fd, buf, sizeof buf, 0) != (ssize_t)sizeof buf)
		return err_errno("lock note");
	return 0;
}

void db_unlock(struct db_lock *l)
{
	if (!l)
		return;
	ftruncate(l->fd, 0);
	close(l->fd);
	free(l);
}

jv db_lock_peek(struct db *db, const char *name)
{
	char *path = lock_path(db, name);
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	free(path);
	if (fd < 0)
		return jv_null();
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) { /* nobody holds it */
		close(fd);
		return jv_null();
	}
	char buf[DB_NOTE_MAX];
	ssize_t k = pread(fd, buf, sizeof buf, 0);
	close(fd);
	jv note = jv_parse_sized(buf, k > 0 ? (int)k : 0);
	if (jv_get_kind(note) != JV_KIND_OBJECT) {
		jv_free(note);
		return jv_object();
	}
	return note;
}
