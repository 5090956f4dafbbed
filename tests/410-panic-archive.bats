#!/usr/bin/env bats
# panic-archive: image and audio outputs downloaded from a local stand-in for
# the platforms' hosts (tests/bin/fake-media), stored by SHA-256, converted
# with cwebp and ffmpeg, uploaded to s3rver with every request's signature
# checked by AWS's own signer (tests/bin/fake-s3); panic-loop --archive;
# bad and hostile input.

bats_require_minimum_version 1.5.0
load helper
load npm

setup() {
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/panic-test.XXXXXX")
	export PANIC_DB=$T/state/panic.db PANIC_BUS=$T/bus PANIC_ARCHIVE=$T/archive
	export XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state XDG_RUNTIME_DIR=$T/run \
		XDG_DATA_HOME=$T/data
	unset PANIC_MODELS PANIC_KEYS AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
		AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_REGION AWS_DEFAULT_REGION PANIC_ARCHIVE_CONFIG
	export PANIC_HTTP_BACKOFF_MS=20
	cd "$T"
	mkdir -p files
	fake-media "$T/port" "$T/media.log" "$T/files" 2> "$T/media.err" &
	wait_for test -s "$T/port"
	M=http://127.0.0.1:$(cat "$T/port")
}

# s3 [ARGS...]: starts fake-s3 with a bucket "panic-test" and the key
# AKIDTEST:sekrit (and ARGS); sets S3 to its endpoint and the keys.
s3() {
	npm_oracles s3rver@3.7.1 @smithy/signature-v4@5.7.5 @smithy/hash-node@4.2.7
	fake-s3 --dir "$T/s3" --port-file "$T/s3port" --log "$T/s3.log" --bucket panic-test \
		--key AKIDTEST:sekrit "$@" 2> "$T/s3.err" &
	wait_for test -s "$T/s3port"
	S3=http://127.0.0.1:$(cat "$T/s3port")
	export AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=sekrit
}

# img PATH [TYPE]: a record whose output is $M/PATH
img() { printf '{"output":"%s/%s","output_type":"%s"}\n' "$M" "$1" "${2:-image}"; }
sha() { sha256sum "$1" | cut -c1-64; }
# the archive object of each output line, as compact [fields...]
arch() { jq -c "$1"; }
# requests fake-media got for PATH
fetches() { grep -c "\"path\": \"$1\"" "$T/media.log" || true; }

@test "an image output is stored by the SHA-256 of its bytes and the record points at it" {
	curl -s "$M/png/a" -o a.png
	h=$(sha a.png)
	run --separate-stderr panic-archive <<<"{\"id\":7,\"output\":\"$M/png/a\",\"output_type\":\"image\"}"
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.id, .output, .output_type, .archive.sha256, .archive.path, .archive.bytes, .archive.content_type, .archive.stored, .archive.uploaded, .archive.source]')" \
		"[7,\"file://$T/archive/${h:0:2}/$h.png\",\"image\",\"$h\",\"$T/archive/${h:0:2}/$h.png\",$(stat -c %s a.png),\"image/png\",\"new\",null,\"$M/png/a\"]"
	cmp a.png "archive/${h:0:2}/$h.png"
	assert_equal "$(sql "select sha256, bytes, content_type from archive_files")" "$h|$(stat -c %s a.png)|image/png"
	# nothing else in the directory: no temporary file left
	assert_equal "$(find archive -type f | wc -l)" 1
	# the portable SHA-256 rounds agree with the CPU's SHA extensions
	curl -s "$M/wav/long" -o b.wav
	run --separate-stderr env PANIC_SHA256_PORTABLE=1 panic-archive < <(img wav/long audio)
	assert_equal "$(echo "$output" | jq -r .archive.sha256)" "$(sha b.wav)"
}

@test "the same content is stored once, whatever its URL, in this run and the next" {
	run --separate-stderr panic-archive -j 4 < <(img same/x; img same/y; img same/z)
	assert_success
	assert_equal "$(echo "$output" | arch '.archive.stored' | sort | paste -sd' ')" '"existing" "existing" "new"'
	assert_equal "$(echo "$output" | jq -r .output | sort -u | wc -l)" 1
	run --separate-stderr panic-archive < <(img same/w)
	assert_equal "$(echo "$output" | arch '.archive.stored')" '"existing"'
	assert_equal "$(find archive -type f | wc -l)" 1
	assert_equal "$(sql 'select count(*) from archive_files')" 1
}

