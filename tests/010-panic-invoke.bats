#!/usr/bin/env bats
# panic-invoke: the dummy models, records, the call log, the exec platform,
# and bad input.

bats_require_minimum_version 1.5.0
load helper

@test "dummy-t2t reverses ASCII and adds the prefix" {
	run --separate-stderr panic-invoke -m dummy-t2t <<<'hello world'
	assert_success
	assert_equal "$(echo "$output" | field output)" "DUMMY_TEXT: dlrow olleh"
	assert_equal "$(echo "$output" | field state)" "completed"
	assert_equal "$stderr" ""
}

@test "every dummy model gives PANIC!'s output for an ASCII input" {
	in='A cat, at sea.'
	h=$(md5 "$in")
	expect() {
		run --separate-stderr panic-invoke -m "$1" --no-log <<<"$in"
		assert_success
		assert_equal "$(echo "$output" | jq -r '[.model, .output_type, .output] | join(" ")')" "$1 $2 $3"
	}
	expect dummy-t2t text "DUMMY_TEXT: .aes ta ,tac A"
	expect dummy-t2i image "https://dummy-images.test/$h.png"
	expect dummy-t2a audio "https://dummy-audio.test/$h.ogg"
	expect dummy-i2t text "DUMMY_CAPTION: A descriptive caption for image ${h:0:8}"
	expect dummy-i2i image "https://dummy-images.test/transformed_$(md5 "${in}_transformed").png"
	expect dummy-i2a audio "https://dummy-audio.test/from_image_$(md5 "${in}_audio").ogg"
	expect dummy-a2t text "DUMMY_TRANSCRIPT: Audio content from ${h:0:8}"
	expect dummy-a2i image "https://dummy-images.test/from_audio_$(md5 "${in}_image").png"
	expect dummy-a2a audio "https://dummy-audio.test/transformed_$(md5 "${in}_transformed").ogg"
}

@test "dummy-i2t names the hash of a dummy image URL" {
	run panic-invoke -m dummy-i2t --no-log <<<'https://dummy-images.test/0123abcd.png'
	assert_success
	assert_equal "$(echo "$output" | field output)" "DUMMY_CAPTION: Image with hash 0123abcd"
}

@test "dummy models on multi-byte UTF-8: accents, CJK, emoji, flags stay whole" {
	check() {
		run --separate-stderr panic-invoke -m dummy-t2t --no-log < <(jq -cn --arg s "$1" '{input: $s}')
		assert_success
		assert_equal "$(echo "$output" | field output)" "DUMMY_TEXT: $2"
	}
	check 'héllo wörld' 'dlröw olléh'
	check '日本語のテキスト' 'トスキテの語本日'
	check 'ok 👍🏽 go' 'og 👍🏽 ko'
	check '🇦🇺🇳🇿!' '!🇳🇿🇦🇺'
	check $'e\u0301a' $'ae\u0301'
	check '👨‍👩‍👧 x' 'x 👨‍👩‍👧'
	check 'a𝄞b' 'b𝄞a'
	# the URL models hash the UTF-8 bytes
	run panic-invoke -m dummy-t2i --no-log <<<'日本'
	assert_equal "$(echo "$output" | field output)" "https://dummy-images.test/$(md5 '日本').png"
	# every output is valid UTF-8 that jq reads back unchanged
	printf '%s\n' 'ça' '中文' '🙂🙃' | panic-invoke -m dummy-t2t --no-log | jq -e . >/dev/null
}

@test "fields of the record pass through untouched, in order, big numbers exact" {
	run --separate-stderr panic-invoke -m dummy-t2t --no-log \
		<<<'{"id":12345678901234567890,"tags":["a",{"b":null}],"input":"hi","x":1.5e300}'
	assert_success
	assert_output --partial '{"id":12345678901234567890,"tags":["a",{"b":null}],"input":"hi","x":1.5e300,"model":"dummy-t2t","output":"DUMMY_TEXT: ih","output_type":"text","state":"completed","error":null,"duration_ms":'
	assert_equal "$(echo "$output" | jq -r 'keys_unsorted | join(",")')" \
		"id,tags,input,x,model,output,output_type,state,error,duration_ms,started_at,usage,cost,call_id"
}

