#!/usr/bin/env bats
# HTTP platforms against tests/bin/fake-api, a local server speaking the
# OpenAI, Replicate and Gemini wire formats: features, faults, keys.

bats_require_minimum_version 1.5.0
load helper

setup() {
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/panic-test.XXXXXX")
	export PANIC_DB=$T/state/panic.db PANIC_BUS=$T/bus
	export XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state XDG_RUNTIME_DIR=$T/run
	unset PANIC_MODELS PANIC_KEYS PANIC_PROFILES OPENAI_API_KEY REPLICATE_API_TOKEN \
		GEMINI_API_KEY FAKE_KEY
	cd "$T"
	export FAKE_KEY_FILE=$T/fake-key
	start_fake_api
}

# requests the server got whose path matches REGEX, as compact JSON
requests() { jq -c --arg re "$1" 'select(.path | test($re))' "$T/log"; }

@test "openai: a chat completion, its usage in the record and the call log" {
	run --separate-stderr panic-invoke -m openai:gpt-4o-mini <<<'{"id":7,"input":"hello there"}'
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.id, .model, .output, .output_type, .state, .error, .usage, .cost]')" \
		'[7,"openai:gpt-4o-mini","echo: hello there","text","completed",null,{"input_tokens":2,"output_tokens":3},null]'
	assert_equal "$(requests chat | jq -c '.body')" \
		'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello there"}]}'
	assert_equal "$(sql 'select model, platform, state, input_tokens, output_tokens from calls')" \
		"openai:gpt-4o-mini|openai|completed|2|3"
}

@test "one kept-alive connection serves a process's requests one after another" {
	run --separate-stderr panic-invoke -m openai:m < <(seq -f 'q%g' 5)
	assert_success
	assert_equal "$(requests chat | wc -l)" 5
	assert_equal "$(requests chat | jq -r .port | sort -u | wc -l)" 1
}

@test "openai: an image input goes in as an image_url part beside the entry's prompt" {
	echo '[{"id":"see","platform":"openai","model":"gpt-4o","input":"image","output":"text","prompt":"What is this?"}]' > models.json
	run --separate-stderr panic-invoke --models models.json -m see <<<'https://img.test/a.png'
	assert_success
	assert_equal "$(echo "$output" | field output)" "echo: What is this? https://img.test/a.png"
	assert_equal "$(requests chat | jq -c '.body.messages[0].content')" \
		'[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"https://img.test/a.png"}}]'
}

@test "openai: system prompt, temperature and max tokens reach the server" {
	run --separate-stderr panic-invoke -m openai:m --system 'be terse' --temperature 0.5 --max-tokens 20 <<<'hi'
	assert_success
	assert_equal "$(echo "$output" | field output)" "(system: be terse) echo: hi (t=0.5)"
	# max_completion_tokens, as OpenAI's reasoning models require
	assert_equal "$(requests chat | jq -c '.body | [.messages[0], .temperature, .max_completion_tokens, .max_tokens]')" \
		'[{"role":"system","content":"be terse"},0.5,20,null]'
	# a compatible server that wants max_tokens says so in its entry or profile
	echo '{"old":{"model":"openai:m","max_tokens_field":"max_tokens"}}' > profiles.json
	PANIC_PROFILES=$PWD/profiles.json run --separate-stderr panic-invoke -p old --max-tokens 7 <<<'hi'
	assert_success
	assert_equal "$(requests chat | tail -1 | jq -c '.body | [.max_tokens, .max_completion_tokens]')" '[7,null]'
	echo '[{"id":"llama","platform":"openai","input":"text","output":"text","max_tokens_field":"max_tokens"}]' > models.json
	run --separate-stderr panic-invoke --models models.json -m llama --max-tokens 9 <<<'hi'
	assert_equal "$(requests chat | tail -1 | jq -c '.body | [.max_tokens, .max_completion_tokens]')" '[9,null]'
}

@test "openai: --schema asks for json_schema output and the answer must parse" {
	run --separate-stderr panic-invoke -m openai:m --schema '{"type":"object","properties":{"echo":{"type":"string"}}}' <<<'j'
	assert_success
	assert_equal "$(echo "$output" | jq -r .output | jq -c .)" '{"echo":"j"}'
	assert_equal "$(requests chat | jq -c '.body.response_format | [.type, .json_schema.name, .json_schema.strict, .json_schema.schema.type]')" \
		'["json_schema","output",true,"object"]'
	echo '{"type":"object"}' > schema.json
	run --separate-stderr panic-invoke -m gemini:g --schema @schema.json <<<'k'
	assert_success
	assert_equal "$(requests gemini | jq -c '.body.generationConfig')" \
		'{"responseMimeType":"application/json","responseSchema":{"type":"object"}}'
	# an answer that ignores the schema fails, on either platform
	for m in openai:m gemini:g; do
		run --separate-stderr panic-invoke -m $m --schema @schema.json <<<'notjson'
		assert_failure 1
		assert_equal "$(echo "$output" | jq -c .error)" "{\"kind\":\"bad_response\",\"message\":\"$m: the answer is not the JSON asked for\"}"
	done
}

@test "openai: --stream writes deltas as they arrive, then the record; usage from the last chunk" {
	run --separate-stderr panic-invoke -m openai:m --stream <<<'stream this text'
	assert_success
	deltas=$(echo "$output" | jq -j 'select(has("delta")) | .delta')
	final=$(echo "$output" | jq -r 'select(has("output")) | .output')
	assert_equal "$deltas" "echo: stream this text"
	assert_equal "$final" "echo: stream this text"
	assert_equal "$(echo "$output" | jq -c 'select(has("delta"))' | head -1 | jq -c 'keys')" '["call_id","delta","model"]'
	assert_equal "$(echo "$output" | jq -r 'select(has("delta")) | .call_id' | sort -u)" \
		"$(echo "$output" | jq -r 'select(has("output")) | .call_id')"
	assert_equal "$(echo "$output" | jq -c 'select(has("output")) | .usage')" '{"input_tokens":3,"output_tokens":4}'
	assert_equal "$(requests chat | jq -c '.body | [.stream, .stream_options]')" '[true,{"include_usage":true}]'
	# the same stream 2 bytes at a time: lines and CRLFs split across reads
	run --separate-stderr panic-invoke -m openai:m --stream <<<'tiny pieces'
	assert_success
	assert_equal "$(echo "$output" | jq -c 'select(has("delta")) | .delta' | paste -sd' ')" '"echo" ": ti" "ny p" "iece" "s"'
	assert_equal "$(echo "$output" | jq -c 'select(has("output")) | [.output, .usage]')" '["echo: tiny pieces",{"input_tokens":2,"output_tokens":3}]'
}

