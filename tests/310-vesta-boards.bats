#!/usr/bin/env bats
# vesta-send: sending to boards through the Read/Write, Cloud and Local
# APIs, against tests/bin/fake-vestaboard: headers, bodies, keys, pacing,
# duplicates, 429/503 back-off, and the faults (401, hang, garbage,
# redirects).

bats_require_minimum_version 1.5.0
load helper

setup() {
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/panic-test.XXXXXX")
	export PANIC_DB=$T/state/panic.db PANIC_BUS=$T/bus
	export XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state XDG_RUNTIME_DIR=$T/run
	unset PANIC_VESTA PANIC_KEYS VESTABOARD_READ_WRITE_KEY VESTABOARD_TOKEN VESTABOARD_LOCAL_API_KEY
	cd "$T"
	export FAKE_VB_KEY=sekrit-key-1234 FAKE_VB_FAULTS=$T/faults
	fake-vestaboard "$T/port" "$T/log" 2> "$T/fake.err" &
	wait_for test -s "$T/port"
	PORT=$(cat "$T/port")
	URL=http://127.0.0.1:$PORT
	mkdir -p "$T/config/panic"
	cat > "$T/config/panic/vesta.json" <<-EOF
	{"boards": {
	  "lobby": {"api": "rw", "base_url": "$URL", "key_env": "LOBBY_KEY"},
	  "wall": {"api": "cloud", "base_url": "$URL/"},
	  "desk": {"api": "local", "base_url": "$URL", "size": "note", "key_env": "DESK_KEY"}}}
	EOF
	export LOBBY_KEY=sekrit-key-1234 VESTABOARD_TOKEN=sekrit-key-1234 DESK_KEY=sekrit-key-1234
}

# requests the fake got, as compact JSON
requests() { jq -c "${1:-.}" "$T/log"; }
# sub_bg OUT PATTERN: a bus subscriber in the background, ready when this returns
fifos() { find "$PANIC_BUS" -type p 2>/dev/null | wc -l; }
more_fifos() { [ "$(fifos)" -gt "$1" ]; }
sub_bg() {
	local before
	before=$(fifos)
	panic-bus sub "$2" > "$1" &
	wait_for more_fifos "$before"
}
# lines_at_least FILE N: FILE has N lines or more (counted at each call)
lines_at_least() { [ "$(wc -l < "$1")" -ge "$2" ]; }
has() { [[ "$stderr" == *"$1"* ]] || fail "stderr lacks: $1"$'\n'"$stderr"; }

@test "the three APIs: each its path, header and body, the board's size; outcome records" {
	run -0 --separate-stderr vesta-send -b lobby -b wall -b desk <<<'{"id":7,"output":"Hello World"}'
	assert_equal "${#lines[@]}" 3
	for b in lobby wall desk; do
		echo "$output" | jq -se --arg b "$b" 'map(select(.vesta.board == $b)) | length == 1 and (.[0] |
			.id == 7 and .output == "Hello World" and .vesta.outcome == "sent" and
			.vesta.attempts == 1 and .vesta.replaced == 0 and (.vesta.at | test("Z$")))' > /dev/null ||
			fail "board $b: $output"
	done
	assert_equal "$(requests 'select(.headers["x-vestaboard-read-write-key"]) | [.method, .path, .status, .headers["content-type"], (.body | length), (.body[0] | length)]')" \
		'["POST","/",200,"application/json",6,22]'
	assert_equal "$(requests 'select(.headers["x-vestaboard-token"]) | [.path, .status, (.body | keys), (.body.characters[2][5:16])]')" \
		'["/",200,["characters"],[8,5,12,12,15,0,23,15,18,12,4]]'
	assert_equal "$(requests 'select(.headers["x-vestaboard-local-api-key"]) | [.path, .status, (.body | length), (.body[0] | length)]')" \
		'["/local-api/message",201,3,15]'
}

@test "pacing: one message per board per interval; the newest replaces the one waiting, counted" {
	run -0 --separate-stderr vesta-send -b lobby --interval 1 < <(printf 'one\ntwo\nthree\nfour\n')
	assert_equal "$(echo "$output" | jq -c '[.input, .vesta.outcome, .vesta.replaced]')" \
		'["two","replaced",null]
["three","replaced",null]
["one","sent",0]
["four","sent",2]'
	assert_equal "$(requests 'select(.status == 200) | .body[2] | map(select(. > 0)) | length')" '3
4'
	# the second went out a whole interval after the first
	run -0 jq -s -e '(.[1].t - .[0].t) >= 1' "$T/log"
}

@test "a message to a board idle for longer than the interval goes at once" {
	{ echo one; sleep 1; echo two; } | vesta-send -b lobby --interval 0.5 > out
	assert_equal "$(jq -c '[.input, .vesta.outcome]' out)" '["one","sent"]
["two","sent"]'
	run -0 jq -s -e '(.[1].t - .[0].t) < 1.4' "$T/log"
}