@test "strings decode as jq decodes them: escapes, surrogate pairs, NUL, long ones" {
	long=$(printf 'x%.0s' $(seq 700))
	{
		echo '{"input":"a\u00e9\ud83d\ude00 \"q\"\t\/ \\ \u0000z","n":[1,{"b":[true,null]}],"f":-0.5e-3}'
		echo "{\"input\":\"$long\\n$long\"}"
		echo '{"input":"plain \u263a string"}'
		echo '{"input":"\uD834\uDD1E \b\f\r"}'
	} > lines
	run --separate-stderr panic-invoke --no-log -- cat < lines
	assert_success
	assert_equal "$(echo "$output" | jq -c .output)" "$(jq -c .input lines)"
	assert_equal "$(echo "$output" | head -1 | jq -c '[.n, .f]')" '[[1,{"b":[true,null]}],-0.0005]'
}

@test "records come out compact, and a second stage replaces its own fields" {
	run --separate-stderr bash -c "printf '%s\n' '{ \"input\" : \"a b\" ,  \"k\" : [ 1, 2 ] }' |
		panic-invoke -m dummy-t2i --no-log | panic-invoke -m dummy-i2t --from output --no-log"
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_equal "$(echo "$output" | jq -c '[.input, .k, .model, .output_type]')" '["a b",[1,2],"dummy-i2t","text"]'
	assert_equal "$(echo "$output" | jq -r '.output')" "DUMMY_CAPTION: Image with hash $(md5 'a b')"
	# one "model" key, not two
	assert_equal "$(echo "$output" | grep -o '"model"' | wc -l)" 1
	refute_output --partial ' : '
}

@test "plain text lines become {input: LINE}, CR dropped; blank lines are skipped" {
	run --separate-stderr panic-invoke -m dummy-t2t --no-log < <(printf 'plain words\n\n  \n"a json string"\r\n42 apples\ntrue story\n')
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.input, .output]' | paste -sd' ')" \
		'["plain words","DUMMY_TEXT: sdrow nialp"] ["\"a json string\"","DUMMY_TEXT: \"gnirts nosj a\""] ["42 apples","DUMMY_TEXT: selppa 24"] ["true story","DUMMY_TEXT: yrots eurt"]'
}

@test "a line that is not a JSON object is a prompt: quotes, brackets, braces, numbers, null, booleans" {
	printf '%s\n' '"Hello," she said' '[citation needed] a cat' '{draft} x' '1984' 'null' 'false' '"quoted"' '[1, 2]' '  indented' '{ draft }' > in
	run --separate-stderr panic-invoke -m dummy-t2t --no-log < in
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(echo "$output" | jq -r .input)" "$(cat in)"
	run --separate-stderr bash -c 'seq 3 | panic-invoke -m dummy-t2t --no-log | jq -r .output'
	assert_success
	assert_equal "$output" "$(printf 'DUMMY_TEXT: %s\n' 1 2 3)"
}

@test "-R takes every line as text; --json takes only objects" {
	printf '%s\n' '{"input":"x"}' '42' '{"input": "cut' > in
	run --separate-stderr panic-invoke -m dummy-t2t --no-log -R < in
	assert_success
	assert_equal "$(echo "$output" | jq -r .input)" "$(cat in)"
	run --separate-stderr panic-invoke -m dummy-t2t --no-log --raw-input < in
	assert_success
	run --separate-stderr panic-invoke -m dummy-t2t --no-log --json < in
	assert_failure 1
	assert_equal "$(echo "$output" | jq -r .input)" x
	assert_equal "$stderr" "panic-invoke: stdin:2: expected an object, got a number
panic-invoke: stdin:3: invalid JSON: Unfinished string at EOF at line 1, column 14"
}

@test "the model comes from -m, else from the record; -m wins" {
	run --separate-stderr panic-invoke --no-log < <(printf '%s\n' '{"model":"dummy-t2i","input":"x"}' '{"model":"dummy-t2t","input":"x"}')
	assert_success
	assert_equal "$(echo "$output" | jq -r .model | paste -sd,)" "dummy-t2i,dummy-t2t"
	run panic-invoke -m dummy-t2a --no-log <<<'{"model":"dummy-t2i","input":"x"}'
	assert_equal "$(echo "$output" | jq -r .model)" "dummy-t2a"
}

