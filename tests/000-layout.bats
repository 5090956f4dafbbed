#!/usr/bin/env bats
# The tree keeps its layers (lib/README.md): tools/layers passes on the
# tree as it is, and catches each way of breaking them.

bats_require_minimum_version 1.5.0
load helper

@test "lib/ keeps its layers: one way, private headers private, only cli prints" {
	run "$TOP/tools/layers" "$TOP"
	assert_success
	assert_output ""
}

@test "each way of breaking the layers is caught, with the file and line" {
	mkdir tree
	cp -r "$TOP/lib" "$TOP/bin" tree/
	cd tree
	# a foundation that reaches up; a layer including a sibling; one its
	# README does not list; a library file using cli/; a program using a
	# private header; a library file that prints; a folder with no layer;
	# an include without its folder; a file grown too long
	sed -i 's|#include "base/id.h"|#include "base/id.h"\n#include "model/engine.h"|' lib/base/id.c
	sed -i 's|#include "http/sse.h"|#include "http/sse.h"\n#include "state/db.h"|' lib/http/sse.c
	sed -i 's|#include "base/err.h"|#include "base/err.h"\n#include "http/http.h"|' lib/bus/dir.c
	sed -i 's|#include "state/db.h"|#include "state/db.h"\n#include "cli/prog.h"|' lib/state/open.c
	sed -i 's|#include "json/json.h"|#include "json/json.h"\n#include "state/sqlite.h"|' bin/panic-log.c
	echo 'void shout(void) { puts("hi"); } /* puts( in a comment is fine */' >> lib/json/json.c
	mkdir lib/extra && echo 'int extra;' > lib/extra/extra.c
	sed -i 's|#include "base/md5.h"|#include "md5.h"|' lib/base/md5.c
	seq 700 | sed 's/.*/int v&;/' > lib/base/long.c
	run "$TOP/tools/layers" "$PWD"
	assert_failure 1
	assert_line --regexp '^lib/base/id.c:[0-9]+: lib/base may not include model/engine.h: dependencies run base -> json -> state, http -> bus -> model -> subsystems -> web -> cli$'
	assert_line --regexp '^lib/http/sse.c:[0-9]+: lib/http may not include state/db.h'
	assert_line --regexp '^lib/bus/dir.c:[0-9]+: lib/bus includes http/http.h, but lib/bus/README.md does not list http'
	assert_line --regexp '^lib/state/open.c:[0-9]+: includes cli/prog.h: only programs use cli/'
	assert_line --regexp '^bin/panic-log.c:[0-9]+: includes state/sqlite.h, private to lib/state$'
	assert_line --regexp '^lib/json/json.c:[0-9]+: the library never prints or exits: void shout'
	assert_line 'lib/extra: no README.md saying what it is for and what it uses'
	assert_line --partial 'lib/extra: a folder with no layer'
	assert_line --regexp '^lib/base/md5.c:[0-9]+: "md5.h" must name its folder'
	assert_line 'lib/base/long.c: 700 lines: split it (at most 600)'
	assert_equal "${#lines[@]}" 11
}