@test "other records pass through byte for byte: text, failed, no output, not a URL" {
	printf '%s\n' '{"id":1,"output":"DUMMY_TEXT: hi","output_type":"text","n":1.000000000000000000001}' \
		'{"id":2,"output":null,"state":"failed","output_type":"image"}' \
		'{"id":3,"input":"no output here"}' \
		'{"id":4,"output":"just words","x":[1, 2]}' \
		"{\"id\":5,\"output\":\"$M/png/a\",\"state\":\"invoking\"}" > in
	run --separate-stderr panic-archive < in
	assert_success
	assert_equal "$output" "$(jq -c . in | sed 's/1.0000000000000000000001/1.000000000000000000001/;s/"x":\[1,2\]/"x":[1,2]/' | head -0; cat in | sed 's/, 2/,2/')"
	assert_equal "$(find archive -type f | wc -l)" 0
}

@test "-R --from input: a plain list of URLs, one a line" {
	printf '%s\n' "$M/png/a" "$M/wav/b" > urls
	run --separate-stderr panic-archive -R --from input < urls
	assert_success
	assert_equal "$(echo "$output" | jq -c '[(.input | startswith("file://")), .archive.content_type, (.archive.source | sub(".*/"; ""))]')" \
		'[true,"image/png","a"]
[true,"audio/wav","b"]'
}

@test "-j keeps the input order however the downloads finish" {
	for i in $(seq 12); do
		printf '{"i":%d,"output":"%s/delay/%d/n%d","output_type":"image"}\n' "$i" "$M" $(( (12 - i) * 25 )) "$i"
	done > in
	run --separate-stderr panic-archive -j 12 < in
	assert_success
	assert_equal "$(echo "$output" | jq -r .i | paste -sd' ')" "$(seq 12 | paste -sd' ')"
	assert_equal "$(echo "$output" | jq -r '.archive.stored' | sort -u)" new
}

@test "the type comes from output_type, else the model's in the catalogue, else --type, else the bytes" {
	{
		printf '{"model":"dummy-t2a","output":"%s/wav/a"}\n' "$M"    # the catalogue: audio
		printf '{"output":"%s/wav/b"}\n' "$M"                        # any media: the bytes say
		printf '{"model":"dummy-t2t","output":"%s/png/c"}\n' "$M"    # a text model: passes
	} > in
	run --separate-stderr panic-archive < in
	assert_success
	assert_equal "$(echo "$output" | jq -c '.archive.content_type')" '"audio/wav"
"audio/wav"
null'
	run --separate-stderr panic-archive --type image <<<"{\"output\":\"$M/wav/d\"}"
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c '.archive.error | [.kind, .message]')" '["wrong_type","got audio (audio/wav), expected an image"]'
}

@test "--convert: images to webp with cwebp, audio to ogg with ffmpeg, each source converted once" {
	run --separate-stderr panic-archive -j 1 --convert < <(img png/a; img wav/a audio; img png/a)
	assert_success
	assert_equal "$(echo "$output" | arch '[.archive.content_type, .archive.stored]' | paste -sd' ')" \
		'["image/webp","new"] ["audio/ogg","new"] ["image/webp","existing"]'
	webp=$(echo "$output" | jq -r 'select(.archive.content_type == "image/webp") | .archive.path' | head -1)
	ogg=$(echo "$output" | jq -r 'select(.archive.content_type == "audio/ogg") | .archive.path')
	assert_equal "$(head -c 4 "$webp")$(tail -c +9 "$webp" | head -c 4)" RIFFWEBP
	assert_equal "$(head -c 4 "$ogg")" OggS
	assert_equal "$(basename "$webp" .webp)" "$(sha "$webp")"
	# stored by the converted bytes' digest; the download itself is not kept
	assert_equal "$(find archive -type f | wc -l)" 2
	run --separate-stderr panic-archive --audio-format mp3 < <(img wav/a audio)
	assert_success
	mp3=$(echo "$output" | jq -r .archive.path)
	assert_equal "$(echo "$output" | jq -r .archive.content_type)" audio/mpeg
	assert_equal "$(head -c 3 "$mp3")" ID3
}

