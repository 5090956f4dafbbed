#!/usr/bin/env bats
# panic-bus and lib/bus: the fifodir protocol, seen from the shell.

bats_require_minimum_version 1.5.0
load helper

# fifos in the bus directory
fifos() { find "$PANIC_BUS" -type p 2>/dev/null | wc -l; }
subscribers() { panic-bus ls --json | wc -l; }

# more_fifos N: there are more than N fifos (counted anew at each call)
more_fifos() { [ "$(fifos)" -gt "$1" ]; }

# sub_bg OUT ARGS...: a subscriber in the background, ready when this returns
sub_bg() {
	local out=$1 before
	shift
	before=$(fifos)
	panic-bus sub "$@" > "$out" &
	wait_for more_fifos "$before"
}

@test "events arrive whole and in order, with topic, time and data" {
	sub_bg out -n 3 'net:*'
	pid=$!
	panic-bus pub net:a '{"n":1}' '{"n":2}'
	panic-bus pub other '{"n":0}'
	echo 'a plain line' | panic-bus pub net:b
	wait "$pid"
	assert_equal "$(jq -c '[.topic, .data]' out | paste -sd' ')" \
		'["net:a",{"n":1}] ["net:a",{"n":2}] ["net:b",{"input":"a plain line"}]'
	[[ $(head -1 out) =~ ^\{\"topic\":\"net:a\",\"at\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z\",\"data\":\{\"n\":1\}\}$ ]]
	# the subscriber removed its fifo and files when it left
	assert_equal "$(fifos)" 0
	assert_equal "$(ls "$PANIC_BUS")" ""
}

@test "patterns are globs; a subscriber gets only what matches" {
	sub_bg a -n 2 'invocation:*' 'llm'
	pa=$!
	sub_bg b -n 1 'prompt:net?'
	pb=$!
	panic-bus pub invocation:x '{"i":1}'
	panic-bus pub prompt:net1 '{"i":2}'
	panic-bus pub prompt:network '{"i":3}'
	panic-bus pub llm '{"i":4}'
	wait "$pa" "$pb"
	assert_equal "$(jq -c .data.i a | paste -sd' ')" "1 4"
	assert_equal "$(jq -c .data.i b | paste -sd' ')" "2"
}

@test "the bus directory is private by default, group-shared on request" {
	panic-bus ls
	assert_equal "$(stat -c %a "$PANIC_BUS")" 700
	PANIC_BUS=$T/shared run panic-bus --shared ls
	assert_success
	assert_equal "$(stat -c %a "$T/shared")" 3770 # setgid, and sticky as s6's fifodir
}

@test "a bus directory that is not ours, or that others can write, is refused" {
	# writable by others: refused, unless shared (and then it must be sticky)
	mkdir -m 777 open
	chmod 777 open
	PANIC_BUS=$T/open run --separate-stderr panic-bus ls
	assert_failure 3
	assert_equal "$stderr" "panic-bus: bus: $T/open: others can write it (mode 777): chmod 700 it, or use --shared"
	PANIC_BUS=$T/open run --separate-stderr panic-bus --shared ls
	assert_failure 3
	assert_equal "$stderr" "panic-bus: bus: $T/open: a shared bus must be sticky and not writable by the world (mode 0777): chmod 3770 it"
	# made first by someone else (as /tmp/panic-$UID can be): refused
	if [ "$(id -u)" = 0 ]; then
		mkdir -m 700 theirs && chown 65534 theirs
		PANIC_BUS=$T/theirs run --separate-stderr panic-bus sub x
		assert_failure 3
		assert_equal "$stderr" "panic-bus: bus: $T/theirs: owned by user 65534, not you (use --shared for a group's bus)"
		# and a parent that is someone else's: they could swap the bus
		mkdir -m 755 parent && chown 65534 parent
		PANIC_BUS=$T/parent/bus run --separate-stderr panic-bus ls
		assert_failure 3
		assert_equal "$stderr" "panic-bus: bus: $T/parent: owned by user 65534, not you: refusing to keep a bus in it"
	fi
	# a symlink where the bus directory should be
	mkdir real && chmod 700 real && ln -s real link
	PANIC_BUS=$T/link run --separate-stderr panic-bus ls
	assert_failure 3
}

@test "entries planted in the bus are never written: symlinks, regular files, .gen and .drops" {
	panic-bus ls > /dev/null
	echo precious > victim
	# a "subscriber" that is a symlink to a file, one that is a hard link
	# to it, and the counters as symlinks
	ln -s "$T/victim" "$PANIC_BUS/sub.1.aaaaaaaa"
	echo '{"pid":1,"patterns":["t"]}' > "$PANIC_BUS/sub.1.aaaaaaaa.info"
	ln "$T/victim" "$PANIC_BUS/sub.2.bbbbbbbb"
	echo '{"pid":2,"patterns":["t"]}' > "$PANIC_BUS/sub.2.bbbbbbbb.info"
	ln -s "$T/victim" "$PANIC_BUS/sub.3.cccccccc.drops"
	rm -f "$PANIC_BUS/.gen" && ln -s "$T/victim" "$PANIC_BUS/.gen"
	run --separate-stderr panic-bus pub t '{"x":1}' '{"x":2}'
	assert_success
	assert_equal "$(cat victim)" precious
	# a real subscriber still gets its events
	sub_bg got -n 1 t
	wait_for bash -c '[ "$(panic-bus ls --json | jq -r "select(.alive) | .name" | wc -l)" = 1 ]'
	panic-bus pub t '{"x":3}'
	wait "$!"
	assert_equal "$(jq -c .data got)" '{"x":3}'
	assert_equal "$(cat victim)" precious
}

@test "4 publishers x 10,000 events to 3 subscribers: none torn, lost or merged" {
	for s in 1 2 3; do sub_bg "out$s" -n 40000 --timeout 120 'load:*'; pids+=($!); done
	for p in 1 2 3 4; do
		seq 1 10000 | awk -v p=$p '{ printf "{\"p\":%d,\"i\":%d,\"pad\":\"%s\"}\n", p, $1, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" }' > "in$p"
	done
	for p in 1 2 3 4; do panic-bus pub "load:$p" < "in$p" & done
	wait "${pids[@]}"
	for s in 1 2 3; do
		assert_equal "$(wc -l < "out$s")" 40000
		# every line is one whole event; per publisher, 1..10000 in order
		run jq -rs 'group_by(.data.p) | map([.[0].data.p, length, ([.[].data.i] == [range(1; 10001)])]) | .[] | @tsv' "out$s"
		assert_output "$(printf '1\t10000\ttrue\n2\t10000\ttrue\n3\t10000\ttrue\n4\t10000\ttrue')"
	done
}

@test "a subscriber killed with SIGKILL leaves no fifo after the next publish" {
	sub_bg out 'x'
	pid=$!
	kill -9 "$pid"
	wait "$pid" || true
	assert_equal "$(fifos)" 1
	panic-bus pub unrelated '{}'
	assert_equal "$(fifos)" 0
	assert_equal "$(ls "$PANIC_BUS")" ""
}

@test "a publisher holding a fifo open outlives its subscriber's SIGKILL (no SIGPIPE)" {
	sub_bg out 'x'
	sub=$!
	mkfifo in
	panic-bus pub x < in &
	pub=$!
	exec {w}>in
	echo '{"n":1}' >&"$w"
	wait_for grep -q '"n":1' out
	kill -9 "$sub"
	wait "$sub" || true
	echo '{"n":2}' >&"$w"
	echo '{"n":3}' >&"$w"
	exec {w}>&-
	wait "$pub" # fails the test unless the publisher exited 0
	assert_equal "$(fifos)" 0
}

@test "a publisher watches the directory (inotify) only once a subscriber comes or goes; it reaches those that come later" {
	inotify() { find "/proc/$pub/fd" -lname 'anon_inode:inotify' | wc -l; }
	sub_bg a 't'
	a=$!
	mkfifo in
	panic-bus pub t < in > /dev/null 2> err &
	pub=$!
	exec {w}>in
	echo '{"n":1}' >&"$w"
	wait_for grep -q '"n":1' a
	assert_equal "$(inotify)" 0 # nobody came or went: one scan was enough
	sub_bg b 't'
	b=$!
	echo '{"n":2}' >&"$w"
	wait_for grep -q '"n":2' b
	wait_for grep -q '"n":2' a
	assert_equal "$(inotify)" 1
	sub_bg c 't'
	c=$!
	kill -TERM "$b"
	wait "$b" || true
	echo '{"n":3}' >&"$w"
	wait_for grep -q '"n":3' c
	wait_for grep -q '"n":3' a
	kill -TERM "$a" "$c" # first: c holds the write end of in, made before it
	wait "$a" "$c" || true
	exec {w}>&-
	wait "$pub"
	assert_equal "$(cat err)" ""
	assert_equal "$(grep -c '"n"' a) $(grep -c '"n"' b) $(grep -c '"n"' c)" "3 1 1"
}

@test "clean removes dead subscribers and half-made leftovers, not live ones" {
	sub_bg live 'x'
	live=$!
	sub_bg dead 'x'
	dead=$!
	kill -9 "$dead"
	wait "$dead" || true
	# what a subscriber killed mid-subscribe leaves behind (pid 999999 is not running)
	mkfifo "$PANIC_BUS/.tmp.999999.0000abcd"
	echo '{}' > "$PANIC_BUS/.tmp.999999.0000abcd.info"
	echo '{}' > "$PANIC_BUS/sub.999999.0000abcd.info"
	run panic-bus -v clean
	assert_success
	assert_equal "$output" "panic-bus: removed 1 dead subscriber"
	assert_equal "$(subscribers)" 1
	assert_equal "$(ls "$PANIC_BUS" | grep -c 999999)" 0
	assert_equal "$(panic-bus ls --json | jq -r .pid)" "$live"
	kill "$live"
	wait "$live" || true
}

@test "a stopped subscriber never blocks a publisher; its drops are counted in ls" {
	sub_bg slow 'flood'
	slow=$!
	sub_bg fast -n 30000 --timeout 60 'flood'
	fast=$!
	kill -STOP "$slow"
	# 30,000 events of about 140 bytes: four times the stopped fifo's 1 MiB
	seq 1 30000 | awk '{ printf "{\"i\":%d,\"pad\":\"%s\"}\n", $1, "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy" }' > in
	timeout 60 panic-bus pub flood < in
	wait "$fast"
	assert_equal "$(wc -l < fast)" 30000
	run panic-bus ls --json
	drops=$(echo "$output" | jq -r "select(.pid == $slow) | .drops")
	queued=$(echo "$output" | jq -r "select(.pid == $slow) | .queued")
	[ "$drops" -gt 20000 ]
	[ "$queued" -gt 900000 ]
	assert_equal "$(echo "$output" | jq -r "select(.pid == $slow) | .alive")" true
	kill -CONT "$slow"
	kill "$slow"
	wait "$slow" || true
}

@test "an event over PIPE_BUF travels by reference and resolves to the whole event" {
	sub_bg out -n 2 'big'
	pid=$!
	big=$(head -c 10000 /dev/zero | tr '\0' z)
	panic-bus pub big "{\"s\":\"$big\"}" '{"s":"small"}'
	wait "$pid"
	assert_equal "$(jq -r '.data.s | length' out | paste -sd' ')" "10000 5"
	assert_equal "$(head -1 out | jq -r .data.s)" "$big"
	# the fifo carried a reference; the event is in the state file
	assert_equal "$(sql "select topic, length(event) > 10000 from bus_payloads")" "big|1"
}

@test "bad input to pub: clear errors, nothing wrong published" {
	sub_bg out -n 2 --timeout 120 '*'
	pid=$!
	run --separate-stderr panic-bus pub 'has space' '{}'
	assert_failure 2
	assert_equal "$(echo "$stderr" | head -1)" "panic-bus: pub: white space or control character in topic 'has space'"
	run --separate-stderr panic-bus pub '' '{}'
	assert_failure 2
	assert_equal "$(echo "$stderr" | head -1)" "panic-bus: pub: empty topic"
	run --separate-stderr panic-bus pub $'ctl\001x' '{}'
	assert_failure 2
	run --separate-stderr panic-bus pub t '{"ok":1}' '{"broken":'
	assert_failure 1
	assert_equal "$stderr" "panic-bus: argument 3: invalid JSON: Unfinished JSON term at EOF at line 1, column 10"
	run --separate-stderr panic-bus pub --json t '[1,2]'
	assert_failure 1
	assert_equal "$stderr" "panic-bus: argument 2: expected an object, got an array"
	# stdin: bad lines are skipped, good ones published
	{ echo '{"n":1}'; echo '{"n":'; printf 'a\0b\n'; echo '{"n":2}'; } > in
	run --separate-stderr panic-bus pub t < in
	assert_failure 1
	assert_equal "$stderr" "panic-bus: stdin:2: invalid JSON: Unfinished JSON term at EOF at line 1, column 5
panic-bus: stdin:3: NUL at byte 2"
	wait "$pid"
	assert_equal "$(jq -c .data out | paste -sd' ')" '{"n":1} {"n":2}'
}

@test "listen never misses what its PROGRAM publishes" {
	local n
	for n in $(seq 1 30); do
		run --separate-stderr panic-bus listen 'done:*' -- panic-bus pub "done:$n" "{\"n\":$n}"
		assert_success
		assert_equal "$(echo "$output" | jq -r .data.n)" "$n"
	done
	# PROGRAM's own output goes to stderr; its failure is ours
	run --separate-stderr panic-bus listen 'x' -- sh -c 'echo from-program; exit 3'
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "$stderr" "from-program
panic-bus: sh: exited with status 3"
}

@test "sub -n and --timeout end the wait; fewer events than -n is a failure" {
	run --separate-stderr panic-bus sub -n 1 --timeout 0.3 nothing
	assert_failure 1
	assert_equal "$stderr" "panic-bus: 0 of 1 events before the end"
	run --separate-stderr panic-bus sub --timeout 0.2 nothing
	assert_success
	assert_equal "$(fifos)" 0
}

@test "panic-invoke publishes llm events: start, then stop or exception" {
	run --separate-stderr panic-bus listen llm -- sh -c \
		'printf "%s\n" ok "{\"input\":\"BOOM\",\"run_id\":\"r1\"}" | PANIC_DUMMY_FAIL_MATCH=BOOM panic-invoke -m dummy-t2t -q > /dev/null; true'
	assert_success
	assert_equal "$(echo "$output" | jq -c '.data | [.event, .model, .run_id, .error.kind]' | paste -sd' ')" \
		'["start","dummy-t2t",null,null] ["stop","dummy-t2t",null,null] ["start","dummy-t2t","r1",null] ["exception","dummy-t2t","r1","injected"]'
	# the events name the calls in the log
	assert_equal "$(echo "$output" | jq -r .data.call_id | uniq | paste -sd,)" "$(sql 'select id from calls order by id' | paste -sd,)"
}

@test "options after the command are options, anywhere; -- ends them" {
	# before: sub took --count and --timeout for patterns and waited forever
	run --separate-stderr timeout 10 panic-bus sub x --count 1 --timeout 0.3
	assert_failure 1
	assert_equal "$stderr" "panic-bus: 0 of 1 events before the end"
	sub_bg got -n 2 't'
	pid=$!
	# before: --json and -v were published as events {"input":"--json"}
	panic-bus pub t '{"a":1}' --json -q
	panic-bus pub -- t '-5'
	wait "$pid"
	assert_equal "$(jq -c .data got | paste -sd' ')" '{"a":1} {"input":"-5"}'
	# listen's options stop at its first operand: PROGRAM keeps its own
	run --separate-stderr panic-bus listen --timeout 5 x -- sh -c 'printf "[%s]" "$@" >&2' sh -n 1
	assert_success
	assert_equal "$stderr" "[-n][1]"
}

@test "a reader gone while sub waits with nothing to say ends it at once" {
	# before: it stayed until the next matching event
	{ timeout 20 panic-bus sub nothing; echo "rc=$?" > rc; } | true
	assert_equal "$(cat rc)" "rc=0"
	assert_equal "$(fifos)" 0
}

@test "usage errors exit 2" {
	run --separate-stderr panic-bus
	assert_failure 2
	run --separate-stderr panic-bus frob
	assert_failure 2
	assert_equal "$(echo "$stderr" | head -1)" "panic-bus: unknown command 'frob' (pub, sub, listen, ls or clean)"
	run --separate-stderr panic-bus sub
	assert_failure 2
	run --separate-stderr panic-bus listen x
	assert_failure 2
	run --separate-stderr panic-bus pub
	assert_failure 2
	run --separate-stderr panic-bus --help
	assert_success
}

@test "signals: pub stops while its stdin is idle; sub never misses one" {
	panic-bus sub 't' > got &
	sub=$!
	wait_for bash -c '[ "$(panic-bus ls --json | wc -l)" = 1 ]'
	mkfifo in
	panic-bus pub t < in 2> err &
	pub=$!
	exec {w}>in
	echo '{"n":1}' >&"$w"
	wait_for grep -q '"n":1' got
	# stdin stays open and idle: SIGTERM ends pub anyway, exit 0
	kill -TERM "$pub"
	status=0
	wait "$pub" || status=$?
	exec {w}>&-
	assert_equal "$status" 0
	assert_equal "$(cat err)" ""
	kill -TERM "$sub"
	wait "$sub" || true
	# a signal sent at any moment of sub's start-up and loop ends it (once
	# it is panic-bus: before its exec the shell's child has bats' traps)
	bin=$(command -v panic-bus)
	for i in $(seq 20); do
		panic-bus sub 'x' > /dev/null &
		pid=$!
		while [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" != "$bin" ] && kill -0 "$pid" 2>/dev/null; do :; done
		sleep "0.0$((i % 10))"
		kill -TERM "$pid"
		timeout 5 tail --pid="$pid" -f /dev/null || fail "sub ignored SIGTERM (round $i)"
	done
	assert_equal "$(panic-bus ls --json | wc -l)" 0
}

@test "without XDG_RUNTIME_DIR (cron) the bus is the login session's, under /run/user/UID, if that is the user's" {
	uid=$(id -u)
	dir=/run/user/$uid made=
	if [ ! -e "$dir" ]; then
		[ -w /run/user ] || skip "no /run/user/$uid, and no right to make it"
		mkdir -m 0700 "$dir"
		made=1 MADE=$dir # teardown removes it, whatever happens
	fi
	[ "$(stat -c %u:%a "$dir")" = "$uid:700" ] || skip "$dir is not a login session's"
	# a session's subscriber (XDG_RUNTIME_DIR set), and cron's publisher
	XDG_RUNTIME_DIR=$dir PANIC_BUS= panic-bus sub -n 1 'cron:*' > out &
	pid=$!
	subscribed() { compgen -G "$dir/panic-$uid/bus/sub.*" > /dev/null; }
	wait_for subscribed
	env -u XDG_RUNTIME_DIR PANIC_BUS= panic-bus pub cron:tick '{"n": 1}'
	wait "$pid"
	assert_equal "$(jq -c '[.topic, .data]' out)" '["cron:tick",{"n":1}]'
	# a /run/user/UID that others may enter is not taken: /tmp it is
	if [ -n "$made" ]; then
		rm -rf "$dir/panic-$uid"
		chmod 0755 "$dir"
		env -u XDG_RUNTIME_DIR PANIC_BUS= panic-bus ls
		[ ! -e "$dir/panic-$uid" ]
		rmdir "$dir"
	fi
}
