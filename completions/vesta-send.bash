# bash completion for vesta-send
_vesta_send_config() {
	local f=${PANIC_VESTA:-${XDG_CONFIG_HOME:-$HOME/.config}/panic/vesta.json} i
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		[[ ${COMP_WORDS[i]} == --config ]] && f=${COMP_WORDS[i+1]}
	done
	jq -r ".$1 // {} | keys[]" "$f" 2>/dev/null
}
_vesta_send() {
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	-b|--board)
		COMPREPLY=($(compgen -W "$(_vesta_send_config boards)" -- "$cur"))
		return ;;
	--installation)
		COMPREPLY=($(compgen -W "$(_vesta_send_config installations)" -- "$cur"))
		return ;;
	--size)
		COMPREPLY=($(compgen -W "flagship note" -- "$cur"))
		return ;;
	--config|--db|--bus)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--from|--interval|--attempts|--timeout|--max-line)
		return ;;
	esac
	COMPREPLY=($(compgen -W "-b --board --codes --preview --size --from --installation --stdin
		--interval --attempts --timeout --config -R --raw-input --json --max-line
		--db --bus -q --quiet -v --verbose -h --help --version" -- "$cur"))
}
complete -F _vesta_send vesta-send
