#!/usr/bin/env bats
# panic-watch: PANIC!'s grid and single displays of a network, from the
# state file and then the bus; frames checked as text (--once, and the frames
# written when stdout is not a terminal) and under a real terminal (tmux:
# send-keys, capture-pane, resize); harmless model output; bad input.

bats_require_minimum_version 1.5.0
load helper

teardown() {
	tmux -S "$T/tmux" kill-server 2>/dev/null || true
	local j
	for j in $(jobs -p); do kill "$j" 2>/dev/null || true; done
	cd /
	rm -rf "$T"
}

# the last frame written to FILE by a live panic-watch (frames end in a
# form feed line)
last_frame() { awk 'BEGIN { RS = "\f\n" } { f = $0 } END { printf "%s", f }' "$1"; }
# frame_has FILE TEXT: the last frame holds TEXT
frame_has() { last_frame "$1" | grep -qF -- "$2"; }
# inv RUN SEQ STATE OUTPUT [ATTEMPT]: an invocation as the runner publishes it
inv() {
	jq -cn --arg run "$1" --argjson seq "$2" --arg state "$3" --arg out "$4" --argjson a "${5:-1}" \
		'{id: "i-\($seq)", run_id: $run, seq: $seq, model: "dummy-t2t", input: "in", output: $out,
		  state: $state, error: null, metadata: {attempt: $a}}'
}
pub() { panic-bus pub invocation:art "$1" > /dev/null; }
# tmux: a real terminal of COLS x ROWS running CMD
term() { tmux -S "$T/tmux" new-session -d -x "$1" -y "$2" "$3"; }
screen() { tmux -S "$T/tmux" capture-pane -p; }
screen_has() { screen | grep -qF -- "$1"; }

@test "--once draws the grid: invocation seq in slot seq mod R*C, the newest in each" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	echo hello | panic-loop art --pace 0 --max 5 > /dev/null
	run --separate-stderr panic-watch art --once --grid 2x2 --size 40x8
	assert_success
	assert_equal "$output" "art · hello
#4 dummy-t2t complet│#1 dummy-t2t comple
DUMMY_TEXT:         │DUMMY_TEXT: hello
DUMMY_TEXT:…        │:TXET_YMMUD
────────────────────┼───────────────────
#2 dummy-t2t complet│#3 dummy-t2t comple
DUMMY_TEXT:         │DUMMY_TEXT:
DUMMY_TEXT: olleh…  │DUMMY_TEXT: hello…"
	run --separate-stderr panic-watch art --once --grid 1x3 --size 90x5
	assert_equal "$(echo "$output" | sed -n 2p | tr -s ' ' | sed 's/│/|/g')" "#3 dummy-t2t completed |#4 dummy-t2t completed |#2 dummy-t2t completed"
}

@test "--once with no run yet: the network's name and empty slots" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	run --separate-stderr panic-watch art --once --size 30x5 --grid 1x2
	assert_success
	assert_equal "$output" "art · no run yet
               │
               │
               │
               │"
}

@test "--single O/S: the newest invocation with seq mod S = O; invoking ones hidden unless --show-invoking" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	echo hello | panic-loop art --pace 0 --max 4 > /dev/null
	run_id=$(sql 'select id from runs')
	sql "insert into invocations (run_id, seq, id, network_id, model, input, state, metadata)
	     select run_id, 4, 'x4', network_id, model, output, 'invoking', '{\"attempt\":1}' from invocations where seq = 3"
	run --separate-stderr panic-watch art --once --single 1/3 --size 30x3
	assert_success
	assert_equal "$output" "#1 dummy-t2t completed
DUMMY_TEXT: hello :TXET_YMMUD"
	run --separate-stderr panic-watch art --once --single 1/3 --show-invoking --size 30x3
	assert_equal "$output" "#4 dummy-t2t invoking
P! invoking…"
	run --separate-stderr panic-watch art --once --single 0/3 --size 30x4
	assert_equal "$(echo "$output" | head -1)" "#3 dummy-t2t completed"
	run --separate-stderr panic-watch art --once --single 2/3 --size 30x4
	assert_equal "$(echo "$output" | head -1)" "#2 dummy-t2t completed"
}

@test "images, audio and failures show what they are" {
	panic-net create art dummy-t2i dummy-i2a dummy-a2t -l 0 > /dev/null
	{ echo 'a cat'; sleep 1; } | PANIC_DUMMY_FAIL_MATCH=dummy-audio timeout 20 panic-loop art --pace 0 --retries 0 --exit-on-eof > /dev/null || true
	run --separate-stderr panic-watch art --once --grid 1x3 --size 120x6
	assert_success
	assert_equal "$(echo "$output" | sed -n 3p | tr -s ' ' | sed 's/│/|/g')" "▣ image |♪ audio |✗ failed"
}

@test "following: a newer run resets the display, an older run is ignored, a late event never moves a slot back" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	panic-watch art --grid 1x2 --size 40x4 > out 2> err &
	wait_for grep -qF 'no run yet' out
	pub "$(inv run-2 0 completed 'second run')"
	wait_for frame_has out 'second run'
	pub "$(inv run-1 1 completed 'OLD RUN')"
	pub "$(inv run-2 0 invoking '' 1)"             # late: attempt 1 had completed
	pub "$(inv run-2 1 completed 'one')"
	wait_for frame_has out 'one'
	run last_frame out
	refute_output --partial 'OLD RUN'
	assert_output --partial 'second run'
	pub "$(inv run-2 0 invoking '' 2)"             # a retry: attempt 2
	wait_for frame_has out 'P! invoking'
	pub "$(inv run-3 0 completed 'third')"         # a newer run: slot 1 cleared
	wait_for frame_has out 'third'
	run last_frame out
	refute_output --partial 'one'
	kill -TERM %1
	wait %1
}