@test "a duplicate-message answer (409 fingerprint) is delivered" {
	run -0 vesta-send -b lobby -b wall --interval 0 < <(printf 'same\nsame\n')
	assert_equal "$(echo "$output" | jq -c '[.vesta.board, .vesta.outcome, .vesta.duplicate]' | sort)" \
		'["lobby","sent",null]
["lobby","sent",true]
["wall","sent",null]
["wall","sent",true]'
	assert_equal "$(requests '.status' | sort | uniq -c | awk '{print $1 "x" $2}' | paste -sd' ')" '2x200 2x409'
}

@test "429 with Retry-After: waits that long, then sends" {
	printf '429 1\n' > faults
	run -0 vesta-send -b lobby --interval 0 <<<'hi'
	assert_equal "$(echo "$output" | jq -c '[.vesta.outcome, .vesta.attempts]')" '["sent",2]'
	assert_equal "$(requests '.status' | paste -sd' ')" '429 200'
	run -0 jq -s -e '(.[1].t - .[0].t) >= 0.95' "$T/log"
}

@test "503 backs off and tries again; a newer message waiting replaces the refused one" {
	printf '503\n' > faults
	{ echo first; sleep 0.3; echo second; } | vesta-send -b lobby --interval 0 > out
	assert_equal "$(jq -c '[.input, .vesta.outcome, .vesta.replaced, .vesta.attempts]' out)" \
		'["first","replaced",null,null]
["second","sent",1,1]'
	assert_equal "$(requests '.status' | paste -sd' ')" '503 200'
	run -0 jq -s -e '(.[1].t - .[0].t) >= 0.95' "$T/log"
}

@test "a board busy too often: failed after --attempts, with its kind" {
	printf '503 0\n503 0\n' > faults
	run -1 --separate-stderr vesta-send -b lobby --attempts 2 --interval 0 <<<'hi'
	assert_equal "$(echo "$output" | jq -c '[.vesta.outcome, .vesta.error.kind, .vesta.status, .vesta.attempts]')" \
		'["failed","http_5xx",503,2]'
}

@test "401: failed, the stream goes on, exit 1; the key never shows" {
	printf '401\n' > faults
	run -1 --separate-stderr vesta-send -v -b lobby --interval 0 < <(printf 'one\ntwo\n')
	assert_equal "$(echo "$output" | jq -c '[.input, .vesta.outcome, .vesta.error.kind, .vesta.status]')" \
		'["one","failed","http_4xx",401]
["two","sent",null,null]'
	refute_output --partial sekrit
	[[ "$stderr" != *sekrit* ]]
}

@test "a wrong key is refused by the board: failed http_4xx, the key not quoted" {
	export LOBBY_KEY=wrong-key-5678
	run -1 --separate-stderr vesta-send -b lobby <<<'hi'
	assert_equal "$(echo "$output" | jq -r '.vesta.error.message')" 'HTTP 401: {"status": "error", "message": "Unauthorized"}'
	refute_output --partial wrong-key
}

@test "a board that never answers: failed timeout after --timeout" {
	printf 'hang\n' > faults
	SECONDS=0
	run -1 --separate-stderr vesta-send -b lobby --timeout 0.5 --interval 0 < <(printf 'one\ntwo\n')
	assert_equal "$(echo "$output" | jq -c '[.input, .vesta.outcome, .vesta.error.kind]')" \
		'["one","failed","timeout"]
["two","sent",null]'
	[ "$SECONDS" -lt 10 ]
}

@test "an answer that is not HTTP: a connection failure, tried again" {
	printf 'garbage\n' > faults
	run -0 --separate-stderr vesta-send -b lobby --interval 0 <<<'hi'
	assert_equal "$(echo "$output" | jq -c '[.vesta.outcome, .vesta.attempts]')" '["sent",2]'
}

@test "a redirect is not followed: the key never reaches another host" {
	fake-vestaboard "$T/port2" "$T/log2" &
	wait_for test -s "$T/port2"
	printf 'redirect http://127.0.0.1:%s/\n' "$(cat "$T/port2")" > faults
	run -1 --separate-stderr vesta-send -b lobby --attempts 1 <<<'hi'
	assert_equal "$(echo "$output" | jq -r '.vesta.outcome')" failed
	[ ! -s "$T/log2" ] || fail "the redirect was followed: $(cat "$T/log2")"
}

