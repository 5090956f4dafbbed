# bash completion for panic-watch
_panic_watch() {
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	--models|--db|--bus)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--grid)
		COMPREPLY=($(compgen -W "1x1 1x2 2x2 2x3 3x3 3x4 4x4" -- "$cur"))
		return ;;
	--single)
		COMPREPLY=($(compgen -W "0/1 0/2 1/2 0/3 1/3 2/3" -- "$cur"))
		return ;;
	--size)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "--grid --single --show-invoking --once --size --models --db --bus
			-q --quiet -v --verbose -h --help --version" -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -W "$(panic-net list --json 2>/dev/null | sed -n 's/.*"name":"\([^"]*\)".*/\1/p')" -- "$cur"))
}
complete -F _panic_watch panic-watch