@test "a converter that is missing is a clear configuration error" {
	mkdir bin
	for p in jq sqlite3 cat; do ln -s "$(command -v $p)" bin/; done
	run --separate-stderr env PATH="$T/bin:$PANIC_BIN" panic-archive --image-format webp < /dev/null
	assert_failure 3
	assert_equal "$stderr" "panic-archive: cwebp not found on PATH (it converts images to webp; Debian: apt-get install webp)"
	run --separate-stderr env PATH="$T/bin:$PANIC_BIN" panic-archive --audio-format ogg < /dev/null
	assert_failure 3
	assert_equal "$stderr" "panic-archive: ffmpeg not found on PATH (it converts audio to ogg; Debian: apt-get install ffmpeg)"
	run --separate-stderr panic-archive --image-format gif < /dev/null
	assert_failure 3
	assert_equal "$stderr" "panic-archive: 'gif': the image formats are keep and webp"
}

@test "HTML, text, garbage and empty answers are refused, each a clear error, and the stream goes on" {
	run --separate-stderr panic-archive < <(img html; img html-as-png; img text; img garbage; img empty; img png/ok)
	assert_failure 1
	assert_equal "$(echo "$output" | arch 'if .archive.error then .archive.error | [.kind, .stage, .message] else null end')" \
'["not_media","download","got an HTML page (Content-Type text/html; charset=utf-8), not an image"]
["not_media","download","got an HTML page (Content-Type image/png), not an image"]
["not_media","download","got text (Content-Type text/plain), not an image"]
["not_media","download","got unknown data (Content-Type image/png), not an image"]
["not_media","download","the answer is empty, not an image"]
null'
	# the failed records keep their output; the last is archived
	assert_equal "$(echo "$output" | jq -r .output | head -1)" "$M/html"
	assert_equal "$(echo "$output" | jq -r .archive.stored | tail -1)" new
	assert_equal "$(echo "$stderr" | head -1)" "panic-archive: stdin:1: $M/html: got an HTML page (Content-Type text/html; charset=utf-8), not an image"
	assert_equal "$(find archive -type f | wc -l)" 1
}

@test "a size cap: a 2 GB answer and an endless one stop at --max-bytes, leaving nothing behind" {
	run --separate-stderr timeout 30 panic-archive --max-bytes 1M < <(img huge; img endless; img png/ok)
	assert_failure 1
	assert_equal "$(echo "$output" | arch 'if .archive.error then .archive.error | [.kind, .message] else null end')" \
'["too_large","the answer is larger than 1048576 bytes"]
["too_large","the answer is larger than 1048576 bytes"]
null'
	assert_equal "$(find archive -type f | wc -l)" 1
	run --separate-stderr panic-archive --max-bytes 0 < /dev/null
	assert_failure 2
}

@test "HTTP errors and a server that never answers are data: kind, stage, message" {
	run --separate-stderr panic-archive --timeout 1 < <(img status/404; img status/503; img hang)
	assert_failure 1
	assert_equal "$(echo "$output" | arch '.archive.error | [.kind, .stage]' | paste -sd' ')" \
		'["http_4xx","download"] ["http_5xx","download"] ["timeout","download"]'
	assert_equal "$(echo "$output" | jq -r .archive.error.message | head -1)" 'HTTP 404: as asked'
	# 5xx retried, 404 not
	assert_equal "$(fetches /status/404)" 1
	assert_equal "$(fetches /status/503)" 4
}

@test "hostile URLs: not http(s), file:, redirects to file: and in a loop; names from a URL never reach the disk" {
	printf '%s\n' '{"output":"file:///etc/passwd","output_type":"image"}' \
		'{"output":"ftp://example.org/x.png","output_type":"image"}' \
		"{\"output\":\"$M/redirect-file\",\"output_type\":\"image\"}" \
		"{\"output\":\"$M/redirect-loop\",\"output_type\":\"image\"}" \
		"{\"output\":\"$M/redirect/png/r\",\"output_type\":\"image\"}" \
		"{\"output\":\"$M/png/..%2f..%2f..%2fescape.png\",\"output_type\":\"image\"}" \
		"{\"output\":\"$M/png/a b\",\"output_type\":\"image\"}" > in
	run --separate-stderr panic-archive < in
	assert_failure 1
	assert_equal "$(echo "$output" | arch '[.archive.error.kind, .archive.stored]' | paste -sd' ')" \
		'["bad_url",null] ["bad_url",null] ["connection",null] ["connection",null] [null,"new"] [null,"new"] ["bad_url",null]'
	assert_equal "$(echo "$output" | jq -r '.archive.error.message // empty' | head -2 | paste -sd'|')" \
		'not an http or https URL|not an http or https URL'
	# the redirect to a file was not followed
	run grep -rl root: "$T/archive"
	refute_output
	for f in $(find archive -type f); do [[ $f =~ ^archive/[0-9a-f]{2}/[0-9a-f]{64}\.png$ ]] || fail "stored as $f"; done
	[ ! -e "$T/escape.png" ] && [ ! -e escape.png ]
}