@test "--list prints the catalogue as NDJSON off a terminal, ids with -q" {
	run --separate-stderr panic-invoke --list
	assert_success
	assert_equal "${#lines[@]}" "$(jq length "$TOP/share/panic/models.json")"
	assert_line --index 0 '{"id":"dummy-t2t","name":"Dummy Text-to-Text","platform":"dummy","input":"text","output":"text"}'
	assert_line --index 8 '{"id":"dummy-a2a","name":"Dummy Audio-to-Audio","platform":"dummy","input":"audio","output":"audio"}'
	assert_line '{"id":"flux-schnell","name":"FLUX.1 [schnell]","platform":"replicate","input":"text","output":"image","price":{"call":0.003}}'
	run panic-invoke --list -q
	assert_equal "$(echo "$output" | head -9 | paste -sd' ')" \
		"dummy-t2t dummy-t2i dummy-t2a dummy-i2t dummy-i2i dummy-i2a dummy-a2t dummy-a2i dummy-a2a"
	assert_equal "$output" "$(jq -r '.[].id' "$TOP/share/panic/models.json")"
	run panic-invoke --list --table
	assert_line --index 0 --regexp '^ID +PLATFORM +TYPES +PRICE \(US\$\) +NAME$'
	assert_line --index 1 --regexp '^dummy-t2t +dummy +text -> text +- +Dummy Text-to-Text$'
	assert_line --regexp '^flux-schnell +replicate +text -> image +\$0\.003/call +FLUX\.1 \[schnell\]$'
	assert_line --regexp '^gpt-5-chat +openai +text -> text +\$1\.25/\$10 per Mtok +GPT-5 Chat$'
}

@test "every call is a row in calls, committed, with the record's links" {
	printf '%s\n' '{"input":"one","run_id":"r1","network":"n1"}' two | panic-invoke -m dummy-t2t > out
	assert_equal "$(sql "select model, platform, input_type, output_type, prompt, response, state, run_id, network, error_kind is null from calls order by id")" \
"dummy-t2t|dummy|text|text|one|DUMMY_TEXT: eno|completed|r1|n1|1
dummy-t2t|dummy|text|text|two|DUMMY_TEXT: owt|completed|||1"
	# the row's id is the record's call_id, a UUIDv7
	assert_equal "$(sql "select id from calls order by id" | paste -sd,)" "$(jq -r .call_id out | paste -sd,)"
	[[ $(jq -r .call_id out | head -1) =~ ^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]]
	# the state file is private
	assert_equal "$(stat -c %a "$PANIC_DB")" 600
	assert_equal "$(stat -c %a "$(dirname "$PANIC_DB")")" 700
	assert_equal "$(sql 'pragma journal_mode')" wal
}

@test "--no-log writes no state file" {
	echo hi | panic-invoke -m dummy-t2t --no-log >/dev/null
	[ ! -e "$PANIC_DB" ]
}

@test "failure injection: the first N calls fail, then calls succeed; failures are rows too" {
	export PANIC_DUMMY_FAIL_FIRST=2
	run --separate-stderr panic-invoke -m dummy-t2t < <(printf '%s\n' a b c)
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c '[.input, .state, .error.kind, .output]' | paste -sd' ')" \
		'["a","failed","injected",null] ["b","failed","injected",null] ["c","completed",null,"DUMMY_TEXT: c"]'
	assert_equal "$(echo "$stderr" | head -1)" "panic-invoke: dummy-t2t: dummy: injected failure (call 1 of the first 2)"
	assert_equal "$(sql "select state, error_kind from calls order by id" | paste -sd' ')" \
		"failed|injected failed|injected completed|"
}

@test "failure injection by input match and always, from the environment" {
	PANIC_DUMMY_FAIL_MATCH=BOOM run --separate-stderr panic-invoke -m dummy-t2t --no-log < <(printf '%s\n' ok 'a BOOM b' ok)
	assert_failure 1
	assert_equal "$(echo "$output" | jq -r .state | paste -sd' ')" "completed failed completed"
	PANIC_DUMMY_FAIL=1 run --separate-stderr panic-invoke -m dummy-t2t --no-log -q <<<'x'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -r .error.message)" "dummy: injected failure (every call fails)"
	assert_equal "$stderr" ""
}

