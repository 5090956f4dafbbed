#!/usr/bin/env bats
# vesta-send --installation: a network's invocations routed to boards by
# stride and offset, the run's prompt on every initial_prompt board,
# following the bus (or panic-loop's output on stdin), through a runner
# that restarts.

bats_require_minimum_version 1.5.0
load helper

setup() {
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/panic-test.XXXXXX")
	export PANIC_DB=$T/state/panic.db PANIC_BUS=$T/bus
	export XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state XDG_RUNTIME_DIR=$T/run
	unset PANIC_VESTA PANIC_KEYS PANIC_MODELS FAKE_VB_FAULTS
	cd "$T"
	export FAKE_VB_KEY=k3y-for-tests
	fake-vestaboard "$T/port" "$T/log" 2> "$T/fake.err" &
	wait_for test -s "$T/port"
	URL=http://127.0.0.1:$(cat "$T/port")
	mkdir -p "$T/config/panic"
	cat > "$T/config/panic/vesta.json" <<-EOF
	{"boards": {
	  "even": {"api": "rw", "base_url": "$URL", "key_env": "VB_KEY"},
	  "odd": {"api": "local", "base_url": "$URL", "size": "note", "key_env": "VB_KEY"},
	  "intro1": {"api": "cloud", "base_url": "$URL", "key_env": "VB_KEY"},
	  "intro2": {"api": "cloud", "base_url": "$URL", "key_env": "VB_KEY", "size": "note"}},
	 "installations": {"foyer": {"network": "gallery", "boards": [
	  {"board": "even", "stride": 2, "offset": 0},
	  {"board": "odd", "stride": 2, "offset": 1},
	  {"board": "intro1", "initial_prompt": true},
	  {"board": "intro2", "initial_prompt": true}]}}}
	EOF
	export VB_KEY=k3y-for-tests
	panic-net create gallery dummy-t2t > /dev/null
}

fifos() { find "$PANIC_BUS" -type p 2>/dev/null | wc -l; }
more_fifos() { [ "$(fifos)" -gt "$1" ]; }

# shown_up_to N: the boards have shown invocation N or a later one
shown_up_to() {
	[ "$(jq -r 'select(.vesta.board == "even" or .vesta.board == "odd") | .seq' out | sort -n | tail -1)" -ge "$1" ] 2>/dev/null
}

# face SIZE TEXT: the rows vesta-send lays TEXT out as, compact
face() { jq -nc --arg t "$2" '{output: $t}' | vesta-send --codes --size "$1"; }
# shown API: the bodies the fake board of API got, compact
shown() { jq -c --arg h "$1" 'select(.headers[$h]) | (if (.body | type) == "object" then .body.characters else .body end)' "$T/log"; }

@test "--stdin: invocations by seq mod stride, the prompt on every initial_prompt board" {
	echo 'a cat at sea' | panic-loop gallery --pace 0 --max 4 > loop.ndjson
	run -0 --separate-stderr vesta-send --installation foyer --stdin --interval 0 < loop.ndjson
	# every board's outcome records: which seq (or the run) went where
	assert_equal "$(echo "$output" | jq -c '[.vesta.board, .type, .seq, .vesta.outcome]' | sort)" \
		"$(printf '%s\n' '["even","invocation",0,"sent"]' '["even","invocation",2,"sent"]' \
			'["intro1","run",null,"sent"]' '["intro2","run",null,"sent"]' \
			'["odd","invocation",1,"sent"]' '["odd","invocation",3,"sent"]' | sort)"
	out2=$(jq -r 'select(.type == "invocation" and .seq == 2 and .state == "completed") | .output' loop.ndjson)
	out3=$(jq -r 'select(.type == "invocation" and .seq == 3 and .state == "completed") | .output' loop.ndjson)
	assert_equal "$(shown x-vestaboard-read-write-key | tail -1)" "$(face flagship "$out2")"
	assert_equal "$(shown x-vestaboard-local-api-key | tail -1)" "$(face note "$out3")"
	assert_equal "$(shown x-vestaboard-token | sort)" "$(printf '%s\n' "$(face flagship 'a cat at sea')" "$(face note 'a cat at sea')" | sort)"
}

@test "an invocation already shown is not shown again (a runner that repeats itself after a restart)" {
	echo 'hello' | panic-loop gallery --pace 0 --max 2 > loop.ndjson
	cat loop.ndjson loop.ndjson > twice.ndjson
	run -0 vesta-send --installation foyer --stdin --interval 0 < twice.ndjson
	assert_equal "$(echo "$output" | jq -c '[.vesta.board, .seq // .type]' | sort | uniq -d)" ''
	assert_equal "$(echo "$output" | wc -l)" 4
}

@test "following the bus, through a runner killed and restarted" {
	vesta-send --installation foyer --interval 0 > out 2> err &
	pid=$!
	wait_for more_fifos 0
	panic-loop gallery --pace 0.3 > loop1.ndjson 2>&1 &
	loop=$!
	wait_for more_fifos 1
	panic-bus pub prompt:gallery '{"input": "a cat at sea"}'
	wait_for grep -q '"seq":3,.*"state":"completed"' loop1.ndjson
	kill -KILL $loop
	wait $loop || true
	n1=$(wc -l < "$T/log")
	panic-loop gallery --pace 0.3 --max 3 > loop2.ndjson 2>&1
	wait_for shown_up_to 6
	kill -TERM $pid
	wait $pid || true
	[ "$(wc -l < "$T/log")" -gt "$n1" ] || fail "nothing shown after the restart"
	# each seq shown once, on the board its parity says
	assert_equal "$(jq -r 'select(.type == "invocation") | [.vesta.board, .seq] | @tsv' out | sort | uniq -d)" ''
	run -0 jq -se 'all(.[] | select(.type == "invocation"); (.seq % 2 == 0) == (.vesta.board == "even"))' out
	# the prompt once on each initial_prompt board, not again on resuming
	assert_equal "$(jq -r 'select(.type == "run") | .vesta.board' out | sort | paste -sd' ')" 'intro1 intro2'
	grep -q '"event":"resumed"' loop2.ndjson
}

@test "installation errors: unknown installation, unknown board, bad stride or offset" {
	run -3 vesta-send --installation nosuch </dev/null
	assert_output --partial "no installation named 'nosuch'"
	echo '{"installations": {"x": {"network": "n", "boards": [{"board": "ghost"}]}}}' > c1.json
	run -3 vesta-send --config c1.json --installation x </dev/null
	assert_output --partial "installation x: boards[0]: no board named 'ghost'"
	echo '{"boards": {"b": {}}, "installations": {"x": {"network": "n", "boards": [{"board": "b", "stride": 0}]}}}' > c2.json
	run -3 vesta-send --config c2.json --installation x </dev/null
	assert_output --partial 'stride: expected a whole number of at least 1'
	echo '{"boards": {"b": {}}, "installations": {"x": {"network": "n", "boards": [{"board": "b", "stride": 2, "offset": 2}]}}}' > c3.json
	run -3 vesta-send --config c3.json --installation x </dev/null
	assert_output --partial 'offset: expected a whole number from 0 to stride - 1'
	run -2 vesta-send --installation foyer -b even </dev/null
}