@test "openai: tools run as programs, arguments on stdin, answers back to the model" {
	cat > lookup <<'SH'
#!/bin/sh
printf 'found(%s)' "$(cat)"
SH
	chmod +x lookup
	run --separate-stderr panic-invoke -m openai:m --tool "lookup=$T/lookup" <<<'please usetool'
	assert_success
	assert_equal "$(echo "$output" | field output)" 'tool said: found({"q": "please usetool"})'
	assert_equal "$(requests chat | jq -c '.body.tools[0].function | [.name, .parameters]' | sort -u)" '["lookup",{"type":"object"}]'
	assert_equal "$(requests chat | tail -1 | jq -c '.body.messages[-1] | [.role, .tool_call_id]')" '["tool","call_1"]'
	# the same with the arguments streamed in pieces
	run --separate-stderr panic-invoke -m openai:m --stream --tool "lookup=$T/lookup" <<<'stream usetool'
	assert_success
	assert_equal "$(echo "$output" | jq -r 'select(has("output")) | .output')" 'tool said: found({"q": "stream usetool"})'
	# a model that never stops calling tools is cut off
	run --separate-stderr panic-invoke -m openai:m --tool "lookup=$T/lookup" --tool-rounds 2 <<<'alwaystool'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c .error)" '{"kind":"bad_response","message":"openai:m: still calling tools after 2 rounds"}'
	assert_equal "$(requests chat | jq -c 'select(.body.messages[0].content == "alwaystool")' | wc -l)" 3
}

@test "faults in one batch: each is retried to success or fails with its kind, the rest unaffected" {
	SECONDS=0
	run --separate-stderr timeout 30 panic-invoke -m openai:m -j 8 --timeout 2 <<'IN'
{"n":1,"input":"one rate:1"}
{"n":2,"input":"two e500:2"}
{"n":3,"input":"three reset:1"}
{"n":4,"input":"four hang"}
{"n":5,"input":"five malformed"}
{"n":6,"input":"six bad"}
{"n":7,"input":"seven fine"}
{"n":8,"input":"eight reset:99"}
IN
	elapsed=$SECONDS
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c '[.n, .state, .error.kind]' | paste -sd' ')" \
		'[1,"completed",null] [2,"completed",null] [3,"completed",null] [4,"failed","timeout"] [5,"failed","bad_response"] [6,"failed","http_4xx"] [7,"completed",null] [8,"failed","connection"]'
	assert_equal "$(echo "$output" | jq -r 'select(.n == 6) | .error.message')" "openai:m: HTTP 400: Invalid value for 'messages'"
	assert_regex "$(echo "$output" | jq -r 'select(.n == 8) | .error.message')" '^openai:m: (Failure when receiving data from|Failed sending data to) the peer \(after 4 attempts\)$'
	# attempts: 429 once then ok; 500 twice then ok; reset 4 times, the cap
	# (curl itself may retry a reset on a reused connection once more)
	assert_regex "$(requests chat | jq -r '.body.messages[0].content' | sort | uniq -c | awk '{print $1}' | paste -sd' ') " \
		"$(printf '%s ' '[0-9]+' 1 1 2 1 1 2 3)"
	# Retry-After: 1 was honoured, and the hang ended at the timeout
	[ "$elapsed" -ge 1 ] && [ "$elapsed" -le 10 ]
	assert_equal "$(sql 'select count(*) from calls')" 8
}

@test "replicate and gemini meet the same faults the same way" {
	for m in replicate:a/b gemini:g; do
		run --separate-stderr timeout 30 panic-invoke -m "$m" -j 6 --timeout 2 <<IN
{"n":1,"input":"$m rate:1"}
{"n":2,"input":"$m e500:1"}
{"n":3,"input":"$m reset:1"}
{"n":4,"input":"$m hang"}
{"n":5,"input":"$m malformed"}
{"n":6,"input":"$m fine"}
IN
		assert_failure 1
		assert_equal "$(echo "$output" | jq -c '[.n, .state, .error.kind]' | paste -sd' ')" \
			'[1,"completed",null] [2,"completed",null] [3,"completed",null] [4,"failed","timeout"] [5,"failed","bad_response"] [6,"completed",null]'
	done
}

@test "a stream cut off or broken by an error event fails with its kind" {
	run --separate-stderr panic-invoke -m openai:m --stream <<<$'{"input":"x cut"}\n{"input":"y streamerr"}\n{"input":"z ok"}\n{"input":"w badchunk"}\n{"input":"v malformed"}'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c 'select(has("output")) | [.state, .error.kind]' | paste -sd' ')" \
		'["failed","connection"] ["failed","http_5xx"] ["completed",null] ["failed","bad_response"] ["failed","bad_response"]'
	assert_equal "$(echo "$output" | jq -r 'select(.input == "w badchunk") | .error.message')" \
		'openai:m: malformed stream chunk: {"choices": ['
	# a JSON answer to a stream request is read whole: this one is broken
	assert_equal "$(echo "$output" | jq -r 'select(.input == "v malformed") | .error.message')" \
		'openai:m: the answer is not JSON'
	assert_equal "$(echo "$output" | jq -r 'select(.input == "y streamerr") | .error.message')" \
		"openai:m: error in the stream: The server is overloaded"
	assert_regex "$(echo "$output" | jq -r 'select(.input == "x cut") | .error.message')" \
		'^openai:m: the stream cut off after [0-9]+ bytes: (Failure when receiving data from|Failed sending data to) the peer$'
}

@test "retries stop at --attempts; a closed port fails as connection" {
	run --separate-stderr panic-invoke -m openai:m --attempts 2 <<<'e500:9 x'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c .error)" '{"kind":"http_5xx","message":"openai:m: HTTP 500: The server had an error (after 2 attempts)"}'
	assert_equal "$(requests chat | wc -l)" 2
	OPENAI_BASE_URL=http://127.0.0.1:1/v1 run --separate-stderr panic-invoke -m openai:m --attempts 2 <<<'x'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -r .error.kind)" connection
	assert_equal "$stderr" "panic-invoke: openai:m: Couldn't connect to server (after 2 attempts)"
}