@test "a record failed upstream goes through the next call untouched, in its place; with its input it is called again" {
	PANIC_DUMMY_FAIL_MATCH=BOOM panic-invoke -m dummy-t2t -q < <(printf '%s\n' ok 'a BOOM b' ok2) > first.ndjson || true
	run --separate-stderr panic-invoke -m dummy-t2i --from output < first.ndjson
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(echo "$output" | jq -c '[.input, .model, .state, .output_type]' | paste -sd' ')" \
		'["ok","dummy-t2i","completed","image"] ["a BOOM b","dummy-t2t","failed","text"] ["ok2","dummy-t2i","completed","image"]'
	assert_equal "$(echo "$output" | sed -n 2p)" "$(sed -n 2p first.ndjson)"
	assert_equal "$(sql "select count(*) from calls where model = 'dummy-t2i'")" 2
	# the failed record still holds its input: run again, it is retried
	run --separate-stderr panic-invoke -m dummy-t2t --no-log < <(jq -c 'select(.state == "failed")' first.ndjson)
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.state, .output]')" '["completed","DUMMY_TEXT: b MOOB a"]'
}

@test "a user catalogue adds and overrides models, with failure settings per entry" {
	mkdir -p config/panic
	cat > config/panic/models.json <<'JSON'
[{"id":"flaky","name":"Flaky","platform":"dummy","input":"text","output":"image","fail_first":1},
 {"id":"dummy-t2t","name":"Mine","platform":"dummy","input":"text","output":"audio"}]
JSON
	run --separate-stderr panic-invoke --list
	assert_line --index 0 '{"id":"dummy-t2t","name":"Mine","platform":"dummy","input":"text","output":"audio"}'
	assert_line --index "$(jq length "$TOP/share/panic/models.json")" '{"id":"flaky","name":"Flaky","platform":"dummy","input":"text","output":"image"}'
	run --separate-stderr panic-invoke -m flaky --no-log < <(printf '%s\n' a b)
	assert_equal "$(echo "$output" | jq -r .state | paste -sd' ')" "failed completed"
	assert_equal "$(echo "$output" | jq -r .output | tail -1)" "https://dummy-images.test/$(md5 b).png"
}

@test "a bad catalogue is a configuration error naming the file and the entry" {
	bad() {
		printf '%s\n' "$1" > models.json
		PANIC_MODELS=$T/models.json run --separate-stderr panic-invoke -m dummy-t2t --no-log <<<x
		assert_failure 3
		assert_equal "$output" ""
		assert_equal "$stderr" "panic-invoke: $T/models.json: $2"
	}
	bad '[{"id":"m","platform":"nope","input":"text","output":"text"}]' "entry 1 (m): unknown platform 'nope'"
	bad '[{"id":"m","platform":"dummy","input":"video","output":"text"}]' "entry 1 (m): \"input\": unknown type 'video' (text, image or audio)"
	bad '[{"platform":"dummy","input":"text","output":"text"}]' 'entry 1: "id" must be a non-empty string without spaces'
	bad '[{"id":"e","platform":"exec","input":"text","output":"text","command":"rev"}]' 'entry 1 (e): "command" must be a non-empty array of strings'
	bad '{"id":' 'Unfinished JSON term at EOF at line 2, column 0'
	PANIC_MODELS=$T/none.json run --separate-stderr panic-invoke --list
	assert_failure 3
	assert_equal "$stderr" "panic-invoke: $T/none.json: Could not open $T/none.json: No such file or directory"
}

@test "exec: the program gets its argv untouched and the input on stdin" {
	run --separate-stderr panic-invoke --no-log -- show-argv 'two words' "it's" '"quoted"' '$HOME' '*' '' <<<'{"input":"line one\nline two"}'
	assert_success
	assert_equal "$(echo "$output" | jq -r .output)" "<two words>
<it's>
<\"quoted\">
<\$HOME>
<*>
<>
line one
line two"
	assert_equal "$(echo "$output" | jq -r .model)" "exec:show-argv"
}

@test "exec: a catalogue entry runs its command with PANIC_* in the environment" {
	printf '%s\n' '[{"id":"env","platform":"exec","input":"text","output":"image","command":["sh","-c","echo \"$PANIC_MODEL $PANIC_INPUT_TYPE $PANIC_OUTPUT_TYPE $(cat)\""]}]' > models.json
	PANIC_MODELS=$T/models.json run --separate-stderr panic-invoke -m env --no-log <<<'hi'
	assert_success
	assert_equal "$(echo "$output" | jq -r '[.output, .output_type] | join("|")')" "env text image hi|image"
}

