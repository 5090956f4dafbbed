#!/usr/bin/env bats
# Grapheme clusters (UAX #29) as Unicode's own data and tests have them:
# dummy-t2t reverses by cluster, as PANIC!'s Elixir String.reverse does.

bats_require_minimum_version 1.5.0
load helper

UCD=/usr/share/unicode

@test "the break table is what tools/gen-graphemes makes from the installed Unicode data" {
	[ -f "$UCD/auxiliary/GraphemeBreakProperty.txt" ] || fail "unicode-data is not installed (make deps)"
	run "$TOP/tools/gen-graphemes" "$UCD"
	assert_success
	assert_equal "$output" "$(cat "$TOP/lib/base/grapheme_table.c")"
}

@test "dummy-t2t reverses every line of GraphemeBreakTest.txt by its clusters" {
	# Each test line, as a record: its code points as the input, and the
	# expected reversal: the clusters it marks, in reverse order.
	python3 - "$UCD/auxiliary/GraphemeBreakTest.txt" > cases <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.split("#")[0].strip()
    if not line:
        continue
    clusters, cur = [], ""
    for tok in line.split():
        if tok == "÷":
            if cur:
                clusters.append(cur)
            cur = ""
        elif tok != "×":
            cur += chr(int(tok, 16))
    print(json.dumps({"input": "".join(clusters), "want": "DUMMY_TEXT: " + "".join(reversed(clusters)), "line": line}))
PY
	[ "$(wc -l < cases)" -ge 600 ]
	run --separate-stderr panic-invoke --no-log -m dummy-t2t < cases
	assert_success
	echo "$output" | jq -c 'select(.output != .want) | .line' > wrong
	assert_equal "$(wc -l < wrong) wrong: $(head -3 wrong)" "0 wrong: "
	assert_equal "$(echo "$output" | wc -l)" "$(wc -l < cases)"
}

@test "scripts whose marks a hand-made table splits: Thai, Tamil, Bengali, Hangul jamo, prepend, ZWJ" {
	printf '%s\n' 'กำ' 'ஸ்ரீ' 'বাংলা' $'\u1100\u1161\u11a8x' $'\u0600\u0661x' $'a\u200dbc' > in
	echo '{"input":"x\n\u0301"}' >> in # a mark after a newline is not glued to it
	run --separate-stderr panic-invoke --no-log -m dummy-t2t < in
	assert_success
	# each cluster whole, in reverse order
	printf '%s\n' 'กำ' 'ரீஸ்' 'লাবাং' $'x\u1100\u1161\u11a8' $'x\u0600\u0661' $'cba\u200d' $'\u0301\nx' |
		jq -R -s -c 'split("\n")[:-1] | map("DUMMY_TEXT: " + .) | .[]' > want
	# (the last one has its newline back)
	assert_equal "$(echo "$output" | jq -c .output | head -6)" "$(head -6 want)"
	assert_equal "$(echo "$output" | tail -1 | jq -c '.output | explode')" \
		"$(jq -n -c '"DUMMY_TEXT: \u0301\nx" | explode')"
}