@test "a key never shows in records, errors, the state file, bus events or -v output" {
	key=sk-test-SECRET-4242-abcdef
	export OPENAI_API_KEY=$key
	echo sk-the-right-one > fake-key
	# a wrong key: the server quotes it back in its error, as OpenAI does
	run --separate-stderr panic-bus listen llm -- panic-invoke -v -m openai:m <<<'hello'
	echo "$output" > events
	echo "$stderr" > err
	assert_equal "$(jq -r 'select(.data.event == "exception") | .data.error.kind' events)" http_4xx
	assert_equal "$(requests chat | jq -r '.headers.authorization')" "Bearer $key"
	grep -c 'Incorrect API key provided: \*' err
	sqlite3 "$PANIC_DB" .dump > dump
	run grep -rl -e "$key" -e "SECRET-4242" events err dump "$PANIC_DB"
	assert_failure 1
	# the right key works, and is not stored either
	export OPENAI_API_KEY=sk-the-right-one
	run --separate-stderr panic-bus listen llm -- panic-invoke -v -m openai:m <<<'hello'
	assert_success
	assert_equal "$(echo "$output" | jq -c 'select(.data.event == "stop") | .data | [.model, .usage, .cost]')" \
		'["openai:m",{"input_tokens":1,"output_tokens":2},null]'
	run grep -c sk-the-right-one "$PANIC_DB"
	assert_output 0
	run --separate-stderr panic-invoke -v -m openai:m <<<'hello'
	assert_success
	run grep -c sk-the-right-one "$PANIC_DB"
	assert_output 0
}

@test "keys come from the environment, else the 0600 keys file; a readable file is refused" {
	echo from-file-123 > fake-key
	mkdir -p config/panic
	printf '# keys\nexport OPENAI_API_KEY="from-file-123"\n' > config/panic/keys
	chmod 600 config/panic/keys
	run --separate-stderr panic-invoke -m openai:m <<<'k1'
	assert_success
	assert_equal "$(requests chat | jq -r .headers.authorization)" "Bearer from-file-123"
	export OPENAI_API_KEY=from-env
	run --separate-stderr panic-invoke -m openai:m <<<'k2'
	assert_failure 1
	unset OPENAI_API_KEY
	assert_equal "$(requests chat | tail -1 | jq -r .headers.authorization)" "Bearer from-env"
	chmod 644 config/panic/keys
	unset OPENAI_BASE_URL
	run --separate-stderr panic-invoke -m openai:m <<<'k3'
	assert_failure 3
	assert_equal "$(echo "$output" | jq -c .error)" \
		"{\"kind\":\"no_key\",\"message\":\"$T/config/panic/keys: readable by others (mode 644); run chmod 600 on it\"}"
	rm config/panic/keys
	# no key is one configuration error: every record comes out failed,
	# the error is said once, and the exit status is 3
	run --separate-stderr panic-invoke -m openai:m < <(printf '%s\n' k4 k5 k6)
	assert_failure 3
	assert_equal "$(echo "$output" | jq -c .error | sort -u)" \
		"{\"kind\":\"no_key\",\"message\":\"no key: set OPENAI_API_KEY or put OPENAI_API_KEY=... in $T/config/panic/keys\"}"
	assert_equal "$(echo "$output" | jq -r .input | paste -sd' ')" "k4 k5 k6"
	assert_equal "$stderr" "panic-invoke: openai:m: no key: set OPENAI_API_KEY or put OPENAI_API_KEY=... in $T/config/panic/keys"
	assert_equal "$(requests chat | wc -l)" 2
}

@test "profiles: a flag beats the profile, the profile beats the catalogue" {
	mkdir -p config/panic
	cat > config/panic/profiles.json <<JSON
{"terse": {"model": "local", "system": "from profile", "temperature": 0.25,
           "base_url": "http://127.0.0.1:$PORT/v1", "key_env": "MY_KEY"}}
JSON
	echo '[{"id":"local","platform":"openai","model":"llama","input":"text","output":"text","system":"from catalogue","base_url":"http://127.0.0.1:1/v1"}]' > config/panic/models.json
	unset OPENAI_BASE_URL
	export MY_KEY=mine
	run --separate-stderr panic-invoke -p terse <<<'p1'
	assert_success
	assert_equal "$(echo "$output" | field output)" "(system: from profile) echo: p1 (t=0.25)"
	assert_equal "$(requests chat | jq -c '[.headers.authorization, .body.model]')" '["Bearer mine","llama"]'
	run --separate-stderr panic-invoke -p terse --system 'from flag' --temperature 1 <<<'p2'
	assert_equal "$(echo "$output" | field output)" "(system: from flag) echo: p2 (t=1)"
	run --separate-stderr panic-invoke -p nope <<<'p3'
	assert_failure 3
	assert_equal "$stderr" "panic-invoke: $T/config/panic/profiles.json: no profile 'nope'"
	echo '{"terse": ' > config/panic/profiles.json
	run --separate-stderr panic-invoke -p terse <<<'p4'
	assert_failure 3
	echo '[1,2]' > config/panic/profiles.json
	run --separate-stderr panic-invoke -p terse <<<'p5'
	assert_failure 3
	assert_equal "$stderr" "panic-invoke: $T/config/panic/profiles.json: expected an object of profiles, got array"
}

@test "openai: images and speech" {
	run --separate-stderr panic-invoke -m openai:dall-e-3 --types text:image <<<'a red fox'
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.output, .output_type]')" '["https://images.test/3.png","image"]'
	run --separate-stderr panic-invoke -m openai:tts-1 --types text:audio <<<'say'
	assert_equal "$(echo "$output" | field output)" "data:audio/mpeg;base64,$(printf 'ID3say' | base64)"
	assert_equal "$(requests speech | jq -c .body)" '{"model":"tts-1","input":"say","voice":"alloy"}'
}