@test "a symlink where a shard or a file should be: the shard is refused, the file replaced, nothing written outside" {
	curl -s "$M/png/a" -o a.png
	h=$(sha a.png)
	mkdir -p archive outside
	ln -s "$T/outside" "archive/${h:0:2}"
	run --separate-stderr panic-archive < <(img png/a)
	assert_failure 1
	assert_equal "$(echo "$output" | jq -r '.archive.error | "\(.kind) \(.stage)"')" "storage store"
	assert_equal "$(echo "$output" | jq -r .archive.error.message)" "$T/archive/${h:0:2}: not a directory (a symlink?): refused"
	assert_equal "$(ls outside | wc -l)" 0
	rm "archive/${h:0:2}"
	mkdir "archive/${h:0:2}"
	echo secret > outside/target
	ln -s "$T/outside/target" "archive/${h:0:2}/$h.png"
	run --separate-stderr panic-archive < <(img png/a)
	assert_success
	[ ! -L "archive/${h:0:2}/$h.png" ]
	cmp a.png "archive/${h:0:2}/$h.png"
	assert_equal "$(cat outside/target)" secret
}

@test "an archive directory others can write to is refused" {
	mkdir -m 0777 open
	run --separate-stderr panic-archive --dir "$T/open" < /dev/null
	assert_failure 3
	assert_equal "$stderr" "panic-archive: archive directory $T/open: others can write to it: refused"
}

@test "bad lines are reported with their number and the stream goes on" {
	{
		echo '{"output": "broken'
		printf '{"output":"x\0y"}\n'
		printf '{"output":"\xff\xfe"}\n'
		printf '{"pad":"%s","output":"%s/png/long","output_type":"image"}\n' "$(head -c 10000 /dev/zero | tr '\0' a)" "$M"
		printf '{"pad":"%s"}\n' "$(head -c 5000 /dev/zero | tr '\0' b)"
		img png/last
	} > in
	run --separate-stderr panic-archive --max-line 4096 < in
	assert_failure 1
	assert_equal "$(echo "$output" | jq -r '.archive.stored' | paste -sd' ')" "new"
	assert_equal "$(echo "$stderr" | cut -d: -f1-3 | paste -sd' ')" \
		"panic-archive: stdin:1 panic-archive: stdin:2 panic-archive: stdin:3 panic-archive: stdin:4 panic-archive: stdin:5"
	run --separate-stderr panic-archive < in
	assert_equal "$(echo "$output" | jq -r '.archive.stored // "-"' | paste -sd' ')" "new - existing"
}

@test "SIGTERM mid-download ends at once, with no temporary file left" {
	mkfifo in
	panic-archive < in > out 2> err &
	pid=$!
	exec {w}>in
	img hang >&"$w"
	wait_for grep -q hang "$T/media.log"
	kill -TERM "$pid"
	run timeout 5 tail --pid="$pid" -f /dev/null
	assert_success
	exec {w}>&-
	wait "$pid" || true
	assert_equal "$(find archive -name '.tmp*' | wc -l)" 0
}

@test "a reader that goes away ends the work quietly" {
	for i in $(seq 200); do img "delay/20/q$i"; done > in
	run --separate-stderr bash -c 'panic-archive -j 2 < in | head -1'
	assert_success
	assert_equal "$stderr" ""
	# it stopped early: far fewer than 200 downloads
	[ "$(grep -c delay "$T/media.log")" -lt 100 ]
}