@test "exec: a failing program gives a failed record with its last stderr line" {
	run --separate-stderr panic-invoke -- sh -c 'echo partial; echo "first" >&2; echo "it broke" >&2; exit 3' < <(printf '%s\n' a b)
	assert_failure 1
	assert_equal "${#lines[@]}" 2
	assert_equal "$(echo "$output" | jq -c '[.state, .output, .error]' | head -1)" \
		'["failed",null,{"kind":"exit","message":"exec:sh: exited with status 3: it broke"}]'
	assert_equal "$(sql "select count(*), min(error_kind) from calls")" "2|exit"
	# a program that is not there
	run --separate-stderr panic-invoke --no-log -- /no/such/program <<<x
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c '.error')" '{"kind":"spawn","message":"/no/such/program: No such file or directory"}'
}

@test "exec: a hanging program is killed at its timeout, with its children" {
	start=$(date +%s%N)
	run --separate-stderr panic-invoke --no-log --timeout 0.5 -- sh -c 'sleep 37.5; echo late' < <(printf '%s\n' a b)
	took=$(( ($(date +%s%N) - start) / 1000000 ))
	assert_failure 1
	assert_equal "$(echo "$output" | jq -r '.error.kind' | paste -sd' ')" "timeout timeout"
	[ "$took" -lt 5000 ]
	run pgrep -f 'sleep 37.5'
	assert_failure
}

@test "exec: output that is not UTF-8 fails as bad_response; trailing newlines are dropped" {
	run --separate-stderr panic-invoke --no-log -- printf 'ab\377\n' <<<x
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c .error)" '{"kind":"bad_response","message":"exec:printf: output is not UTF-8 (byte 3)"}'
	run --separate-stderr panic-invoke --no-log -- printf 'a\n\nb\n\n\n' <<<x
	assert_success
	assert_equal "$(echo "$output" | jq -c .output)" '"a\n\nb"'
}

@test "-j keeps records in input order while calls run together" {
	printf '{"input":"%s"}\n' 0.6 0.1 0.4 0.2 > in
	# together, not one after another: each call waits until all four have
	# started (a barrier, so no clock is involved), then sleeps its input,
	# so they finish out of order
	run --separate-stderr panic-invoke -j 4 --no-log -- sh -c '
		d=$(cat); echo x >> "$0"
		for i in $(seq 200); do [ "$(wc -l < "$0")" -ge 4 ] && break; sleep 0.05; done
		[ "$(wc -l < "$0")" -ge 4 ] || exit 1
		sleep "$d"; echo done' "$T/starts" < in
	assert_success
	assert_equal "$(echo "$output" | jq -r '[.input, .state] | join(":")' | paste -sd' ')" \
		"0.6:completed 0.1:completed 0.4:completed 0.2:completed"
	PANIC_DUMMY_DELAY_MS=100 run --separate-stderr panic-invoke -m dummy-t2t -j 8 --no-log < <(seq -f 'n%g' 1 8)
	assert_success
	assert_equal "$(echo "$output" | jq -r .input | paste -sd' ')" "n1 n2 n3 n4 n5 n6 n7 n8"
}

@test "output is flushed, and its calls committed, when input would block" {
	mkfifo in
	panic-invoke -m dummy-t2t < in > out 2>err &
	pid=$!
	exec {w}>in
	echo first >&"$w"
	wait_for grep -q '"input":"first"' out
	assert_equal "$(sql 'select prompt from calls')" "first"
	echo second >&"$w"
	wait_for grep -q '"input":"second"' out
	exec {w}>&-
	wait "$pid"
	assert_equal "$(wc -l < out)" 2
}