@test "replicate: Prefer: wait, polling to succeeded, the latest version, usage and cost" {
	cat > models.json <<'JSON'
[{"id":"img","platform":"replicate","model":"bfl/flux","input":"text","output":"image","params":{"aspect_ratio":"16:9"},"poll_ms":20,"price":{"call":0.003}},
 {"id":"talk","platform":"replicate","model":"meta/llama","input":"text","output":"text","params":{"shape":"words"},"price":{"input":1,"output":2}},
 {"id":"hear","platform":"replicate","model":"openai/whisper","version":"latest","input":"audio","output":"text","params":{"shape":"object"},"output_jq":".transcription"}]
JSON
	export PANIC_MODELS=$T/models.json
	run --separate-stderr panic-invoke -m img -j 2 <<<$'a cat\nslow cat'
	assert_success
	# (the server numbers predictions as they arrive, in either order)
	assert_equal "$(echo "$output" | jq -c '[.input, (.output | test("^https://replicate.delivery/p[12]/out.png$")), .cost]' | paste -sd' ')" \
		'["a cat",true,0.003] ["slow cat",true,0.003]'
	assert_equal "$(requests predictions | jq -c 'select(.body.input.prompt == "a cat") | [.method, .path, .headers.prefer, .body.input]')" \
		'["POST","/replicate/v1/models/bfl/flux/predictions","wait",{"aspect_ratio":"16:9","prompt":"a cat"}]'
	slow=$(echo "$output" | jq -r 'select(.input == "slow cat") | .output' | cut -d/ -f4)
	assert_equal "$(requests "predictions/$slow\$" | jq -r .method | paste -sd' ')" "GET GET"
	run --separate-stderr panic-invoke -m talk <<<'hi you'
	assert_equal "$(echo "$output" | jq -c '[.output, .usage, .cost]')" '["echo: hi you ",{"input_tokens":2,"output_tokens":3},8e-06]'
	run --separate-stderr panic-invoke -m hear <<<"http://127.0.0.1:$PORT/media/a.mp3"
	assert_equal "$(echo "$output" | field output)" "heard: http://127.0.0.1:$PORT/media/a.mp3"
	assert_equal "$(requests 'predictions$' | tail -1 | jq -c '[.path, .body.version, .body.input.audio != null]')" \
		'["/replicate/v1/predictions","v-latest-whisper",true]'
	assert_equal "$(sql 'select model, cost from calls order by id' | paste -sd' ')" \
		"img|0.003 img|0.003 talk|8.0e-06 hear|"
	run --separate-stderr panic-log --totals --json
	assert_equal "$(echo "$output" | jq -c '[.model, .calls, .input_tokens, .cost]' | paste -sd' ')" \
		'["hear",1,1,null] ["img",2,2,0.006] ["talk",1,2,8e-06] [null,4,5,0.006008]'
}

@test "replicate: request_jq builds the input; a failed prediction, and one past its deadline" {
	run --separate-stderr panic-invoke -m meta-llama-3-8b-songifier <<<'rain on a tin roof'
	assert_success
	assert_regex "$(requests predictions | jq -r .body.input.prompt)" '^You are an expert music producer.*rain on a tin roof$'
	run --separate-stderr panic-invoke -m replicate:a/b <<<'modelfail please'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c .error)" '{"kind":"model_error","message":"replicate:a/b: prediction failed: CUDA out of memory"}'
	echo '[{"id":"late","platform":"replicate","model":"a/b","input":"text","output":"image","poll_ms":50,"deadline_ms":10}]' > models.json
	run --separate-stderr panic-invoke --models models.json -m late <<<'slow one'
	assert_failure 1
	assert_regex "$(echo "$output" | jq -r .error.kind,.error.message | paste -sd' ')" '^timeout late: still running after [0-9]+ ms$'
	# the prediction is cancelled at Replicate, with the key, so it stops costing
	assert_equal "$(requests 'cancel$' | jq -c '[.method, (.path | test("^/replicate/v1/predictions/p[0-9]+/cancel$"))]')" '["POST",true]'
}

@test "replicate: a language model gets the chat options; --stream reads the prediction's stream" {
	echo '[{"id":"llama","platform":"replicate","model":"meta/llama","input":"text","output":"text","params":{"shape":"words"},"poll_ms":20},
	       {"id":"lines","platform":"replicate","model":"meta/lines","input":"text","output":"text","params":{"shape":"lines"},"poll_ms":20},
	       {"id":"pic","platform":"replicate","model":"a/pic","input":"text","output":"image"}]' > models.json
	run --separate-stderr panic-invoke --models models.json -m llama --system sys --temperature 0.3 --max-tokens 9 <<<'hi there'
	assert_success
	assert_equal "$(requests predictions | jq -c '[.headers.prefer, .body.input, .body.stream]')" \
		'["wait",{"shape":"words","prompt":"hi there","system_prompt":"sys","temperature":0.3,"max_tokens":9},null]'
	# an image model gets none of them
	run --separate-stderr panic-invoke --models models.json -m pic --system sys --temperature 0.3 <<<'a cat'
	assert_success
	assert_equal "$(requests predictions | tail -1 | jq -c .body.input)" '{"prompt":"a cat"}'
	: > "$T/log"
	run --separate-stderr panic-invoke --models models.json -m llama --stream <<<'stream me'
	assert_success
	assert_equal "$(echo "$output" | jq -c 'select(has("delta")) | .delta' | paste -sd' ')" '"echo: " "stream " "me "'
	assert_equal "$(echo "$output" | jq -c 'select(has("output")) | [.output, .state]')" '["echo: stream me ","completed"]'
	assert_equal "$(jq -c 'select(.method == "POST") | [.headers.prefer, .body.stream]' "$T/log")" '[null,true]'
	assert_equal "$(jq -r 'select(.method == "GET") | [.path, .headers.accept] | join(" ")' "$T/log")" \
		"/replicate/v1/predictions/p3/stream text/event-stream