@test "a record of a stored invocation rewrites its row and the next invocation's input" {
	cat > models.json <<EOF2
[{"id":"fetchable-t2i","platform":"exec","input":"text","output":"image",
  "command":["sh","-c","printf '$M/png/%s' \"\$(md5sum | cut -c1-8)\""]}]
EOF2
	export PANIC_MODELS=$T/models.json
	panic-net create art fetchable-t2i dummy-i2t -l 0 > /dev/null
	echo 'a cat' | panic-loop art --pace 0 --max 2 > loop.out
	url=$(sql "select output from invocations where seq = 0")
	run --separate-stderr panic-archive < loop.out
	assert_success
	new=$(echo "$output" | jq -r 'select(.seq == 0 and .state == "completed") | .output')
	[[ $new == file://* ]]
	assert_equal "$(sql "select output from invocations where seq = 0")" "$new"
	assert_equal "$(sql "select input from invocations where seq = 1")" "$new"
}

@test "panic-loop --archive: the next model and the stored invocation get the archived URL; an expired platform URL does not break the run" {
	cat > models.json <<EOF2
[{"id":"expiring-t2i","platform":"exec","input":"text","output":"image",
  "command":["sh","-c","printf '$M/expiring/%s' \"\$(md5sum | cut -c1-8)\""]},
 {"id":"fetching-i2t","platform":"exec","input":"image","output":"text",
  "command":["sh","-c","read -r u; curl -sfS -o /dev/null \"\$u\" && curl -sfS \"\$u\" | sha256sum | cut -c1-16"]}]
EOF2
	export PANIC_MODELS=$T/models.json
	panic-net create art expiring-t2i fetching-i2t -l 0 > /dev/null
	run --separate-stderr panic-loop art --pace 0 --max 4 --archive <<<'a cat'
	assert_success
	echo "$output" > out
	# every image is archived, and the next model read the archived file
	assert_equal "$(sql "select count(*) from invocations where seq % 2 = 0 and output like 'file://$T/archive/%'")" 2
	assert_equal "$(sql "select count(*) from invocations i join invocations p on p.run_id = i.run_id and p.seq = i.seq - 1 where i.seq % 2 = 1 and i.input = p.output")" 2
	h=$(jq -r 'select(.seq == 0 and .state == "completed") | .metadata.archive.sha256' out)
	assert_equal "$(jq -r 'select(.seq == 1 and .state == "completed") | .output' out)" "${h:0:16}"
	assert_equal "$(jq -r 'select(.seq == 0 and .state == "completed") | .metadata.archive.source' out)" "$M/expiring/$(printf 'a cat' | md5sum | cut -c1-8)"

	# A run that goes on after its platform URLs expired (a restart, a long
	# pace): the stored input is the archived file, so the run carries on.
	mkfifo in
	panic-loop art --pace 0.3 --archive < in > out2 2> err2 &
	pid=$!
	exec {w}>in
	echo 'a dog' >&"$w"
	wait_for grep -q '"seq":1,.*"state":"ready"' out2
	kill -9 "$pid"
	wait "$pid" || true
	exec {w}>&-
	curl -s "$M/expire" > /dev/null
	run --separate-stderr timeout 20 panic-loop art --pace 0 --max 1 --archive < /dev/null
	assert_success
	assert_equal "$(sql "select count(*) from invocations i join runs r on r.id = i.run_id where r.prompt = 'a dog' and i.state = 'failed'")" 0
	assert_equal "$(sql "select i.state from invocations i join runs r on r.id = i.run_id where r.prompt = 'a dog' and i.seq = 1")" completed
}

@test "without --archive, the same expired URL fails the next model: the test above is not vacuous" {
	cat > models.json <<EOF2
[{"id":"expiring-t2i","platform":"exec","input":"text","output":"image",
  "command":["sh","-c","printf '$M/expiring/%s' \"\$(md5sum | cut -c1-8)\""]},
 {"id":"fetching-i2t","platform":"exec","input":"image","output":"text",
  "command":["sh","-c","read -r u; curl -sfS -o /dev/null \"\$u\" && curl -sfS \"\$u\" | sha256sum | cut -c1-16"]}]
EOF2
	export PANIC_MODELS=$T/models.json
	panic-net create art expiring-t2i fetching-i2t -l 0 > /dev/null
	mkfifo in
	panic-loop art --pace 0.3 < in > out2 2> err2 &
	pid=$!
	exec {w}>in
	echo 'a dog' >&"$w"
	wait_for grep -q '"seq":1,.*"state":"ready"' out2
	kill -9 "$pid"
	wait "$pid" || true
	exec {w}>&-
	curl -s "$M/expire" > /dev/null
	run --separate-stderr timeout 20 panic-loop art --pace 0 --retries 0 --exit-on-eof < <(sleep 1)
	assert_equal "$(sql "select i.state from invocations i join runs r on r.id = i.run_id where r.prompt = 'a dog' and i.seq = 1")" failed
}

# ---- S3 ----

@test "s3: uploads are signed (AWS's signer verifies each), carry x-amz-content-sha256, and the output is the object's URL" {
	s3
	run --separate-stderr panic-archive -j 1 --endpoint "$S3" --bucket panic-test --prefix 'runs/ü 1/' < <(img png/a; img wav/a audio)
	assert_success
	assert_equal "$(jq -c '[.method, .verified]' "$T/s3.log" | sort -u)" '["PUT",true]'
	assert_equal "$(wc -l < "$T/s3.log")" 2
	# the payload hash sent is the object's SHA-256, and it is the stored file's
	h=$(echo "$output" | jq -r .archive.sha256 | head -1)
	assert_equal "$(jq -r .content_sha256 "$T/s3.log" | head -1)" "$h"
	assert_equal "$(jq -r .path "$T/s3.log" | head -1)" "/panic-test/runs/%C3%BC%201/$h.png"
	assert_equal "$(echo "$output" | jq -r .output | head -1)" "$S3/panic-test/runs/%C3%BC%201/$h.png"
	assert_equal "$(echo "$output" | jq -r .archive.uploaded | paste -sd' ')" "new new"
	# the public URL gives the bytes back
	curl -sf "$(echo "$output" | jq -r .output | head -1)" -o got
	assert_equal "$(sha got)" "$h"
	assert_equal "$(jq -r 'select(.method == "PUT") | .content_type' "$T/s3.log" | paste -sd' ')" "image/png audio/wav"
}

@test "s3: the same content is uploaded once, in one run (-j) and across runs" {
	s3
	run --separate-stderr panic-archive -j 8 --endpoint "$S3" --bucket panic-test < <(for i in 1 2 3 4 5 6; do img "same/$i"; done)
	assert_success
	assert_equal "$(grep -c PUT "$T/s3.log")" 1
	assert_equal "$(echo "$output" | jq -r .archive.uploaded | sort | uniq -c | awk '{print $1, $2}' | paste -sd' ')" "5 existing 1 new"
	run --separate-stderr panic-archive --endpoint "$S3" --bucket panic-test < <(img same/7)
	assert_equal "$(echo "$output" | jq -r .archive.uploaded)" existing
	assert_equal "$(grep -c PUT "$T/s3.log")" 1
	# another bucket or prefix is another destination
	run --separate-stderr panic-archive --endpoint "$S3" --bucket panic-test --prefix other/ < <(img same/8)
	assert_equal "$(grep -c PUT "$T/s3.log")" 2
}

@test "s3: a wrong secret does not verify; the record says why and the stream goes on" {
	s3
	run --separate-stderr env AWS_SECRET_ACCESS_KEY=not-the-secret panic-archive --endpoint "$S3" --bucket panic-test < <(img png/a; img png/b)
	assert_failure 1
	assert_equal "$(jq -c '[.verified, .why]' "$T/s3.log" | sort -u)" '[false,"the signature does not match"]'
	assert_equal "$(echo "$output" | arch '.archive.error | [.kind, .stage, .message]' | sort -u)" \
		'["http_4xx","upload","HTTP 403: SignatureDoesNotMatch: the signature does not match"]'
	# stored here all the same; the secret is nowhere
	assert_equal "$(find archive -type f | wc -l)" 2
	run grep -rl not-the-secret "$T/state" "$T/archive"
	refute_output
	[[ $stderr != *not-the-secret* ]]
}

@test "s3: a payload changed on the way does not verify" {
	s3 --tamper
	run --separate-stderr panic-archive --endpoint "$S3" --bucket panic-test < <(img png/a)
	assert_failure 1
	assert_equal "$(jq -c '[.verified, .why]' "$T/s3.log")" '[false,"the payload is not the one whose hash was sent"]'
	assert_equal "$(echo "$output" | jq -r .archive.error.message)" "HTTP 400: XAmzContentSHA256Mismatch: the payload is not the one whose hash was sent"
}

@test "s3: an endpoint that refuses or never answers is a clear error per record" {
	s3 --refuse 503
	run --separate-stderr panic-archive --endpoint "$S3" --bucket panic-test < <(img png/a)
	assert_failure 1
	assert_equal "$(echo "$output" | jq -r .archive.error.message)" "HTTP 503: SlowDown: refused by --refuse"
	assert_equal "$(grep -c PUT "$T/s3.log")" 4 # retried, as 5xx are
	kill %fake-s3 2>/dev/null || true
	rm -f "$T/s3port"
	s3 --hang
	run --separate-stderr panic-archive --timeout 1 --endpoint "$S3" --bucket panic-test < <(img png/b)
	assert_failure 1
	assert_equal "$(echo "$output" | jq -c '.archive.error | [.kind, .stage]')" '["timeout","upload"]'
}

@test "s3: configuration errors are exit 3: no keys, no bucket, a bad bucket or prefix, a bad config file" {
	run --separate-stderr panic-archive --endpoint http://127.0.0.1:9 --bucket panic-test < /dev/null
	assert_failure 3
	[[ $stderr == "panic-archive: S3: no AWS_ACCESS_KEY_ID: "* ]]
	export AWS_ACCESS_KEY_ID=a AWS_SECRET_ACCESS_KEY=b
	run --separate-stderr panic-archive --endpoint http://127.0.0.1:9 < /dev/null
	assert_failure 3
	assert_equal "$stderr" "panic-archive: S3 endpoint 'http://127.0.0.1:9' but no bucket"
	run --separate-stderr panic-archive --endpoint http://127.0.0.1:9 --bucket Bad_Bucket < /dev/null
	assert_failure 3
	assert_equal "$stderr" "panic-archive: S3 bucket 'Bad_Bucket': lower-case letters, digits, '-' and '.' only"
	run --separate-stderr panic-archive --endpoint http://127.0.0.1:9 --bucket ok-bucket --prefix '../up/' < /dev/null
	assert_failure 3
	assert_equal "$stderr" "panic-archive: S3 prefix '../up/': no '..' segments"
	run --separate-stderr panic-archive --endpoint file:///tmp --bucket ok-bucket < /dev/null
	assert_failure 3
	assert_equal "$stderr" "panic-archive: S3 endpoint 'file:///tmp': not an http or https URL"
	mkdir -p config/panic
	echo '{"dir": 5}' > config/panic/archive.json
	run --separate-stderr panic-archive < /dev/null
	assert_failure 3
	assert_equal "$stderr" "panic-archive: $T/config/panic/archive.json: \"dir\" must be a string"
	echo '{"s3": {"bucket": "x", "secret": "no"}}' > config/panic/archive.json
	run --separate-stderr panic-archive < /dev/null
	assert_failure 3
	assert_equal "$stderr" "panic-archive: $T/config/panic/archive.json: unknown field \"secret\""
}

@test "s3: settings from archive.json and the keys file" {
	s3
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
	mkdir -p config/panic
	printf 'AWS_ACCESS_KEY_ID=AKIDTEST\nAWS_SECRET_ACCESS_KEY=sekrit\n' > config/panic/keys
	chmod 600 config/panic/keys
	printf '{"image_format": "webp", "s3": {"endpoint": "%s", "bucket": "panic-test", "prefix": "cfg/", "public_url": "https://cdn.example/"}}\n' "$S3" > config/panic/archive.json
	run --separate-stderr panic-archive < <(img png/a)
	assert_success
	h=$(echo "$output" | jq -r .archive.sha256)
	assert_equal "$(echo "$output" | jq -r .output)" "https://cdn.example/cfg/$h.webp"
	assert_equal "$(jq -r '[.path, .verified] | join(" ")' "$T/s3.log")" "/panic-test/cfg/$h.webp true"
}

@test "usage errors are exit 2" {
	run --separate-stderr panic-archive --type video < /dev/null
	assert_failure 2
	run --separate-stderr panic-archive extra < /dev/null
	assert_failure 2
	run --separate-stderr panic-archive --timeout 0 < /dev/null
	assert_failure 2
	run --separate-stderr panic-archive -j 0 < /dev/null
	assert_failure 2
}
