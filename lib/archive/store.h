/* store: the archive directory, files named by the SHA-256 of their bytes.
 *
 *   DIR/ab/ab12...(64 hex digits).EXT
 *
 * A file is written under a hidden temporary name in DIR (".tmp.PID.N",
 * created O_EXCL), then renamed into its shard: readers never see half a
 * file, and the same content always lands at the same name. Names come
 * from digests and known extensions only, never from a URL, so nothing a
 * server says can reach outside DIR. The shard is opened O_NOFOLLOW, so a
 * symlink planted where a shard should be is refused, and a stored file is
 * trusted only if it is a regular file of the recorded size (a symlink or
 * anything else there is replaced). DIR itself must be a directory that
 * only its owner (or root) can write. Temporary files of processes that
 * died are swept when the store is opened.
 */
#ifndef PANIC_ARCHIVE_STORE_H
#define PANIC_ARCHIVE_STORE_H

#include <stddef.h>
#include <sys/types.h>

struct store {
	int dirfd;
	char *dir; /* absolute */
	unsigned long ntemp;
	int shard[256]; /* the shards opened so far (-1: not yet) */
};

/* Opens (creating it and its parents if need be) the store at DIR. */
int store_open(struct store *s, const char *dir);
void store_close(struct store *s);
/* Creates a temporary file; its name goes to NAME. Returns the fd. */
int store_temp(struct store *s, char name[static 64]);
/* The name store_temp() would give next, without creating it. */
void store_temp_name(struct store *s, char name[static 64]);
/* Removes the temporary file NAME. */
void store_discard(struct store *s, const char *name);
/* The path of a temporary or stored file, relative to DIR, made absolute
 * (malloc'd). */
char *store_path(const struct store *s, const char *rel);
/* Writes the relative name of the file SHA.EXT ("ab/ab12...png") to REL. */
void store_name(const char *sha, const char *ext, char rel[static 96]);
/* Moves the temporary file TMP into place as REL. */
int store_commit(struct store *s, const char *tmp, const char *rel);
/* 1 if REL is a regular file of BYTES bytes, 0 if not (or absent). */
int store_has(struct store *s, const char *rel, off_t bytes);
/* Opens REL for reading (O_NOFOLLOW, a regular file); the fd or -1. */
int store_read(struct store *s, const char *rel);

#endif
