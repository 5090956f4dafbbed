/* config: boards and installations, from vesta.json.
 *
 * The file ($PANIC_VESTA, or vesta.json in the config directory) is one
 * JSON object:
 *
 *   {"boards": {
 *      "lobby": {"api": "rw", "key_env": "LOBBY_KEY", "size": "flagship"},
 *      "desk":  {"api": "local", "base_url": "http://10.0.0.9:7000",
 *                "key_env": "DESK_KEY", "size": "note", "interval": 20},
 *      "wall":  {"api": "cloud", "size": [6, 30]}},
 *    "installations": {
 *      "foyer": {"network": "gallery", "boards": [
 *        {"board": "lobby", "stride": 2, "offset": 0},
 *        {"board": "desk", "stride": 2, "offset": 1},
 *        {"board": "wall", "initial_prompt": true}]}}}
 *
 * A board's name is 1 to 64 letters, digits, '.', '_' or '-' (it names the
 * bus topic vesta:NAME). api is rw (the Read/Write API), cloud or local; key_env names the
 * environment variable or keys-file entry that holds the board's key
 * (default VESTABOARD_READ_WRITE_KEY, VESTABOARD_TOKEN or
 * VESTABOARD_LOCAL_API_KEY); a key itself is never in this file (one that
 * is, is refused). size is flagship (6x22), note (3x15), "RxC" or [R, C].
 * interval is the least time between messages, in seconds (default 15).
 */
#ifndef PANIC_VESTA_CONFIG_H
#define PANIC_VESTA_CONFIG_H

#include <stdint.h>

enum { VESTA_RW, VESTA_CLOUD, VESTA_LOCAL };

struct vesta_target {
	char *name;
	int api;
	char *base_url; /* NULL: the API's */
	char *key_env;
	int rows, cols;
	double interval; /* seconds, < 0: the default */
	int allow_http;  /* a key may go over plain http to a host not loopback */
};

struct vesta_route {
	int board;  /* index in the config's boards */
	long stride, offset; /* stride 0: no invocations */
	int prompt; /* initial_prompt */
};

struct vesta_install {
	char *name, *network;
	struct vesta_route *route;
	int nroute;
};

struct vesta_config {
	char *path;
	struct vesta_target *board;
	int nboard;
	struct vesta_install *inst;
	int ninst;
};

/* Loads PATH (NULL: $PANIC_VESTA or the default); a missing default file
 * is an empty configuration. 0, or -1 with err_msg(). */
int vesta_config_load(struct vesta_config *c, const char *path);
void vesta_config_free(struct vesta_config *c);
/* The board named NAME, or -1 with err_msg(). */
int vesta_config_board(const struct vesta_config *c, const char *name);
/* The installation NAME, or NULL with err_msg(). */
const struct vesta_install *vesta_config_install(const struct vesta_config *c, const char *name);
/* "flagship", "note" or "RxC": 0, or -1 with err_msg(). */
int vesta_size_parse(const char *s, int *rows, int *cols);
const char *vesta_api_name(int api);

#endif
