#!/usr/bin/env bats
# panic-web in a real headless Chromium (Debian's chromium, driven by
# playwright-core from npm, pinned): a grid display updates live as a
# network runs at --pace 0, with no reload; it fits the screen, landscape
# and portrait, with no scrollbars; model output stays text; the networks
# page's status follows a runner live; its prompt box posts through the
# CSRF check. Screenshots
# go to build/test-output/510-web-browser/ (their paths are printed as TAP
# comments) for a person to look at.

bats_require_minimum_version 1.5.0
load helper
load web

@test "a grid display follows a run at --pace 0 without a reload; fits the screen; output stays text" {
	load npm
	npm_oracles playwright-core@1.56.1
	panic-net create art dummy-t2t -l 0 > /dev/null
	echo 'an earlier run' | panic-loop art --pace 0 --max 3 > /dev/null
	start_web
	out=$TOP/build/test-output/510-web-browser
	rm -rf "$out" && mkdir -p "$out"
	run --separate-stderr timeout 120 node "$TOP/tests/web/display.js" "$URL" art "$out"
	[ "$status" = 0 ] || fail "browser: $stderr"
	r=$output
	assert_equal "$(echo "$r" | jq -c .before)" '["0","1","2","slot empty","slot empty","slot empty"]'
	assert_equal "$(echo "$r" | jq -c .after)" '[6,7,8,9,10,11]'
	assert_equal "$(echo "$r" | jq -c .not_reloaded)" true
	assert_equal "$(echo "$r" | jq -r .prompt)" '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script> a cat'
	assert_equal "$(echo "$r" | jq -c .pwned)" null
	assert_equal "$(echo "$r" | jq -c .markup_in_slots)" 0
	[ "$(echo "$r" | jq .markup_as_text)" -ge 1 ]
	assert_equal "$(echo "$r" | jq -c '[.fits_landscape, .fits_portrait, .single_fits]')" '[true,true,true]'
	assert_equal "$(echo "$r" | jq -c .single)" '[9]'
	assert_equal "$(echo "$r" | jq -c .networks)" '["art"]'
	# the networks page's status follows the runner, with no reload
	# (the seconds left are as the page drew them: 1.0 s or a little less)
	assert_equal "$(echo "$r" | jq -c '.live_status | map(sub("next in [0-9.]+ s"; "next in N s"))')" '["waiting, next in N s","not running"]'
	[[ "$(echo "$r" | jq -r '.live_status[0]')" =~ next\ in\ (1\.0|0\.[0-9])\ s$ ]]
	assert_equal "$(echo "$r" | jq -c .live_not_reloaded)" true
	# no runner: the prompt box says so (the form passed the CSRF check)
	assert_equal "$(echo "$r" | jq -r .prompt_answer)" "network 'art' has no runner (start one: panic-loop art)"
	assert_equal "$(echo "$r" | jq -c .errors)" '[]'
	for f in $(echo "$r" | jq -r '.shots[]'); do
		[ -s "$f" ] || fail "no screenshot $f"
		echo "# screenshot: $f" >&3
	done
}