@test "a closed stdout ends the work: no more calls, the rest logged, quietly" {
	seq -f 'line %g' 1 200000 > in
	run --separate-stderr bash -c 'panic-invoke -m dummy-t2t < in | head -n 1; echo "status ${PIPESTATUS[0]}" >&2'
	assert_success
	assert_equal "$stderr" "status 0"
	assert_equal "$(echo "$output" | jq -r .input)" "line 1"
	# it stopped reading soon after the reader went: a buffer's worth of
	# records at most, not 200,000; what it called is logged
	calls=$(sql 'select count(*) from calls')
	[ "$calls" -ge 1 ] && [ "$calls" -lt 5000 ] || fail "$calls calls"
	# a program model: in-flight children are killed, their rows cancelled
	rm -f "$PANIC_DB"*
	run --separate-stderr bash -c '{ echo fast; seq -f "slow %g" 50; } |
		panic-invoke -j 4 -- sh -c '\''read x; case $x in slow*) exec sleep 41.1;; esac; echo "$x"'\'' | head -n 1'
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(echo "$output" | jq -r .output)" fast
	assert_equal "$(sql "select state, count(*) from calls group by 1 order by 1" | paste -sd' ')" "cancelled|4 completed|1"
	run pgrep -f '^sleep 41.1'
	assert_failure
}

sleepers() { [ "$(pgrep -c -f '^sleep 41.2')" = "$1" ]; }

@test "SIGINT and SIGTERM: children killed, calls cancelled and logged, records out" {
	mkfifo in
	panic-invoke -j 3 -- sh -c 'exec sleep 41.2' < in > out 2> err &
	pid=$!
	exec {w}>in
	printf '%s\n' one two three >&"$w"
	wait_for sleepers 3
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	exec {w}>&-
	assert_equal "$status" 130 # died by SIGINT, so a shell stops its script
	assert_equal "$(pgrep -c -f '^sleep 41.2')" 0
	assert_equal "$(sql "select state, error_kind, count(*) from calls group by 1, 2")" "cancelled|cancelled|3"
	assert_equal "$(jq -c '[.input, .state, .error.kind]' out | paste -sd' ')" \
		'["one","failed","cancelled"] ["two","failed","cancelled"] ["three","failed","cancelled"]'
	assert_equal "$(cat err)" ""
	# SIGTERM: the same, and a plain exit
	rm -f "$PANIC_DB"* out
	panic-invoke -- sh -c 'exec sleep 41.2' < in > out 2> err &
	pid=$!
	exec {w}>in
	echo four >&"$w"
	wait_for sleepers 1
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	exec {w}>&-
	assert_equal "$status" 0
	assert_equal "$(pgrep -c -f '^sleep 41.2')" 0
	assert_equal "$(sql "select state from calls")" cancelled
}

# Bad input: each case is LINE, then the stderr line expected for it. The
# good lines around it must come out, and the exit status must be 1.
bad_input() {
	local line=$1 why=$2
	rm -f "$PANIC_DB" "$PANIC_DB-wal" "$PANIC_DB-shm"
	{ echo '{"input":"before"}'; printf '%s\n' "$line"; echo '{"input":"after"}'; } > in
	run --separate-stderr panic-invoke -m dummy-t2t < in
	assert_failure 1
	assert_equal "$stderr" "panic-invoke: stdin:2: $why"
	assert_equal "$(echo "$output" | jq -r .input | paste -sd' ')" "before after"
	assert_equal "$(sql 'select count(*) from calls')" 2
}

@test "bad input: invalid JSON" {
	bad_input '{"input": "x"' 'invalid JSON: Unfinished JSON term at EOF at line 1, column 13'
	bad_input '{"input": x}' 'invalid JSON: Invalid numeric literal at line 1, column 12'
	bad_input '{' 'invalid JSON: Unfinished JSON term at EOF at line 1, column 1'
	bad_input '{ "input" }' 'invalid JSON: Objects must consist of key:value pairs at line 1, column 11'
	bad_input '{"a":1} {"b":2}' 'invalid JSON: Unexpected extra JSON values'
}


@test "bad input: missing or mistyped input, no model, unknown model" {
	bad_input '{"prompt":"x"}' 'missing "input"'
	bad_input '{"input":["x"]}' '"input" must be a string, got array'
	bad_input '{"input":null}' '"input" must be a string, got null'
	{ echo '{"model":"dummy-t2t","input":"before"}'; echo '{"model":"nope","input":"x"}'; echo '{"input":"x"}'; echo '{"model":"dummy-t2t","input":"after"}'; } > in
	run --separate-stderr panic-invoke < in
	assert_failure 1
	assert_equal "$stderr" "panic-invoke: stdin:2: unknown model 'nope' (see panic-invoke --list)
panic-invoke: stdin:3: no model: give -m or a \"model\" field"
	assert_equal "$(echo "$output" | jq -r .input | paste -sd' ')" "before after"
}

