/* display: PANIC!'s grid and single displays of a network's invocations,
 * as pure functions (no clock, file, terminal or network inside), shared
 * by panic-watch (a terminal) and panic-web (a browser).
 *
 * A display is a spec and its slots:
 *   grid RxC          R*C slots; invocation seq goes to slot seq mod R*C;
 *   single OFFSET/STRIDE  one slot, for the invocations whose seq mod
 *                     STRIDE is OFFSET; those ready or invoking are hidden
 *                     unless show_invoking (the screen keeps the last
 *                     finished one until the next is done).
 * Each slot holds the newest invocation that reached it. Invocations come
 * from the state file first, then from the bus, in any order and more
 * than once:
 *   - a run newer than the display's (run ids are UUIDv7, ordered by time)
 *     clears every slot and becomes the display's run; an older run's
 *     invocations are ignored;
 *   - in a slot, an invocation replaces the one there only if it is not
 *     older: by seq, then attempt (metadata.attempt), then state (ready,
 *     invoking, then completed or failed), so a late event never moves a
 *     slot back.
 *
 * jv ownership: display_take() borrows INV; the display owns its slots;
 * display_view() returns a new object.
 */
#ifndef PANIC_DISPLAY_DISPLAY_H
#define PANIC_DISPLAY_DISPLAY_H

#include <jv.h>

#define DISPLAY_MAX_SIDE 16       /* rows and columns of a grid */
#define DISPLAY_MAX_STRIDE 100000 /* of a single display */
#define DISPLAY_RESET (-2)        /* display_take(): a new run cleared it */

enum display_mode { DISPLAY_GRID, DISPLAY_SINGLE };

struct display_spec {
	enum display_mode mode;
	int rows, cols;     /* grid */
	long offset, stride; /* single */
	int show_invoking;  /* single */
};

/* "RxC" (1 to DISPLAY_MAX_SIDE each) into D; 0, or -1 with err_msg(). */
int display_parse_grid(const char *s, struct display_spec *d);
/* "OFFSET/STRIDE" (0 <= OFFSET < STRIDE <= DISPLAY_MAX_STRIDE) into D. */
int display_parse_single(const char *s, struct display_spec *d, int show_invoking);
/* The number of slots of D. */
int display_nslots(const struct display_spec *d);
/* The slot invocation SEQ goes to, or -1 if D never shows it. */
int display_slot(const struct display_spec *d, long seq);
/* How many of a run's latest invocations fill every slot of D, with
 * room for those hidden. */
long display_backlog(const struct display_spec *d);

struct display {
	struct display_spec spec;
	char run_id[64]; /* "" before the first invocation */
	jv *slots;       /* display_nslots() invocations or nulls */
};

int display_init(struct display *d, const struct display_spec *spec);
void display_free(struct display *d);
/* Takes INV (an invocation: run_id, seq, state...): returns the slot it
 * changed, DISPLAY_RESET if it started a newer run (every slot may have
 * changed), or -1 if the display does not change. */
int display_take(struct display *d, jv inv);

/* What slot I shows, given the output type of its model (OUTPUT_TYPE:
 * "text", "image" or "audio"; NULL for text):
 *   {"slot": I, "kind": K, "seq", "model", "state", "text", "run_id", "id"}
 * with K one of empty (nothing yet), ready, invoking, failed (text: the
 * error's message), text, image, audio (text: the output, a URL for
 * image and audio). Only slot is set for empty. */
jv display_view(const struct display *d, int i, const char *output_type);

#endif
