/* convert: cwebp and ffmpeg, as PANIC! runs them; see convert.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/convert.h"
#include "base/err.h"

int convert_format_check(enum media_kind kind, const char *format)
{
	if (!strcmp(format, "keep"))
		return 0;
	if (kind == MEDIA_IMAGE && !strcmp(format, "webp"))
		return 0;
	if (kind == MEDIA_AUDIO && (!strcmp(format, "mp3") || !strcmp(format, "ogg")))
		return 0;
	return err_set("'%s': the %s formats are %s", format, media_kind_name(kind),
	               kind == MEDIA_IMAGE ? "keep and webp" : "keep, mp3 and ogg");
}

int convert_plan(const struct media *m, const char *format, const char *in, const char *out,
                 const char *argv[static CONVERT_ARGS], const char **ext)
{
	int n = 0;
	if (!strcmp(format, "keep") || !m->ext || !strcmp(m->ext, format))
		return 0;
	if (m->kind == MEDIA_IMAGE && !strcmp(format, "webp")) {
		/* cwebp reads PNG, JPEG and TIFF; GIF has its own tool; the rest
		 * (AVIF, BMP) are kept. Quality 75, as PANIC! encodes. */
		if (!strcmp(m->ext, "gif")) {
			const char *a[] = { "gif2webp", "-quiet", "-q", "75", in, "-o", out };
			memcpy(argv, a, sizeof a);
			n = sizeof a / sizeof *a;
		} else if (!strcmp(m->ext, "png") || !strcmp(m->ext, "jpg") || !strcmp(m->ext, "tiff")) {
			const char *a[] = { "cwebp", "-quiet", "-q", "75", "-metadata", "none", in, "-o", out };
			memcpy(argv, a, sizeof a);
			n = sizeof a / sizeof *a;
		} else {
			return 0;
		}
	} else if (m->kind == MEDIA_AUDIO && (!strcmp(format, "mp3") || !strcmp(format, "ogg"))) {
		const char *a[] = { "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
			            "-i", in, "-vn", "-map_metadata", "-1" };
		memcpy(argv, a, sizeof a);
		n = sizeof a / sizeof *a;
		if (!strcmp(format, "mp3")) {
			const char *b[] = { "-c:a", "libmp3lame", "-q:a", "4", "-f", "mp3", out };
			memcpy(argv + n, b, sizeof b);
			n += sizeof b / sizeof *b;
		} else {
			const char *b[] = { "-c:a", "libopus", "-b:a", "64k", "-f", "ogg", out };
			memcpy(argv + n, b, sizeof b);
			n += sizeof b / sizeof *b;
		}
	} else {
		return 0;
	}
	argv[n] = NULL;
	*ext = format;
	return 1;
}

static int on_path(const char *prog)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/bin:/bin";
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		char file[4096];
		if (n && snprintf(file, sizeof file, "%.*s/%s", (int)n, p, prog) < (int)sizeof file &&
		    access(file, X_OK) == 0)
			return 1;
		p += n + (p[n] == ':');
	}
	return 0;
}

int convert_available(const char *format)
{
	if (!strcmp(format, "webp")) {
		if (!on_path("cwebp"))
			return err_set("cwebp not found on PATH (it converts images to webp; Debian: apt-get install webp)");
		if (!on_path("gif2webp"))
			return err_set("gif2webp not found on PATH (it converts GIF to webp; Debian: apt-get install webp)");
	} else if (!strcmp(format, "mp3") || !strcmp(format, "ogg")) {
		if (!on_path("ffmpeg"))
			return err_set("ffmpeg not found on PATH (it converts audio to %s; Debian: apt-get install ffmpeg)", format);
	}
	return 0;
}