@test "bad input: NUL bytes and invalid UTF-8" {
	{ echo before; printf 'a\0b\n'; printf '{"input":"caf\xe9"}\n'; printf '\xc0\xafx\n'; printf 'ok \xed\xa0\x80\n'; echo after; } > in
	run --separate-stderr panic-invoke -m dummy-t2t < in
	assert_failure 1
	assert_equal "$stderr" "panic-invoke: stdin:2: NUL at byte 2
panic-invoke: stdin:3: invalid UTF-8 at byte 14
panic-invoke: stdin:4: invalid UTF-8 at byte 1
panic-invoke: stdin:5: invalid UTF-8 at byte 4"
	assert_equal "$(echo "$output" | jq -r .input | paste -sd' ')" "before after"
}

@test "bad input: a 10 MB line is refused without stopping the stream" {
	{ echo before; head -c 10000000 /dev/zero | tr '\0' a; echo; echo after; } > in
	run --separate-stderr panic-invoke -m dummy-t2t < in
	assert_failure 1
	assert_equal "$stderr" "panic-invoke: stdin:2: line too long (more than 4194304 bytes)"
	assert_equal "$(echo "$output" | jq -r .input | paste -sd' ')" "before after"
	# the limit is an option
	run --separate-stderr panic-invoke -m dummy-t2t --no-log --max-line 16 < <(printf '%s\n' short 'a line of more than sixteen bytes' end)
	assert_failure 1
	assert_equal "$stderr" "panic-invoke: stdin:2: line too long (33 bytes, the limit is 16)"
	assert_equal "$(echo "$output" | jq -r .input | paste -sd' ')" "short end"
}

@test "an unknown model given with -m is a configuration error before any input" {
	run --separate-stderr panic-invoke -m nope <<<x
	assert_failure 3
	assert_equal "$stderr" "panic-invoke: unknown model 'nope' (see panic-invoke --list)"
	[ ! -e "$PANIC_DB" ]
}

@test "usage errors exit 2; --help and --version exit 0" {
	run --separate-stderr panic-invoke -j 0 <<<x
	assert_failure 2
	assert_equal "$stderr" "panic-invoke: -j: expected a whole number from 1 to 4096, got '0'
Try 'panic-invoke --help'."
	run --separate-stderr panic-invoke --bogus
	assert_failure 2
	run --separate-stderr panic-invoke -m dummy-t2t -- rev
	assert_failure 2
	assert_equal "$(echo "$stderr" | head -1)" "panic-invoke: -m and a program after -- are two models: give one"
	run --separate-stderr panic-invoke stray
	assert_failure 2
	run --separate-stderr panic-invoke --help
	assert_success
	assert_line --index 0 --partial 'usage: panic-invoke'
	run --separate-stderr panic-invoke --version
	assert_success
	assert_output --regexp '^panic-invoke [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "a state file from a newer version is a state error" {
	panic-invoke -m dummy-t2t <<<x > /dev/null
	current=$(sql 'pragma user_version')
	[ "$current" -ge 3 ]
	sqlite3 "$PANIC_DB" 'pragma user_version = 999'
	run --separate-stderr panic-invoke -m dummy-t2t <<<x
	assert_failure 3
	assert_equal "$stderr" "panic-invoke: state: $PANIC_DB: schema version 999 is newer than this program knows ($current)"
}

@test "an older state file is migrated forward, keeping its rows" {
	mkdir -p "$(dirname "$PANIC_DB")"
	# a version 1 file: the call log only, with one call in it
	echo x | panic-invoke -m dummy-t2t --db "$T/new.db" > /dev/null
	sqlite3 "$T/new.db" '.schema calls' | sed 's/, cost REAL//' > schema1.sql
	sqlite3 "$PANIC_DB" < schema1.sql
	sqlite3 "$PANIC_DB" "insert into calls (id, model, platform, state, started_at, prompt) values ('old', 'dummy-t2t', 'dummy', 'completed', 't', 'kept'); pragma user_version = 1"
	run --separate-stderr panic-log --json
	assert_success
	assert_equal "$(echo "$output" | jq -r .input)" kept
	assert_equal "$(sql 'pragma user_version')" "$(sqlite3 "$T/new.db" 'pragma user_version')"
	assert_equal "$(sql "select count(*) from sqlite_master where name in ('networks', 'runs', 'invocations', 'bus_payloads')")" 4
}

