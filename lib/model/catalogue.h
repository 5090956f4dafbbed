/* catalogue: the model catalogue (DESIGN.md §5).
 *
 * A model is data: an entry with id, name, platform, input and output type,
 * and the platform's parameters. The catalogue is the built-in one (compiled
 * from share/panic/models.json) extended or overridden, entry by entry, by
 * the user's file: $PANIC_MODELS, else ${XDG_CONFIG_HOME:-~/.config}/panic/
 * models.json if it exists. Every entry is checked on load; a bad one is a
 * configuration error naming the file and the entry.
 *
 * jv ownership: catalogue_add() consumes its entry; struct model's entry is
 * owned by the catalogue.
 */
#ifndef PANIC_MODEL_H
#define PANIC_MODEL_H

#include <jv.h>
#include <stddef.h>

enum mtype { MT_TEXT, MT_IMAGE, MT_AUDIO };

const char *mtype_name(int t);
int mtype_parse(const char *s); /* -1 if unknown */

struct platform;

struct model {
	char *id, *name;
	const struct platform *platform;
	int input, output; /* enum mtype */
	jv entry;          /* the whole entry, for the platform's parameters */
	long ncalls;       /* calls started in this process */
	void *priv;        /* the platform's, released by its model_free() */
};

struct catalogue;

/* Loads the built-in catalogue and the user's file. USER_FILE, if given,
 * replaces $PANIC_MODELS and must exist. */
int catalogue_load(struct catalogue **out, const char *user_file);
void catalogue_free(struct catalogue *c);
/* The model ID, or NULL. An ID PLATFORM:NAME that is not in the catalogue
 * names model NAME of an HTTP platform (openai:gpt-4o-mini): it is added,
 * text -> text (replicate: text -> image). */
struct model *catalogue_find(struct catalogue *c, const char *id);
/* Adds the model PLATFORM:NAME (ID) taking IN and giving OUT (enum mtype;
 * -1 for the default), replacing any entry of that id; NULL with
 * err_msg() if ID is not PLATFORM:NAME of an HTTP platform. */
struct model *catalogue_platform_model(struct catalogue *c, const char *id, int in, int out);
size_t catalogue_count(const struct catalogue *c);
struct model *catalogue_at(struct catalogue *c, size_t i);
/* Checks ENTRY (consumed) and adds it, replacing an entry of the same id.
 * WHERE names its origin in error messages. */
struct model *catalogue_add(struct catalogue *c, jv entry, const char *where);

/* 0 if IDS (an array of model ids, borrowed) makes a network: not empty,
 * every model known, the first taking text, each output the next model's
 * input, and the last output the first input (a closed cycle). Else -1,
 * err_msg() naming the first bad link. */
int catalogue_chain(struct catalogue *c, jv ids);

#endif
