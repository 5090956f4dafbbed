#!/usr/bin/env bats
# Docs stay true: every program has a man page, a bash completion and a
# README section, and every option its --help lists is in all of them.

bats_require_minimum_version 1.5.0
load helper

programs() { for f in "$TOP"/bin/*.c; do basename "$f" .c; done; }

@test "every program has a man page that renders without warnings, with the exit table" {
	for p in $(programs); do
		[ -f "$TOP/docs/$p.1" ] || fail "no man page for $p"
		run groff -mdoc -ww -z "$TOP/docs/$p.1"
		assert_output ""
		grep -q '^\.Sh EXIT STATUS' "$TOP/docs/$p.1" || fail "$p.1 has no EXIT STATUS"
		for code in 0 1 2 3 4; do grep -q "^\.It $code\$" "$TOP/docs/$p.1" || fail "$p.1 lacks exit $code"; done
	done
	run groff -mdoc -ww -z "$TOP/docs/panic.7"
	assert_output ""
}

@test "every option in --help is in the man page and the completion" {
	for p in $(programs); do
		[ -f "$TOP/completions/$p.bash" ] || fail "no completion for $p"
		for opt in $("$p" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
			grep -qF -- "Fl -${opt#--}" "$TOP/docs/$p.1" || fail "$p.1 lacks $opt"
			grep -qF -- "$opt" "$TOP/completions/$p.bash" || fail "completion of $p lacks $opt"
		done
	done
}

@test "every program has a README section" {
	for p in $(programs); do
		grep -qE "^### $p\$" "$TOP/README.md" || fail "README has no section for $p"
	done
}

@test "the completion offers the catalogue's model ids after -m" {
	source "$TOP/completions/panic-invoke.bash"
	COMP_WORDS=(panic-invoke -m dummy-t2)
	COMP_CWORD=2
	_panic_invoke
	assert_equal "${COMPREPLY[*]}" "dummy-t2t dummy-t2i dummy-t2a"
	COMP_WORDS=(panic-invoke --no-l)
	COMP_CWORD=1
	_panic_invoke
	assert_equal "${COMPREPLY[*]}" "--no-log"
}
