#!/usr/bin/env bats
# vesta-send: layout. Boards laid out as Vestaboard's own library
# (@vestaboard/vbml, installed once under build/ as the oracle) lays them
# out, cell for cell; --codes, --preview, and bad input.

bats_require_minimum_version 1.5.0
load helper

CORPUS=$TOP/tests/vesta/corpus.ndjson

# has TEXT: stderr (of run --separate-stderr) holds TEXT
has() { [[ "$stderr" == *"$1"* ]] || fail "stderr lacks: $1"$'\n'"$stderr"; }

# compare [SIZE [FILTER]]: vesta-send --codes against the oracle over the
# corpus (records matching the jq FILTER), identical
compare() {
	vbml-install
	jq -ac "select(${2:-true})" "$CORPUS" > in.ndjson
	run -0 test "$(wc -l < in.ndjson)" -ge 300
	vesta-send --codes ${1:+--size "$1"} < in.ndjson > mine.ndjson 2> errs || true
	vbml-oracle ${1:+--size "$1"} < in.ndjson > theirs.ndjson
	run "$TOP/tests/vesta/compare" in.ndjson mine.ndjson errs theirs.ndjson
	echo "$output" | tail -20
	assert_success
	assert_line --regexp '^[0-9]+ same, 0 different$'
}

@test "the corpus, 700 texts and VBML records, laid out as @vestaboard/vbml lays it out (Flagship)" {
	compare
	assert_line '724 same, 0 different'
}

@test "plain text on a Note (3x15) and on a 4x30 board, as vbml.parse lays it out" {
	compare note 'has("input")'
	compare 4x30 'has("input")'
}

@test "the corpus holds what the issue asks: every code, long words, accents, emoji, blank lines, over-long text" {
	for i in $(seq 0 71); do
		grep -Fqx "{\"input\": \"{$i}\"}" "$CORPUS" || fail "no {$i}"
	done
	jq -se 'any(.[]; .input | strings | test("é"))' "$CORPUS" > /dev/null
	jq -se 'any(.[]; .input | strings | test("😀"))' "$CORPUS" > /dev/null
	jq -se 'any(.[]; .input | strings | test("\n\n"))' "$CORPUS" > /dev/null
	jq -se 'any(.[]; .input | strings | length > 132)' "$CORPUS" > /dev/null
	jq -se 'any(.[]; .input | strings | test("^[a-z]{30,}$"))' "$CORPUS" > /dev/null
	jq -se 'any(.[]; .vbml.props)' "$CORPUS" > /dev/null
	# and the corpus is what make-corpus makes
	run -0 diff <("$TOP/tests/vesta/make-corpus") "$CORPUS"
}

@test "--codes: a text line becomes the rows of codes the Read/Write API takes" {
	run -0 vesta-send --codes <<<'Hello World'
	assert_output '[[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],[0,0,0,0,0,8,5,12,12,15,0,23,15,18,12,4,0,0,0,0,0,0],[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]]'
}

@test "--codes: output, then input, then --from; VBML and ready characters first" {
	run -0 vesta-send --codes --size 1x5 <<-'EOF'
	{"output":"ab","input":"zz"}
	{"input":"cd"}
	{"vbml":{"components":[{"template":"{63}x","style":{"justify":"right"}}]},"output":"no"}
	{"characters":[[1,2,3,4,71]],"output":"no"}
	EOF
	assert_output - <<-'EOF'
	[[0,1,2,0,0]]
	[[0,3,4,0,0]]
	[[0,0,0,63,24]]
	[[1,2,3,4,71]]
	EOF
	run -0 vesta-send --codes --size 1x3 --from text <<<'{"text":"a","output":"b"}'
	assert_output '[[0,1,0]]'
	run -1 --separate-stderr vesta-send --codes --size 1x3 --from text <<<'{"output":"b"}'
	assert_equal "$stderr" 'vesta-send: stdin:1: no text: no "text" (nor "vbml" or "characters")'
}

@test "--codes: VBML props through mustache, as vbml.parse renders them" {
	run -0 vesta-send --codes --size 1x12 <<<'{"vbml":{"props":{"who":"ada","n":[1,2]},"components":[{"template":"hi {{who}}{{#n}}{{.}}{{/n}}"}]}}'
	assert_output '[[8,9,0,1,4,1,27,28,0,0,0,0]]'
}

@test "--preview draws the board, colour tiles in colour on a terminal, as letters off one" {
	run -0 vesta-send --preview --size note <<<'Hi {63}{71}'
	assert_output - <<-'EOF'
	+---------------+
	|               |
	|     HI r█     |
	|               |
	+---------------+
	EOF
	command -v script > /dev/null || skip "no script(1)"
	printf 'Hi {63}\n' > in
	script -qec "vesta-send --preview --size 1x5 < in" /dev/null > tty.out
	run -0 grep -c $'\e\\[48;2;218;41;28m \e\\[0m' tty.out
}

