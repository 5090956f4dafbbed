/* job: what the archive's files share about a job in flight.
 *
 * Private to lib/archive. archive.c holds the archive and the poll loop;
 * steps.c moves a job through its steps: download, convert, store,
 * upload.
 */
#ifndef PANIC_ARCHIVE_JOB_H
#define PANIC_ARCHIVE_JOB_H

#include <stdint.h>
#include <sys/types.h>

#include "archive/archive.h"
#include "archive/store.h"
#include "base/proc.h"
#include "base/sha256.h"
#include "http/http.h"

enum step { S_DOWNLOAD, S_CONVERT, S_UPLOAD_WAIT, S_UPLOAD, S_DONE };

struct archive {
	struct archive_opts o;
	struct store store;
	struct db *db;
	char *destination; /* of uploads, or NULL */
	struct archive_step *jobs; /* in flight */
	int n;
	int finished; /* since the last wait */
	int in_tx;    /* a transaction is open: archive_commit() ends it */
	int stop_fd;  /* archive_hooks() */
	void (*tick)(void *);
	void *tick_ctx;
};

struct archive_step {
	struct archive *a;
	struct archive_job *j;
	struct archive_step *next;
	enum step step;
	enum media_kind expect;
	char *url;
	/* download, then upload */
	struct http_req req;
	int req_active; /* req is in flight: the step is freed only after */
	int fd;
	char tmp[64];
	struct sha256 hash;
	unsigned char head[MEDIA_SNIFF];
	size_t nhead;
	int sniffed;
	struct media media; /* what was downloaded */
	char source[SHA256_HEX];
	off_t size;
	/* convert */
	struct proc proc;
	int running;
	char out[64];
	char errtext[300];
	size_t nerr;
	int64_t deadline; /* monotonic ms */
	const char *format;
	/* stored */
	char sha[SHA256_HEX];
	char rel[96];
	struct media stored;
	off_t bytes;
	int stored_new, uploaded_new;
	char *upload_url;
};

/* steps.c */
void step_download(struct archive_step *s);
/* Converter's fds to poll (at most 3), and its deadline. */
int step_fds(struct archive_step *s, struct pollfd *p, int64_t *deadline);
void step_converter(struct archive_step *s, struct pollfd *p, int n, int64_t now);
/* archive.c. A job that fails or finishes is done at once (its
 * archive_job filled in); its step is freed by the next archive_wait(),
 * once no request of its is in flight. */
void step_fail(struct archive_step *s, const char *kind, const char *stage, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void step_finish(struct archive_step *s);
void step_stored(struct archive_step *s);
/* The state file's writes of the jobs that end in one wait go in one
 * transaction, committed before the wait returns (so before the program
 * reports them): archive_tx() opens it if need be. */
int archive_tx(struct archive *a);
int archive_commit(struct archive *a);

#endif
