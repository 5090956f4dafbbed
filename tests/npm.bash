# npm: test oracles from the npm registry, installed once per checkout under
# build/npm (not per test), and put on NODE_PATH.
#
#   load npm; npm_oracles s3rver@3.7.1 @smithy/signature-v4@5.7.5 ...
#
# The packages are pinned (NAME@VERSION): the oracle a suite checks against
# does not move under it. A package already there at its version is not
# installed again; installs are serialised with a lock.
npm_oracles() {
	local dir=$TOP/build/npm
	mkdir -p "$dir"
	(
		flock 9
		missing=
		for spec in "$@"; do
			name=${spec%@*} version=${spec##*@}
			have=$(jq -r .version "$dir/node_modules/$name/package.json" 2>/dev/null)
			[ "$have" = "$version" ] || missing="$missing $spec"
		done
		[ -z "$missing" ] && exit 0
		cd "$dir" || exit 1
		[ -f package.json ] || echo '{"name":"panic-test-oracles","private":true}' > package.json
		# shellcheck disable=SC2086
		npm install --no-audit --no-fund --loglevel=error $missing > "$dir/install.log" 2>&1 ||
			{ cat "$dir/install.log" >&2; exit 1; }
	) 9> "$dir/.lock" || return 1
	export NODE_PATH=$dir/node_modules
}
