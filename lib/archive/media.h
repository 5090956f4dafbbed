/* media: what a file is, from its first bytes (its magic numbers), never
 * from its name or the server's word alone.
 *
 * Pure: bytes in, a description out. panic-archive keeps images and audio
 * and refuses the rest, an HTML page above all (a platform's error or
 * login page served where an image was promised).
 */
#ifndef PANIC_ARCHIVE_MEDIA_H
#define PANIC_ARCHIVE_MEDIA_H

#include <stddef.h>

enum media_kind { MEDIA_UNKNOWN, MEDIA_IMAGE, MEDIA_AUDIO, MEDIA_VIDEO, MEDIA_MARKUP, MEDIA_TEXT };

struct media {
	enum media_kind kind;
	const char *type; /* "image/png"; NULL if unknown */
	const char *ext;  /* "png"; NULL if unknown */
};

/* Bytes enough to tell every kind below apart. */
#define MEDIA_SNIFF 64

/* What the N first bytes at P (N <= the file's size) say the file is. */
struct media media_sniff(const unsigned char *p, size_t n);
/* "image", "audio", "video", "HTML or XML", "text" or "unknown data". */
const char *media_kind_name(enum media_kind k);
/* The media of media type TYPE ("image/webp"), as media_sniff() names it. */
struct media media_of_type(const char *type);
/* The media of extension EXT ("webp", "mp3", "ogg"), for converted files. */
struct media media_of_ext(const char *ext);

#endif
