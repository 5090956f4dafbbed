/* archive: image and audio outputs made permanent (DESIGN.md §6,
 * panic-archive).
 *
 * A job takes the URL of an output and:
 *   1. downloads it (libcurl through http/), writing it to a temporary file
 *      in the archive directory while hashing it (SHA-256) and looking at
 *      its first bytes (media.h): HTML, text and anything that is not an
 *      image or audio (or not the kind expected) is refused at once, and so
 *      is an answer larger than max_bytes;
 *   2. if a format was asked for, converts it (convert.h), unless the same
 *      source was stored in that format before (state/archive.h);
 *   3. stores the file under the SHA-256 of its bytes (store.h), once;
 *   4. if a bucket is configured, uploads it (s3.h), once per bucket and
 *      prefix: a job whose file is being uploaded by another waits for it;
 *   5. gives the archived location: the object's public URL, else the
 *      file under base_url, else a file:// URL.
 * Jobs run side by side in one poll loop (archive_wait()), as calls do in
 * the model engine. Each step that fails ends the job with an error
 * {"kind","stage","message"}; stage is download, convert, store or upload.
 *
 * jv ownership: a finished job owns result and error until
 * archive_job_clear().
 */
#ifndef PANIC_ARCHIVE_ARCHIVE_H
#define PANIC_ARCHIVE_ARCHIVE_H

#include <jv.h>
#include <poll.h>
#include <stddef.h>

#include "archive/media.h"
#include "archive/s3.h"

#define ARCHIVE_MAX_BYTES ((size_t)100 << 20)
#define ARCHIVE_TIMEOUT_MS 120000

struct db;
struct archive;
struct archive_step;

struct archive_opts {
	const char *dir;          /* NULL: path_archive(NULL) */
	const char *image_format; /* "keep" (NULL) or "webp" */
	const char *audio_format; /* "keep" (NULL), "mp3" or "ogg" */
	size_t max_bytes;         /* 0: ARCHIVE_MAX_BYTES */
	int timeout_ms;           /* per download, conversion, upload; 0: the default */
	const char *base_url;     /* where the directory is served; NULL: file:// */
	struct s3_conf s3;        /* s3.endpoint NULL: no upload */
};

struct archive_job {
	void *user; /* the caller's */
	/* Set when the job ends: */
	int done;
	jv result; /* {url, source, sha256, path, bytes, content_type, stored,
	            *  uploaded, format}, or null */
	jv error;  /* null, or {kind, stage, message} */
	struct archive_step *p; /* the archive's */
};

/* Opens the archive: its directory, the converters its formats need (a
 * clear error when one is missing), its bucket's settings. DB (borrowed)
 * remembers what was stored and uploaded. 0, or -1 with err_msg(). */
int archive_open(struct archive **out, const struct archive_opts *o, struct db *db);
/* Cancels the jobs in flight and closes. */
void archive_close(struct archive *a);
/* The directory, absolute. */
const char *archive_dir(const struct archive *a);
/* Starts J on URL, an output expected to be EXPECT (MEDIA_IMAGE,
 * MEDIA_AUDIO, or MEDIA_UNKNOWN for either). J must stay put until done;
 * it may be done on return (a bad URL). */
void archive_start(struct archive *a, struct archive_job *j, const char *url,
                   enum media_kind expect);
/* Waits for the jobs and the N pollfds EXTRA (their revents set) up to MS
 * ms (-1: no limit); returns how many jobs finished, or -1. */
int archive_wait(struct archive *a, struct pollfd *extra, int n, int ms);
int archive_inflight(const struct archive *a);
/* Abandons J if it is in flight (it ends failed, kind canceled). */
void archive_cancel(struct archive *a, struct archive_job *j);
/* Frees what a finished J holds. */
void archive_job_clear(struct archive_job *j);
/* Runs J on URL to its end. Gives up (kind canceled) as soon as STOP_FD
 * (if >= 0) is readable, without reading it; calls TICK(CTX) (if set) at
 * least every second meanwhile (a watchdog). */
void archive_run(struct archive *a, struct archive_job *j, const char *url,
                 enum media_kind expect, int stop_fd, void (*tick)(void *), void *ctx);

/* For a runner (panic-loop --archive): if INV's (consumed) output is of
 * TYPE "image" or "audio", archives it with archive_run() and returns INV
 * with the output rewritten to the archived location and
 * metadata.archive saying what was done; on failure the output stays and
 * metadata.archive holds {source, error}. Otherwise returns INV as it is.
 * The stop fd and tick of archive_hooks() apply. */
jv archive_invocation(struct archive *a, const char *type, jv inv);
/* What archive_invocation() passes to archive_run(). */
void archive_hooks(struct archive *a, int stop_fd, void (*tick)(void *), void *ctx);

#endif
