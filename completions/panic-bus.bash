# bash completion for panic-bus
_panic_bus() {
	local cur prev cmd i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	--bus|--db)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	-n|--count|--timeout)
		return ;;
	esac
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--) COMPREPLY=($(compgen -c -- "$cur")); return ;;
		pub|sub|listen|ls|clean) cmd=${cmd:-${COMP_WORDS[i]}} ;;
		esac
	done
	if [[ $cur == -* || -z $cmd ]]; then
		local words="-n --count --timeout --shared -R --raw-input --json --table --max-line --bus --db -q --quiet
			-v --verbose -h --help --version"
		[[ -z $cmd ]] && words="pub sub listen ls clean $words"
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
		return
	fi
	case $cmd in
	pub|sub|listen)
		COMPREPLY=($(compgen -W "llm invocation: prompt: run: agents:changed agent:" -- "$cur")) ;;
	esac
}
complete -F _panic_bus panic-bus
