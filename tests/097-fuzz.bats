#!/usr/bin/env bats
# The fuzzing corpus as tests: every seed, and every crash or hang AFL++
# ever found (tests/fuzz/crashes), run through its harness, plain and
# under the sanitizers, must pass (see tests/fuzz/README.md).

bats_require_minimum_version 1.5.0
load helper

@test "every fuzzing harness runs its corpus and past crashes cleanly" {
	fuzz=$(cd "$PANIC_BIN/.." && pwd)/fuzz
	n=0
	for src in "$TOP"/tests/fuzz/*.c; do
		name=$(basename "$src" .c)
		[ "$name" = driver ] && continue
		[ -x "$fuzz/$name" ] || fail "no harness $fuzz/$name (make)"
		for f in "$TOP/tests/fuzz/corpus/$name"/* "$TOP/tests/fuzz/crashes/$name"/*; do
			[ -f "$f" ] || continue
			run timeout 20 "$fuzz/$name" "$f"
			[ "$status" = 0 ] || fail "$name on ${f#$TOP/}: exit $status: $output"
			n=$((n + 1))
		done
	done
	[ "$n" -ge 12 ]
}