@test "a 10 kB prompt and an event too large for a fifo are shown, cut to fit" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	panic-watch art --grid 1x1 --size 40x5 > out 2> err &
	wait_for grep -qF 'no run yet' out
	head -c 10000 /dev/zero | tr '\0' x | panic-loop art --pace 0 --max 1 > /dev/null
	wait_for frame_has out '#0 dummy-t2t completed'
	run last_frame out
	assert_line --index 0 "art · $(printf 'x%.0s' $(seq 34))"
	assert_line --index 4 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…"
	kill -TERM %1
	wait %1
	assert_equal "$(cat err)" ""
}

@test "model output that tries to drive the terminal is shown harmless (--once)" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	echo hi | panic-loop art --pace 0 --max 1 > /dev/null
	sql "update invocations set output = 'a' || char(27) || '[2J' || char(27) || ']0;pwned' || char(7) || char(155) || '31m' || char(8238) || 'evil' || char(13) || 'z'"
	run --separate-stderr panic-watch art --once --grid 1x1 --size 60x4
	assert_success
	assert_equal "$(echo "$output" | sed -n 3p)" "a␛[2J␛]0;pwned␇�31m�evil␍z"
	# no escape, C1 or carriage return byte at all
	run bash -c "panic-watch art --once --grid 1x1 --size 60x4 | LC_ALL=C grep -c \$'[\x1b\x07\x0d]\|\xc2\x9b'"
	assert_output 0
}

@test "a real terminal: live frames, harmless escapes, a redraw on resize, Ctrl-C restores the screen" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	# the shell outlives Ctrl-C to say how panic-watch ended
	term 80 16 "bash -c 'trap true INT; panic-watch art --grid 2x2; echo EXITED \$?; sleep 60'"
	wait_for screen_has 'no run yet'
	printf '%s\n' "hi $(printf '\033')]0;pwned$(printf '\a') $(printf '\033')[2J there" |
		panic-loop art --pace 0 --max 3 > /dev/null
	wait_for screen_has '#2 dummy-t2t completed'
	run screen
	assert_line --index 0 --partial 'art · hi ␛]0;pwned␇ ␛[2J there'
	assert_output --partial '#0 dummy-t2t completed'
	assert_output --partial '#1 dummy-t2t completed'
	# the terminal was not retitled, nor cleared by the prompt
	[ "$(tmux -S "$T/tmux" display -p '#{pane_title}')" != pwned ]
	# resize: the frame is laid out again for 44 columns
	tmux -S "$T/tmux" resize-window -x 44 -y 10
	wait_for bash -c "tmux -S '$T/tmux' capture-pane -p | grep -q '^─\{22\}┼─\{21\}\$'"
	run screen
	assert_equal "$(echo "$output" | while IFS= read -r l; do echo "${#l}"; done | sort -n | tail -1)" 44
	tmux -S "$T/tmux" send-keys C-c
	wait_for screen_has 'EXITED 130' # interrupted, as a shell expects of Ctrl-C
	run screen
	refute_output --partial 'dummy-t2t completed' # the alternate screen is gone
}

@test "a reader that goes away ends it quietly; so does SIGTERM" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	{ panic-watch art --size 20x3 --grid 1x1 2> err; echo "rc=$?" > rc; } | head -c 1 > /dev/null &
	wait_for test -e "$PANIC_BUS"
	for i in $(seq 50); do
		[ -e rc ] && break
		pub "$(inv run-1 "$i" completed "n$i")"
		sleep 0.1
	done
	assert_equal "$(cat rc)" "rc=0"
	assert_equal "$(cat err)" ""
	# with nothing new to draw, too (before: it waited for the next event)
	{ timeout 20 panic-watch art --size 20x3 --grid 1x1 2> err; echo "rc=$?" > rc; } | head -c 1 > /dev/null
	assert_equal "$(cat rc)" "rc=0"
	assert_equal "$(cat err)" ""
	panic-watch art > out 2> err &
	pid=$!
	wait_for test -s out
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 0
	assert_equal "$(cat err)" ""
}

@test "bad options: a grid of 0x0 or 1000x1000, a bad single display, both, an unknown network" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	for args in '--grid 0x0' '--grid 1000x1000' '--grid 2x' '--grid x3' '--grid -1x2' \
		'--single 3/3' '--single 1/0' '--single -1/3' '--single 1' '--single a/b' \
		'--grid 2x2 --single 0/1' '--show-invoking' '--size 0x0' '--size big'; do
		run --separate-stderr panic-watch art --once $args
		assert_failure 2
		[ "${#stderr}" -gt 0 ] || fail "no message for $args"
	done
	run --separate-stderr panic-watch art --once --grid 0x0
	assert_equal "$stderr" "panic-watch: --grid: 0x0: rows and columns go from 1 to 16
Try 'panic-watch --help'."
	run --separate-stderr panic-watch art --once --grid 1000x1000
	assert_equal "${stderr%%$'\n'*}" "panic-watch: --grid: 1000x1000: rows and columns go from 1 to 16"
	run --separate-stderr panic-watch art --once --single 3/3
	assert_equal "${stderr%%$'\n'*}" "panic-watch: --single: the offset must be less than the stride (3), got 3"
	run --separate-stderr panic-watch nosuch --once
	assert_failure 3
	assert_equal "$stderr" "panic-watch: no network 'nosuch' (see panic-net list)"
	run --separate-stderr panic-watch
	assert_failure 2
}

@test "a terminal too small for the grid says so" {
	panic-net create art dummy-t2t -l 0 > /dev/null
	run --separate-stderr panic-watch art --once --grid 4x4 --size 12x4
	assert_success
	assert_equal "$(echo "$output" | head -1)" "terminal too"
}
