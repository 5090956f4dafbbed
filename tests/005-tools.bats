#!/usr/bin/env bats
# The scripts behind make: tools/bench runs every benchmark and fails only
# for a missed target or a benchmark that failed.

bats_require_minimum_version 1.5.0
load helper

@test "make bench runs every benchmark and exits 0 only when every target is met" {
	mkdir -p tree/tools tree/bench tree/bin
	cp "$TOP/tools/bench" tree/tools/
	printf '#!/bin/sh\necho "first  1.00  ok"\n' > tree/bench/a
	printf '#!/bin/sh\necho "second 0.50  ok"\n' > tree/bench/b
	printf 'not a benchmark\n' > tree/bench/notes.c
	chmod +x tree/bench/a tree/bench/b
	run --separate-stderr tree/tools/bench tree/bin
	assert_success
	assert_line 'bench/a            every target met'
	assert_line 'bench/b            every target met'
	# a missed target, and a benchmark that fails: both run, both reported
	printf '#!/bin/sh\necho "first  3.00  MISSED"\n' > tree/bench/a
	printf '#!/bin/sh\necho "half done"; exit 7\n' > tree/bench/b
	run --separate-stderr tree/tools/bench tree/bin
	assert_failure 1
	assert_line 'bench/a            1 target(s) missed'
	assert_line 'bench/b            failed (exit 7)'
	assert_line 'half done'
}
