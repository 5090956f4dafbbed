/* locks: named locks between processes, released when the holder exits
 * however it exits, each with a note others may read; see db.h.
 *
 * A lock is held on the state file itself: an open-file-description lock
 * (F_OFD_SETLK) on one byte far past any SQLite uses (its locks live at
 * 1 GiB), at an offset taken from the name. So it is one lock whatever path
 * reaches the file (a symlink, a hard link, a bind mount), the kernel drops
 * it when the holder dies however it dies, and SQLite's own POSIX locks on
 * the same file are untouched (OFD locks are not released when another
 * descriptor of the file is closed).
 *
 * The descriptor that holds the locks is opened once per connection and
 * kept until db_close(): closing a descriptor of the state file would drop
 * every POSIX lock the process holds on it, SQLite's own among them (its
 * shared lock in WAL mode, without which another process's last close may
 * checkpoint and remove the WAL this one still writes). Unlocking releases
 * the byte (F_UNLCK) and keeps the descriptor.
 *
 * The holder's note (one JSON line) is a file beside the state file's real
 * path, "PATH-lock-NAME", rewritten in place and removed at unlock; a
 * reader that finds the lock held but no note (it came by another path)
 * gets an empty note. The note is opened for each write, not kept open: a
 * process holding a thousand locks (agent-run --all) would otherwise have
 * a thousand descriptors that every child it starts copies and closes.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "json/json.h"
#include "state/db.h"
#include "state/sqlite.h"

#define LOCK_BASE 0x7f00000000000000LL

struct db_lock {
	int fd;     /* the state file's shared descriptor (db->lockfd), not owned */
	struct flock region;
	int note;   /* the note file was made (and is removed at unlock) */
	char *path; /* its name */
};

/* The state file's descriptor for locks, opened on first use. */
static int lock_fd(struct db *db)
{
	if (!db->lockfd) {
		int fd = open(db->path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			fd = open(db->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		db->lockfd = fd + 1;
	}
	return db->lockfd - 1;
}

void dbi_locks_close(struct db *db)
{
	if (db->lockfd)
		close(db->lockfd - 1);
	db->lockfd = 0;
}

/* The byte of the state file that stands for lock NAME. */
static struct flock region(const char *name, short type)
{
	uint32_t h = 2166136261u;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return (struct flock){ .l_type = type, .l_whence = SEEK_SET,
		               .l_start = LOCK_BASE + (off_t)h, .l_len = 1 };
}

static char *note_path(struct db *db, const char *name)
{
	char real[PATH_MAX], *p;
	if (!realpath(db->path, real))
		snprintf(real, sizeof real, "%s", db->path);
	return asprintf(&p, "%s-lock-%s", real, name) < 0 ? NULL : p;
}

/* The note in PATH, or an empty object. */
static jv read_note(const char *path)
{
	char buf[DB_NOTE_MAX];
	int fd = path ? open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
	ssize_t k = fd >= 0 ? pread(fd, buf, sizeof buf, 0) : -1;
	if (fd >= 0)
		close(fd);
	jv note = k > 0 ? jv_parse_sized(buf, (int)k) : jv_invalid();
	if (jv_get_kind(note) != JV_KIND_OBJECT) {
		jv_free(note);
		return jv_object();
	}
	return note;
}

int db_lock(struct db *db, const char *name, struct db_lock **out)
{
	*out = NULL;
	struct db_lock *l = calloc(1, sizeof *l);
	if (!l)
		return err_errno("lock");
	if ((l->fd = lock_fd(db)) < 0) {
		err_errno("lock");
		goto fail;
	}
	struct flock f = region(name, F_WRLCK);
	if (fcntl(l->fd, F_OFD_SETLK, &f) < 0) {
		l->fd = -1; /* not ours to release */
		char *path = note_path(db, name);
		jv note = read_note(path);
		free(path);
		jv pid = json_get(note, "pid");
		if (jv_get_kind(pid) == JV_KIND_NUMBER)
			err_set("held by process %.0f", jv_number_value(pid));
		else
			err_set("held by another process");
		jv_free(pid);
		jv_free(note);
		goto fail;
	}
	l->region = f;
	int fd = -1;
	if (!(l->path = note_path(db, name)) ||
	    (fd = open(l->path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		err_errno("lock note");
		goto fail;
	}
	close(fd);
	l->note = 1;
	*out = l;
	return 0;
fail:
	db_unlock(l);
	return -1;
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
	int fd = open(l->path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_errno("lock note");
	ssize_t k = pwrite(fd, buf, sizeof buf, 0);
	close(fd);
	if (k != (ssize_t)sizeof buf)
		return err_errno("lock note");
	return 0;
}

void db_unlock(struct db_lock *l)
{
	if (!l)
		return;
	if (l->note) /* removed while the lock is still held */
		unlink(l->path);
	if (l->fd >= 0) {
		l->region.l_type = F_UNLCK;
		fcntl(l->fd, F_OFD_SETLK, &l->region);
	}
	free(l->path);
	free(l);
}

jv db_lock_peek(struct db *db, const char *name)
{
	int fd = lock_fd(db);
	if (fd < 0)
		return jv_null();
	struct flock f = region(name, F_RDLCK);
	int held = fcntl(fd, F_OFD_GETLK, &f) == 0 && f.l_type != F_UNLCK;
	if (!held)
		return jv_null();
	char *path = note_path(db, name);
	jv note = read_note(path);
	free(path);
	return note;
}
