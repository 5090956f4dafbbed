#!/usr/bin/env bats
# The docs run: every shell example of the README and the man pages, as
# written and in order, in a fresh home, against the local fakes (an
# OpenAI/Replicate/Gemini stand-in, a llama.cpp stand-in on a free port,
# media served from the fake). Each example must exit 0 and print no bare
# "null" (a sign of an example reading fields that are not there).

bats_require_minimum_version 1.5.0
load helper

setup() {
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/panic-test.XXXXXX")
	export HOME=$T/home
	mkdir -p "$HOME" "$T/work"
	unset PANIC_DB PANIC_BUS XDG_STATE_HOME XDG_CONFIG_HOME PANIC_MODELS PANIC_KEYS PANIC_PROFILES
	export XDG_RUNTIME_DIR=$T/run
	# workflows by name, as installed (PREFIX/share/panic/workflows)
	export SYN_PATH=$HOME/.config/panic/workflows:$TOP/share/panic/workflows
	cp -r "$TOP"/tests/examples/*.* "$T/work/"
	PATH=$TOP/tests/examples/bin:$PATH
	FAKE_OWN_MEDIA=1 start_fake_api # outputs the examples can download
	export MEDIA=http://127.0.0.1:$PORT/media
	LLAMA_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	export LLAMA_PORT
	cd "$T/work"
	sed -i "s|https://example.org/|$MEDIA/|g" ./*.ndjson
}

# an S3-compatible bucket "panic-outputs" for the examples' key "..."
start_fake_s3() {
	load npm
	npm_oracles s3rver@3.7.1 @smithy/signature-v4@5.7.5 @smithy/hash-node@4.2.7
	fake-s3 --dir "$T/s3" --port-file "$T/s3port" --log "$T/s3.log" --bucket panic-outputs \
		--key '...:...' 2> "$T/s3.err" &
	wait_for test -s "$T/s3port"
	export S3=http://127.0.0.1:$(cat "$T/s3port")
}

# examples FILE: runs FILE's examples in order; fails at the first that
# exits non-zero or prints a bare null
examples() {
	local f out rc
	"$TOP/tools/examples" "$1" "$T/ex"
	for f in "$T"/ex/*.sh; do
		rc=0
		out=$(timeout 120 bash "$f" 2>&1) || rc=$?
		[ "$rc" = 0 ] || fail "$(head -1 "$f") failed (exit $rc): $out"
		if printf '%s\n' "$out" | grep -qx null; then
			fail "$(head -1 "$f") printed null: $out"
		fi
		# a llama.cpp stand-in an example started is gone with it
		pkill -f "^/bin/sh .*llama-server" 2>/dev/null || true
	done
	rm -rf "$T/ex"
}

@test "the README's examples run as written, in order" {
	examples "$TOP/README.md"
	# the examples reached the fakes, not the internet
	[ "$(wc -l < "$T/log")" -gt 0 ]
}

@test "every man page's examples run as written" {
	start_fake_s3
	for page in "$TOP"/docs/*.1; do
		rm -rf "$HOME" && mkdir -p "$HOME"
		examples "$page"
	done
}