/replicate/v1/predictions/p3 */*"
	# a piece with a newline in it comes as two data lines, and is one delta
	run --separate-stderr panic-invoke --models models.json -m lines --stream <<<'x'
	assert_equal "$(echo "$output" | jq -c 'select(has("delta")) | .delta' | paste -sd' ')" '"first line\nsecond " "line, x"'
	# a stream that breaks off: the prediction still gives the whole output
	run --separate-stderr panic-invoke --models models.json -m llama --stream <<<'cut short'
	assert_success
	assert_equal "$(echo "$output" | jq -c 'select(has("delta")) | .delta' | paste -sd' ')" '"echo: "'
	assert_equal "$(echo "$output" | jq -r 'select(has("output")) | .output')" 'echo: cut short '
	# a model that does not stream gives one delta with the whole text
	run --separate-stderr panic-invoke -m dummy-t2t --stream <<<'same'
	assert_success
	assert_equal "$(echo "$output" | jq -r 'select(has("delta")) | .delta')" "$(echo "$output" | jq -r 'select(has("output")) | .output')"
}

@test "a runner that supersedes a run cancels its Replicate prediction" {
	echo '[{"id":"slowimg","platform":"replicate","model":"a/b","input":"text","output":"text","poll_ms":3000}]' > models.json
	export PANIC_MODELS=$T/models.json
	panic-net create r slowimg -l 0 > /dev/null
	mkfifo in
	panic-loop r --pace 0 < in > out 2> err &
	exec {w}> in
	echo 'slow first' >&$w
	wait_for grep -q '"state":"invoking"' out
	wait_for test -n "$(requests 'predictions$')"
	echo 'slow second' >&$w
	wait_for test -n "$(requests 'cancel$')"
	exec {w}>&-
	assert_equal "$(requests 'cancel$' | wc -l)" 1
}

@test "bad catalogue entries for the HTTP platforms are configuration errors" {
	echo '[{"id":"x","platform":"replicate","model":"a/b","input":"text","output":"image","params":[1]}]' > bad1.json
	run --separate-stderr panic-invoke --models bad1.json -m x <<<'a'
	assert_failure 3
	assert_equal "$stderr" 'panic-invoke: bad1.json: entry 1 (x): "params" must be an object'
	echo '[{"id":"y","platform":"openai","input":"audio","output":"text"}]' > bad2.json
	run --separate-stderr panic-invoke --models bad2.json -m y <<<'a'
	assert_failure 3
	assert_equal "$stderr" 'panic-invoke: bad2.json: entry 1 (y): openai: audio input is not supported (try gemini)'
	echo '[{"id":"z","platform":"gemini","input":"text","output":"text","timeout_ms":"soon"}]' > bad3.json
	run --separate-stderr panic-invoke --models bad3.json -m z <<<'a'
	assert_failure 3
	assert_equal "$stderr" 'panic-invoke: bad3.json: entry 1 (z): "timeout_ms" must be a positive number'
}

@test "replicate: NSFW is retried once with the safe prompt, then refused" {
	cat > models.json <<'JSON'
[{"id":"img","platform":"replicate","model":"a/b","input":"text","output":"image","safe_prompt":"a quiet meadow"},
 {"id":"strict","platform":"replicate","model":"a/c","input":"text","output":"image","safe_prompt":"still nsfw"}]
JSON
	export PANIC_MODELS=$T/models.json
	run --separate-stderr panic-invoke -m img <<<'nsfw thing'
	assert_success
	assert_equal "$(requests predictions | jq -r .body.input.prompt | paste -sd,)" "nsfw thing,a quiet meadow"
	run --separate-stderr panic-invoke -m strict <<<'nsfw thing'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c .error)" \
		'{"kind":"refused","message":"strict: prediction failed: NSFW content detected. Try running it again, or try a different prompt."}'
}

@test "gemini: text with options, media inline as base64, data: URLs, blocked prompts" {
	export GEMINI_API_KEY=g-key-1
	echo g-key-1 > fake-key
	run --separate-stderr panic-invoke -m gemini:gemini-2.5-flash --system sys --temperature 0.2 <<<'some words'
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.output, .usage]')" \
		'["(system: sys) gemini-2.5-flash says: some words (t=0.2)",{"input_tokens":2,"output_tokens":7}]'
	assert_equal "$(requests generateContent | jq -c '[.path, .headers["x-goog-api-key"]]')" \
		'["/gemini/v1beta/models/gemini-2.5-flash:generateContent","g-key-1"]'
	run --separate-stderr panic-invoke -m gemini:gemini-2.5-flash --types audio:text <<<"http://127.0.0.1:$PORT/media/a.mp3"
	assert_equal "$(echo "$output" | field output)" "gemini-2.5-flash heard/saw audio/mpeg of 12 bytes"
	assert_equal "$(requests generateContent | tail -1 | jq -c '.body.contents[0].parts[1].inline_data | [.mime_type, (.data | @base64d)]')" \
		'["audio/mpeg","ID3fakeaudio"]'
	run --separate-stderr panic-invoke -m gemini:g --types image:text <<<"data:image/png;base64,$(printf 'abc' | base64)"
	assert_equal "$(echo "$output" | field output)" "g heard/saw image/png of 3 bytes"
	run --separate-stderr panic-invoke -m gemini:g <<<'nsfw words'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c .error)" '{"kind":"refused","message":"gemini:g: the prompt was blocked (SAFETY)"}'
	# the catalogue's audio describer, through the same path
	run --separate-stderr panic-invoke -m gemini-audio-description <<<"http://127.0.0.1:$PORT/media/b.wav"
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.output, .cost > 0]')" '["gemini-2.5-flash heard/saw audio/mpeg of 12 bytes",true]'
}

@test "gemini: --stream reads streamGenerateContent events as they arrive; faults mid-stream" {
	run --separate-stderr panic-invoke -m gemini:g --stream <<<'stream these words please'
	assert_success
	assert_equal "$(echo "$output" | jq -c 'select(has("delta")) | .delta' | paste -sd' ')" \
		'"g say" "s: st" "ream " "these" " word" "s ple" "ase"'
	assert_equal "$(echo "$output" | jq -c 'select(has("output")) | [.output, .usage]')" \
		'["g says: stream these words please",{"input_tokens":4,"output_tokens":6}]'
	assert_equal "$(requests gemini | jq -r .path)" '/gemini/v1beta/models/g:streamGenerateContent?alt=sse'
	run --separate-stderr panic-invoke -m gemini:g --stream <<<$'{"input":"x cut"}\n{"input":"y streamerr"}\n{"input":"z ok"}\n{"input":"w badchunk"}\n{"input":"v noend"}'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c 'select(has("output")) | [.input, .state, .error.kind]' | paste -sd' ')" \
		'["x cut","failed","connection"] ["y streamerr","failed","http_5xx"] ["z ok","completed",null] ["w badchunk","failed","bad_response"] ["v noend","failed","bad_response"]'
	assert_regex "$(echo "$output" | jq -r 'select(.input == "x cut") | .error.message')" \
		'^gemini:g: the stream cut off after [0-9]+ bytes: .+$'
	assert_equal "$(echo "$output" | jq -r 'select(has("output") and .state == "failed") | .error.message' | tail -n +2)" \
		'gemini:g: error in the stream: The model is overloaded
gemini:g: malformed stream chunk: {"candidates": [
gemini:g: the stream ended before a finishReason'
	# what each stream delivered before its fault was written: 2+2+3+2+2 deltas
	assert_equal "$(echo "$output" | jq -c 'select(has("delta"))' | wc -l)" 11
}

@test "gemini: tools as functionCall and functionResponse, streamed or not" {
	printf '#!/bin/sh\nprintf "found(%%s)" "$(cat)"\n' > lookup
	chmod +x lookup
	run --separate-stderr panic-invoke -m gemini:g --tool "lookup=$T/lookup" <<<'please usetool'
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.output, .usage]')" \
		'["tool said: found({\"q\":\"please usetool\"})",{"input_tokens":4,"output_tokens":4}]'
	assert_equal "$(requests generateContent | head -1 | jq -c .body.tools)" \
		'[{"functionDeclarations":[{"name":"lookup","description":"Runs the tool lookup on the arguments","parametersJsonSchema":{"type":"object"}}]}]'
	assert_equal "$(requests generateContent | tail -1 | jq -c '.body.contents | [.[1].role, .[1].parts[0].functionCall.name, .[2].role, .[2].parts[0].functionResponse]')" \
		'["model","lookup","user",{"name":"lookup","id":"fc_0","response":{"output":"found({\"q\":\"please usetool\"})"}}]'
	run --separate-stderr panic-invoke -m gemini:g --stream --tool "lookup=$T/lookup" <<<'stream usetool'
	assert_success
	assert_equal "$(echo "$output" | jq -r 'select(has("output")) | .output')" 'tool said: found({"q":"stream usetool"})'
	run --separate-stderr panic-invoke -m gemini:g --tool "lookup=$T/lookup" --tool-rounds 2 <<<'alwaystool'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c .error)" '{"kind":"bad_response","message":"gemini:g: still calling tools after 2 rounds"}'
	assert_equal "$(requests generateContent | jq -c 'select(.body.contents[0].parts[0].text == "alwaystool")' | wc -l)" 3
	# a tool that fails: the model reads why
	run --separate-stderr panic-invoke -m gemini:g --tool "lookup=$T/nonexistent" <<<'please usetool'
	assert_success
	assert_regex "$(echo "$output" | field output)" '^tool said: error: .+'
}

@test "--tool or --schema with a model that cannot take them is refused, not ignored" {
	run --separate-stderr panic-invoke -m replicate:a/b --tool "x=/bin/cat" <<<'hi'
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "panic-invoke: model 'replicate:a/b' cannot call tools (only openai and gemini models can)"
	for m in "dummy-t2t:-m dummy-t2t" "exec:cat:-- cat"; do
		run --separate-stderr panic-invoke --schema '{"type":"object"}' ${m##*:} <<<'hi'
		assert_failure 2
		assert_equal "${stderr_lines[0]}" "panic-invoke: model '${m%:*}' cannot answer to a --schema (only openai and gemini models can)"
	done
	run --separate-stderr panic-invoke --tool "x=/bin/cat" <<<$'{"model":"dummy-t2t","input":"a"}\n{"model":"openai:m","input":"b"}'
	assert_failure 1
	assert_equal "$stderr" "panic-invoke: stdin:1: model 'dummy-t2t' cannot call tools (only openai and gemini models can)"
	assert_equal "$(echo "$output" | jq -c '[.input, .output]')" '["b","echo: b"]'
	assert_equal "$(requests . | wc -l)" 1
}

@test "PLATFORM:NAME models without a catalogue entry, and bad ones" {
	run --separate-stderr panic-invoke -m replicate:black-forest-labs/flux-schnell <<<'a dog'
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.model, .output_type]')" '["replicate:black-forest-labs/flux-schnell","image"]'
	assert_equal "$(requests predictions | jq -r .path)" /replicate/v1/models/black-forest-labs/flux-schnell/predictions
	run --separate-stderr panic-invoke -m nope:thing <<<'x'
	assert_failure 3
	assert_equal "$stderr" "panic-invoke: unknown model 'nope:thing' (see panic-invoke --list)"
	run --separate-stderr panic-invoke -m nope:thing --types text:text <<<'x'
	assert_failure 3
	assert_equal "$stderr" "panic-invoke: 'nope:thing': no platform 'nope' serves models by name (openai, replicate, gemini)"
	run --separate-stderr panic-invoke --no-log <<<'{"model":"openai:per-record","input":"r"}'
	assert_equal "$(echo "$output" | field output)" "echo: r"
}

@test "the runner drives HTTP models too" {
	panic-net create chat openai:m -l 0 > /dev/null
	run --separate-stderr timeout 20 panic-loop chat --pace 0 --max 3 <<<'start'
	assert_success
	assert_equal "$(echo "$output" | jq -r 'select(.type == "invocation" and .state == "completed") | .output')" \
		"$(printf '%s\n' 'echo: start' 'echo: echo: start' 'echo: echo: echo: start')"
	assert_equal "$(sql "select count(*) from calls where platform = 'openai' and run_id is not null")" 3
}

@test "bad options: temperature, schema, tools, types" {
	run --separate-stderr panic-invoke -m openai:m --temperature 3
	assert_failure 2
	assert_equal "$stderr" "panic-invoke: --temperature: expected a temperature from 0 to 2, got '3'
Try 'panic-invoke --help'."
	run --separate-stderr panic-invoke -m openai:m --schema '[1]'
	assert_failure 2
	run --separate-stderr panic-invoke -m openai:m --schema '{broken'
	assert_failure 2
	run --separate-stderr panic-invoke -m openai:m --tool 'noprogram'
	assert_failure 2
	run --separate-stderr panic-invoke -m openai:m --tool 'bad name=/bin/cat'
	assert_failure 2
	run --separate-stderr panic-invoke -m openai:m --types text:video
	assert_failure 2
}

@test "bad input lines around HTTP calls are reported and the rest still run" {
	run --separate-stderr panic-invoke -m openai:m -j 4 < <(printf '%s\n' ok1 '{"input": 5}' '{"broken' ok2; printf 'a\0b\n'; printf '\xff\xfe\n'; echo ok3)
	assert_failure 1
	assert_equal "$(echo "$output" | field output | paste -sd,)" "echo: ok1,echo: ok2,echo: ok3"
	assert_equal "$(echo "$stderr" | wc -l)" 4
	assert_equal "$(requests chat | wc -l)" 3
}

@test "a closed reader aborts the requests in flight: no paid call for nobody" {
	run --separate-stderr bash -c '{ echo fine; seq -f "hang %g" 40; } |
		panic-invoke -m openai:m -j 16 --timeout 30 | head -n 1; echo "status ${PIPESTATUS[1]}" >&2'
	assert_success
	assert_equal "$stderr" "status 0"
	assert_equal "$(echo "$output" | jq -r .output)" "echo: fine"
	# the first call and the 16 in flight when the reader went; never 41
	assert_equal "$(sql "select state, count(*) from calls group by 1 order by 1" | paste -sd' ')" "cancelled|16 completed|1"
	[ "$(wc -l < "$T/log")" -le 17 ]
}

@test "redirects are not followed: no key or prompt to another host, no POST turned into a GET" {
	echo sk-test-key > "$FAKE_KEY_FILE"
	export OPENAI_API_KEY=sk-test-key GEMINI_API_KEY=sk-test-key
	run --separate-stderr panic-invoke -m openai:m <<<'please redirect307'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c '[.state, .error.kind]')" '["failed","redirect"]'
	assert_equal "$(echo "$output" | jq -r .error.message)" \
		"openai:m: HTTP 307: redirected to http://127.0.0.2:$PORT/v1/chat/completions, not followed"
	run --separate-stderr panic-invoke -m gemini:g <<<'please redirect307'
	assert_equal "$(echo "$output" | jq -c '[.state, .error.kind]')" '["failed","redirect"]'
	# a 302 whose answer a GET would have taken as completed
	run --separate-stderr panic-invoke -m openai:m <<<'please redirect302'
	assert_equal "$(echo "$output" | jq -c '[.state, .error.kind, .output]')" '["failed","redirect",null]'
	# one request each, all POSTs, none anywhere else
	assert_equal "$(jq -r .method "$T/log" | sort | uniq -c | awk '{print $1, $2}')" "3 POST"
}

@test "base URLs: http and https only, never empty, their query kept" {
	for url in 'file:///etc/passwd#' 'gopher://127.0.0.1:70/x' 'dict://127.0.0.1:2628/d' 'ftp://127.0.0.1/' '' 'http://' '/v1'; do
		run --separate-stderr panic-invoke -m openai:m --base-url "$url" <<<'x'
		assert_failure 2
		assert_output ""
		refute [ -e "$PANIC_DB" ]
		[[ $stderr == "panic-invoke: --base-url: "* ]] || fail "--base-url '$url': $stderr"
	done
	run --separate-stderr panic-invoke -m openai:m --base-url 'file:///etc/passwd#' <<<'x'
	assert_equal "$(echo "$stderr" | head -1)" "panic-invoke: --base-url: 'file:///etc/passwd#' is not an http:// or https:// address"
	# from the environment: the call fails, and nothing of the file shows
	OPENAI_BASE_URL='file:///etc/passwd#' run --separate-stderr panic-invoke -m openai:m <<<'x'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c '[.state, .error.kind]')" '["failed","config"]'
	refute_output --partial root:
	[ "$(sql "select count(*) from calls where response like '%root:%' or error_message like '%root:%'")" = 0 ]
	# from the catalogue: a configuration error
	echo '[{"id":"bad","platform":"openai","input":"text","output":"text","base_url":"gopher://h/"}]' > models.json
	run --separate-stderr panic-invoke --models models.json -m bad <<<'x'
	assert_failure 3
	# a base URL's query goes on every request
	run --separate-stderr panic-invoke -m openai:m --base-url "http://127.0.0.1:$PORT/v1?api-version=2024-06-01" <<<'hello'
	assert_success
	assert_equal "$(requests chat | jq -r .path)" "/v1/chat/completions?api-version=2024-06-01"
}

@test "a key goes over plain http only to this machine, unless allowed" {
	export OPENAI_API_KEY=sk-test-key
	run --separate-stderr panic-invoke -m openai:m --base-url http://panic.invalid/v1 <<<'x'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c '[.state, .error.kind]')" '["failed","insecure"]'
	assert_equal "$(echo "$output" | jq -r .error.message)" \
		"openai:m: will not send the key over plain http to http://panic.invalid/v1/chat/completions (use https, or --allow-http-key)"
	# allowed: it tries (and fails to reach a host that does not exist)
	run --separate-stderr panic-invoke -m openai:m --attempts 1 --base-url http://panic.invalid/v1 --allow-http-key <<<'x'
	assert_equal "$(echo "$output" | jq -r .error.kind)" connection
	# loopback is fine over http: the test server itself
	run --separate-stderr panic-invoke -m openai:m <<<'x'
	assert_success
}

@test "a keys file others can read, or someone else's, is refused even for a local server" {
	printf 'OPENAI_API_KEY=sk-file-key\n' > keys
	chmod 644 keys
	PANIC_KEYS=$PWD/keys run --separate-stderr panic-invoke -m openai:m <<<'x'
	assert_failure 3
	assert_equal "$(echo "$output" | jq -r .error.kind)" no_key
	assert_equal "$(echo "$output" | jq -r .error.message)" "$PWD/keys: readable by others (mode 644); run chmod 600 on it"
	[ "$(requests chat | wc -l)" = 0 ]
	chmod 600 keys
	if [ "$(id -u)" = 0 ]; then
		chown 65534 keys
		PANIC_KEYS=$PWD/keys run --separate-stderr panic-invoke -m openai:m <<<'x'
		assert_equal "$(echo "$output" | jq -r .error.message)" "$PWD/keys: owned by user 65534, not you (0)"
		chown 0 keys
	fi
	PANIC_KEYS=$PWD/keys run --separate-stderr panic-invoke -m openai:m <<<'x'
	assert_success
	assert_equal "$(requests chat | jq -r '.headers.authorization')" "Bearer sk-file-key"
}

@test "an answer that quotes the key has it masked in the record, the state file and the output" {
	export OPENAI_API_KEY=sk-quoted-secret-123
	run --separate-stderr panic-invoke -m openai:m <<<'please quotekey'
	assert_success
	assert_equal "$(echo "$output" | jq -r .output)" "you sent me ********************"
	refute_output --partial sk-quoted
	! grep -a -q sk-quoted "$PANIC_DB" "$PANIC_DB-wal" 2>/dev/null
	run --separate-stderr panic-invoke -m openai:m --stream <<<'please quotekey nostream'
	refute_output --partial sk-quoted
}

@test "every call is bounded: an endless stream, the whole call's time, a huge Retry-After" {
	SECONDS=0
	run --separate-stderr timeout 60 panic-invoke -m openai:m --stream <<<'an endless stream'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c 'select(has("output")) | [.state, .error.kind, .error.message]')" \
		'["failed","bad_response","openai:m: answer larger than 67108864 bytes"]'
	# --timeout covers retries and their waits: 20 rate limits of 1 s each
	SECONDS=0
	run --separate-stderr panic-invoke -m openai:m --timeout 1.5 --attempts 20 <<<'slow rate:20'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -r .error.kind)" timeout
	[ "$SECONDS" -lt 15 ] || fail "took $SECONDS s" # 20 s or more unbounded
	# ... and the tools a model calls: a hanging one is killed at the end
	printf '#!/bin/sh\nexec sleep 41.3\n' > "$T/slowtool"
	chmod +x "$T/slowtool"
	SECONDS=0
	run --separate-stderr panic-invoke -m openai:m --tool "slow=$T/slowtool" --timeout 1 <<<'usetool'
	assert_equal "$(echo "$output" | jq -c '[.state, .error.kind]')" '["failed","timeout"]'
	[ "$SECONDS" -lt 15 ] || fail "took $SECONDS s" # 20 s or more unbounded
	run pgrep -f '^sleep 41.3'
	assert_failure
	# --attempt-timeout is each attempt's
	run --separate-stderr panic-invoke -m openai:m --attempt-timeout 0.3 <<<'hang'
	assert_equal "$(echo "$output" | jq -r .error.message)" "openai:m: no answer within 300 ms"
	# a Retry-After of 2^63-1 s is "too long", not an overflow
	run --separate-stderr panic-invoke -m openai:m <<<'bigretry'
	assert_equal "$(echo "$output" | jq -r .error.kind)" rate_limited
	assert_equal "$(requests chat | jq -r 'select(.body.messages[0].content == "bigretry") | .method' | wc -l)" 1
}

@test "a server that ignores stream:true and answers plain JSON is read as a whole answer" {
	run --separate-stderr panic-invoke -m openai:m --stream <<<'nostream please'
	assert_success
	assert_equal "$(echo "$output" | jq -c 'select(has("delta")) | .delta')" '"echo: nostream please"'
	assert_equal "$(echo "$output" | jq -c 'select(has("output")) | [.state, .output, .usage]')" \
		'["completed","echo: nostream please",{"input_tokens":2,"output_tokens":3}]'
}

@test "children inherit no descriptor of the parent's: no libcurl socket reaches a tool" {
	# the tool reports the sockets and pipes it holds beyond stdin, stdout, stderr
	cat > "$T/fds" <<'SH'
#!/bin/sh
cat > /dev/null
ls -l /proc/$$/fd > "$0.$$"
grep -c -e 'socket:' -e 'pipe:' -e 'anon_inode:' < "$0.$$" | tr -d '\n'
echo ' held'
rm -f "$0.$$"
SH
	chmod +x "$T/fds"
	run --separate-stderr panic-invoke -m openai:m -j 2 --tool "fds=$T/fds" < <(printf '%s\n' usetool 'usetool 2')
	assert_success
	# its own stdin, stdout and stderr only (pipes from panic-invoke)
	assert_equal "$(echo "$output" | jq -r .output | sort -u)" "tool said: 3 held"
}

@test "token counts from a server are checked: 1e300 and negative ones are not counts" {
	run --separate-stderr panic-invoke -m openai:m < <(printf '%s\n' 'hugetokens' 'negtokens')
	assert_success
	assert_equal "$(echo "$output" | jq -c .usage | paste -sd' ')" 'null {"input_tokens":0,"output_tokens":3}'
	assert_equal "$(sql 'select coalesce(input_tokens, -1) || "," || coalesce(output_tokens, -1) from calls order by started_at' | paste -sd' ')" '-1,-1 0,3'
}

@test "openai: --schema is completed for strict mode, as OpenAI requires; --no-strict sends it as it is" {
	s='{"type":"object","properties":{"city":{"type":"string"},"pop":{"type":"integer"},"tags":{"type":"array","items":{"type":"object","properties":{"t":{"type":"string"}}}},"kind":{"enum":["a","b"]}},"required":["city"]}'
	run --separate-stderr panic-invoke -m openai:m --schema "$s" <<<'j'
	assert_success
	# every object: all properties required, no others; the optional ones nullable
	assert_equal "$(requests chat | tail -1 | jq -c '.body.response_format.json_schema | [.strict, .schema]')" \
		'[true,{"type":"object","properties":{"city":{"type":"string"},"pop":{"type":["integer","null"]},"tags":{"type":["array","null"],"items":{"type":"object","properties":{"t":{"type":["string","null"]}},"required":["t"],"additionalProperties":false}},"kind":{"anyOf":[{"enum":["a","b"]},{"type":"null"}]}},"required":["city","pop","tags","kind"],"additionalProperties":false}]'
	# a schema that allows other properties cannot be strict: sent as it is, strict false
	run --separate-stderr panic-invoke -m openai:m --schema '{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":true}' <<<'j'
	assert_equal "$(requests chat | tail -1 | jq -c '.body.response_format.json_schema | [.strict, .schema.required]')" '[false,null]'
	run --separate-stderr panic-invoke -m openai:m --no-strict --schema "$s" <<<'j'
	assert_equal "$(requests chat | tail -1 | jq -c ".body.response_format.json_schema | [.strict, (.schema == $s)]")" '[false,true]'
}

@test "openai: refusals and the content filter are refused; a cut-off answer says so" {
	run --separate-stderr panic-invoke -m openai:m < <(printf '%s\n' 'refusal' 'filtered' 'length' 'fine')
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c '[.state, .error.kind, .finish_reason]' | paste -sd' ')" \
		'["failed","refused",null] ["failed","refused",null] ["completed",null,"length"] ["completed",null,null]'
	assert_equal "$(echo "$output" | jq -r 'select(.input == "refusal") | .error.message')" "openai:m: refused: I can't help with that."
	assert_equal "$(echo "$output" | jq -r 'select(.input == "filtered") | .error.message')" "openai:m: the answer was withheld by the content filter"
	# only a cut-off answer carries finish_reason
	assert_equal "$(echo "$output" | jq -c 'select(.input == "fine") | has("finish_reason")')" false
}

@test "tools: arguments that are not JSON go back to the model; a tool declares its parameters" {
	printf '#!/bin/sh\necho "ran on: $(cat)"\n' > "$T/lookup"
	chmod +x "$T/lookup"
	run --separate-stderr panic-invoke -m openai:m --tool "lookup=$T/lookup" <<<'usetool badargs'
	assert_success
	assert_equal "$(echo "$output" | jq -r .output)" \
		"tool said: error: the arguments for 'lookup' are not a JSON object (Unfinished string at EOF at line 1, column 14): send one"
	# the schema goes to the model with the tool, on both platforms
	run --separate-stderr panic-invoke -m openai:m --tool "lookup=$T/lookup" \
		--tool-schema 'lookup={"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}' <<<'usetool'
	assert_success
	assert_equal "$(requests chat | tail -1 | jq -c '.body.tools[0].function.parameters.required')" '["q"]'
	run --separate-stderr panic-invoke -m gemini:g --tool "lookup=$T/lookup" --tool-schema "lookup=@$T/schema.json" <<<'x'
	assert_failure 2
	echo '{"type":"object","properties":{"q":{"type":"string"}}}' > "$T/schema.json"
	run --separate-stderr panic-invoke -m gemini:g --tool "lookup=$T/lookup" --tool-schema "lookup=@$T/schema.json" <<<'usetool'
	assert_success
	assert_equal "$(requests gemini | tail -1 | jq -c '.body.tools[0].functionDeclarations[0].parametersJsonSchema.properties')" '{"q":{"type":"string"}}'
	run --separate-stderr panic-invoke -m openai:m --tool "lookup=$T/lookup" --tool-schema 'other={}' <<<'x'
	assert_failure 2
	assert_equal "$(echo "$stderr" | head -1)" "panic-invoke: --tool-schema: no --tool named 'other'"
}