@test "many processes log to one state file at once" {
	for i in 1 2 3 4; do
		seq -f 'p%g' 1 500 | panic-invoke -m dummy-t2t > "out$i" &
	done
	wait
	assert_equal "$(sql 'select count(*), count(distinct id) from calls')" "2000|2000"
	assert_equal "$(cat out1 out2 out3 out4 | wc -l)" 2000
}

@test "a state file that cannot be written is found before any record: exit 3, naming --no-log" {
	echo x | panic-invoke -m dummy-t2t > /dev/null
	chmod 755 "$T" "$(dirname "$PANIC_DB")"
	chmod 644 "$PANIC_DB"
	[ "$(id -u)" = 0 ] || chmod 444 "$PANIC_DB"
	run --separate-stderr as_other panic-invoke -m dummy-t2t < <(printf '%s\n' a b c)
	assert_failure 3
	assert_output ""
	assert_regex "$stderr" "^panic-invoke: state: $PANIC_DB: .* \(--no-log calls without it\)$"
	run --separate-stderr as_other panic-invoke -m dummy-t2t --no-log < <(printf '%s\n' a b c)
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_equal "$(sql 'select count(*) from calls')" 1
}

@test "ids stay unique and well formed when getrandom fails" {
	printf '#include <errno.h>\n#include <sys/types.h>\nssize_t getrandom(void *b, size_t n, unsigned f) { (void)b; (void)n; (void)f; errno = ENOSYS; return -1; }\n' > norandom.c
	cc -shared -fPIC -o norandom.so norandom.c
	seq 5000 > in
	LD_PRELOAD=$T/norandom.so ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 \
		run --separate-stderr panic-invoke -m dummy-t2t < in
	assert_success
	assert_equal "$(echo "$output" | jq -r .call_id | sort -u | wc -l)" 5000
	assert_equal "$(echo "$output" | jq -r .call_id | grep -cvE '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')" 0
	assert_equal "$(sql 'select count(distinct id) from calls')" 5000
}

@test "--list --table keeps its columns with ids longer than 24 characters" {
	echo '[{"id":"a-model-with-a-rather-long-identifier","platform":"dummy","input":"text","output":"text"}]' > models.json
	run --separate-stderr panic-invoke --models models.json --list --table
	assert_success
	# PLATFORM starts at the same column on every line
	assert_equal "$(echo "$output" | awk '{ match($0, / +/); print RSTART + RLENGTH }' | sort -u | wc -l)" 1
	# without --list it would be ignored: a usage error instead
	run --separate-stderr panic-invoke -m dummy-t2t --table <<<'x'
	assert_failure 2
	assert_equal "$(echo "$stderr" | head -1)" "panic-invoke: --table goes with --list"
	assert_equal "$output" ""
}

@test "numbers from outside never overflow: 1e300 in a record, inf and huge durations in options" {
	run --separate-stderr panic-invoke -m dummy-t2t --no-log <<<'{"model":"dummy-t2t","input":"x","n":1e300,"m":-1e300,"k":123456789012345678901234567890}'
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.n, .m, .output]')" '[1e+300,-1e+300,"DUMMY_TEXT: x"]'
	for t in inf nan -1 1e300 0; do
		run --separate-stderr panic-invoke -m dummy-t2t --timeout "$t" <<<'x'
		assert_failure 2
	done
	# a catalogue entry's numbers too
	echo '[{"id":"big","platform":"dummy","input":"text","output":"text","delay_ms":1e300,"fail_first":1e300}]' > models.json
	run --separate-stderr panic-invoke --models models.json -m big --timeout 0.2 --no-log <<<'x'
	assert_failure 1
}

@test "two stages of a pipeline on a fresh state file: neither finds it locked" {
	for i in $(seq 25); do
		rm -f "$PANIC_DB" "$PANIC_DB-wal" "$PANIC_DB-shm"
		run --separate-stderr bash -c 'echo "a cat $0" | panic-invoke -m dummy-t2i | panic-invoke -m dummy-i2t --from output' "$i"
		assert_success
		assert_equal "$stderr" ""
		assert_equal "$(sql 'select count(*) from calls')" 2
	done
}