@test "keys: from the 0600 keys file; a keys file others can read is refused; none is no_key" {
	unset LOBBY_KEY
	printf 'LOBBY_KEY=sekrit-key-1234\n' > "$T/config/panic/keys"
	chmod 600 "$T/config/panic/keys"
	run -0 vesta-send -b lobby <<<'hi'
	assert_equal "$(echo "$output" | jq -r .vesta.outcome)" sent
	chmod 644 "$T/config/panic/keys"
	run -1 vesta-send -b lobby <<<'hi'
	assert_equal "$(echo "$output" | jq -c '[.vesta.error.kind, (.vesta.error.message | test("readable by others"))]')" '["no_key",true]'
	rm "$T/config/panic/keys"
	run -1 vesta-send -b lobby <<<'hi'
	assert_equal "$(echo "$output" | jq -c '[.vesta.error.kind, (.vesta.error.message | test("set LOBBY_KEY"))]')" '["no_key",true]'
}

@test "keys never in the state file, the events, or stderr" {
	sub_bg events 'vesta:*'
	run -0 --separate-stderr vesta-send -vv -b lobby -b wall <<<'hi'
	wait_for lines_at_least events 2
	run -1 grep -r sekrit events "$T/state"
	[[ "$stderr" != *sekrit* ]]
}

@test "every outcome is a bus event on vesta:BOARD with the record's links" {
	sub_bg events 'vesta:*'
	printf '401\n' > faults
	vesta-send -b lobby --interval 0.2 < <(printf '%s\n' '{"output":"a","run_id":"r1","seq":3}' '{"output":"b"}' '{"output":"c"}') > out || true
	wait_for lines_at_least events 3
	assert_equal "$(jq -c '[.topic, .data.outcome, .data.error.kind, .data.run_id, .data.seq]' events)" \
		'["vesta:lobby","replaced",null,null,null]
["vesta:lobby","failed","http_4xx","r1",3]
["vesta:lobby","sent",null,null,null]'
}

@test "config: a key in the file, an unknown board, a bad API, plain http to a remote host" {
	cp "$T/config/panic/vesta.json" good.json
	echo '{"boards": {"x": {"api": "rw", "key": "sekrit"}}}' > "$T/config/panic/vesta.json"
	run -3 vesta-send -b x <<<'hi'
	assert_output --partial 'a key does not go in this file'
	refute_output --partial sekrit
	run -3 vesta-send --config good.json -b nosuch <<<'hi'
	assert_output "vesta-send: no board named 'nosuch' in good.json"
	echo '{"boards": {"x": {"api": "telnet"}}}' > bad.json
	run -3 vesta-send --config bad.json -b x <<<'hi'
	assert_output --partial 'api: expected rw, cloud or local'
	echo '{"boards": {"x": {"api": "rw", "base_url": "http://example.com/"}}}' > remote.json
	run -3 vesta-send --config remote.json -b x <<<'hi'
	assert_output 'vesta-send: board x: the key would go over plain http to http://example.com/; use https (or allow_http)'
	echo '{"boards": {"x": {"api": "rw", "base_url": "file:///etc/passwd"}}}' > file.json
	run -3 vesta-send --config file.json -b x <<<'hi'
	assert_output "vesta-send: board x: base_url: 'file:///etc/passwd' is not an http:// or https:// address"
	for name in '../x' 'a b' '' '.hidden' 'vesta:*' "$(printf 'x%.0s' $(seq 65))"; do
		jq -n --arg n "$name" '{boards: {($n): {api: "rw"}}}' > names.json
		run -3 vesta-send --config names.json --codes </dev/null
		assert_output --partial "a board's name is 1 to 64 letters"
	done
	echo '{"boards": ' > broken.json
	run -3 vesta-send --config broken.json -b x <<<'hi'
	assert_output --partial 'broken.json'
}

@test "a record that does not fit a board is rejected for that board only" {
	run -1 --separate-stderr vesta-send -b lobby -b desk <<<'{"characters":[[1,2,3]]}'
	assert_equal "${#lines[@]}" 0
	has 'vesta-send: stdin:1: board lobby: characters: 1x3 for a 6x22 board'
	has 'vesta-send: stdin:1: board desk: characters: 1x3 for a 3x15 board'
	run -0 --separate-stderr vesta-send -b desk <<<'{"vbml":{"components":[{"template":"note"}]}}'
	assert_equal "$(requests '.body | length')" 3
}

@test "a closed reader ends the work quietly; so does SIGTERM while waiting" {
	run -0 bash -c 'seq 1 50 | vesta-send -b lobby --interval 5 | head -1'
	assert_output --partial '"outcome":"replaced"'
	vesta-send -b lobby --interval 30 < <(echo one; echo two; sleep 30) > out 2> err &
	pid=$!
	wait_for test -s "$T/log"
	sleep 0.2
	kill -TERM $pid
	SECONDS=0
	wait $pid || true
	[ "$SECONDS" -lt 5 ]
	assert_equal "$(jq -c '[.input, .vesta.outcome]' out)" '["one","sent"]'
}
