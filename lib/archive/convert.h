/* convert: the external converters panic-archive runs, as PANIC! does:
 * images to WebP with cwebp (gif2webp for GIF), audio to MP3 or Ogg
 * (Opus) with ffmpeg. They are found on PATH and run by argv
 * (base/proc.h), never through a shell, reading and writing files in the
 * archive directory.
 *
 * Formats: "keep" (store what was downloaded), "webp" for images, "mp3"
 * and "ogg" for audio. A file already in the format is kept as it is.
 */
#ifndef PANIC_ARCHIVE_CONVERT_H
#define PANIC_ARCHIVE_CONVERT_H

#include "archive/media.h"

#define CONVERT_ARGS 24

/* 0 if FORMAT is one for KIND (MEDIA_IMAGE or MEDIA_AUDIO), else -1 with
 * err_msg(). */
int convert_format_check(enum media_kind kind, const char *format);
/* Whether a file of media M is to be converted to FORMAT: 1 (and ARGV
 * filled, NULL-terminated, pointing into IN and OUT, and *EXT the
 * converted file's extension), or 0 when M is kept as it is. Pure. */
int convert_plan(const struct media *m, const char *format, const char *in, const char *out,
                 const char *argv[static CONVERT_ARGS], const char **ext);
/* 0 if the converters FORMAT needs are on PATH, else -1 with err_msg()
 * naming the program and the Debian package that has it. */
int convert_available(const char *format);

#endif