@test "--preview: text that tries escape sequences shows only board characters" {
	run -0 vesta-send --preview --size 2x20 < <(printf '%s\n' '{"output":"\u001b]0;pwned\u0007\u001b[2J evil \u009b31m"}')
	refute_output --partial $'\e'
	refute_output --partial $'\a'
	assert_line '| )0;PWNED  (2J EVIL |'
	assert_line '|         31M        |'
}

@test "bad input: each a clear one-line error, the stream goes on, exit 1" {
	printf '%s\n' \
		'{"output":"first"}' \
		'{"broken": ' \
		'{"output":5}' \
		'{"vbml":{"components":[{"template":"x","styel":{}}]}}' \
		'{"vbml":{"components":[{"template":"x"}],"colour":1}}' \
		'{"vbml":{"components":[{"template":"x","style":{"justify":"middle"}}]}}' \
		'{"vbml":{"components":[{"template":7}]}}' \
		'{"vbml":"Hello"}' \
		'{"vbml":{"components":[{"template":"{99}"}]}}' \
		'{"vbml":{"components":[{"template":"{{name"}]}}' \
		'{"vbml":{"components":[{"template":"x","style":{"width":30}}]}}' \
		'{"vbml":{"components":[{"template":"x","style":{"height":7}}]}}' \
		'{"characters":[[1,2],[3]]}' \
		'{"characters":[[72]]}' \
		'{"characters":[[-1]]}' \
		'{"characters":[[43]]}' \
		'{"characters":[["A"]]}' \
		'{"characters":[[1.5]]}' \
		'{"characters":[]}' \
		'{"characters":[[1,2,3]]}' \
		'{"id":1}' \
		'{"output":"last"}' > in
	printf 'bad \xff utf8\nnul \0 byte\n' >> in
	run -1 --separate-stderr vesta-send --codes --size 1x2 < in
	assert_equal "${#lines[@]}" 2
	assert_equal "$(echo "$stderr" | wc -l)" 22
	has 'vesta-send: stdin:2: '
	has 'stdin:3: "output": expected a string'
	has 'stdin:4: vbml.components[0]: unknown field "styel" (VBML has template rawCharacters style)'
	has 'stdin:5: vbml: unknown field "colour"'
	has 'stdin:6: vbml.components[0].style: justify must be left, right, center or justified'
	has 'stdin:7: vbml.components[0].template: expected a string'
	has 'stdin:8: vbml: expected an object'
	has 'stdin:9: vbml.components[0]: invalid character code {99}'
	has 'stdin:10: vbml.components[0]: mustache: unclosed tag'
	has 'stdin:11: vbml.components[0]: 30 columns wide on a board of 2'
	has 'stdin:12: vbml.components[0]: does not fit: 7 rows from row 0 on a board of 1'
	has 'stdin:13: characters: row 2 has 1 codes, row 1 has 2'
	has 'stdin:14: characters: row 1 column 1: not a character code'
	has 'stdin:19: characters: 0 rows'
	has 'stdin:20: characters: 1x3 for a 1x2 board'
	has 'stdin:21: no text: no "output" or "input" (nor "vbml" or "characters")'
	has 'stdin:23: '
	has 'stdin:24: '
}

@test "control characters and a 10 kB line: laid out, cut to the board" {
	run -0 vesta-send --codes < <(printf 'a\tb\x01c\n'; head -c 10240 /dev/zero | tr '\0' 'x'; echo)
	assert_equal "${#lines[@]}" 2
	assert_equal "$(echo "${lines[1]}" | jq -c '[.[][]] | unique')" '[24]'
}

@test "a line over --max-line is rejected without being held; the stream goes on" {
	run -1 --separate-stderr vesta-send --codes --max-line 1000 < <(echo before; head -c 5000000 /dev/zero | tr '\0' x; echo; echo after)
	assert_equal "${#lines[@]}" 2
	has 'vesta-send: stdin:2: '
}

@test "sizes: flagship, note, RxC; nonsense is a usage error" {
	run -0 vesta-send --codes --size note <<<'x'
	assert_equal "$(echo "$output" | jq -c '[length, (.[0] | length)]')" '[3,15]'
	run -0 vesta-send --codes --size 12x30 <<<'x'
	assert_equal "$(echo "$output" | jq -c '[length, (.[0] | length)]')" '[12,30]'
	for s in 0x0 1000x1000 6x 6x22x1 big -1x5; do
		run -2 vesta-send --codes --size "$s" <<<'x'
		assert_output --partial "vesta-send: --size: size '$s'"
	done
}

@test "usage: no board, stray arguments, --stdin without --installation" {
	run -2 vesta-send </dev/null
	assert_output --partial 'no board'
	run -2 vesta-send lobby </dev/null
	assert_output --partial "unexpected argument 'lobby'"
	run -2 vesta-send --codes --stdin </dev/null
	assert_output --partial '--stdin goes with --installation'
	run -0 vesta-send --help
	assert_output --partial 'usage: vesta-send'
}
