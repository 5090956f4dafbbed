# bash completion for panic-net
_panic_net() {
	local cur prev cmd i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	--models|--db)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	-l|--lockout|-d|--description)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "-l --lockout -d --description -f --force --json --table
			--models --db -q --quiet -v --verbose -h --help --version" -- "$cur"))
		return
	fi
	local args=()
	for ((i = 1; i < COMP_CWORD; i++)); do
		[[ ${COMP_WORDS[i]} == -* ]] && continue
		case ${COMP_WORDS[i-1]} in -l|--lockout|-d|--description|--models|--db) continue ;; esac
		args+=("${COMP_WORDS[i]}")
	done
	if [[ ${#args[@]} -eq 0 ]]; then
		COMPREPLY=($(compgen -W "create set show list delete" -- "$cur"))
	elif [[ ${#args[@]} -eq 1 && ${args[0]} != create ]]; then
		COMPREPLY=($(compgen -W "$(panic-net list --json 2>/dev/null | sed -n 's/.*"name":"\([^"]*\)".*/\1/p')" -- "$cur"))
	elif [[ ${args[0]} == create || ${args[0]} == set ]]; then
		COMPREPLY=($(compgen -W "$(panic-invoke --list -q 2>/dev/null)" -- "$cur"))
	fi
}
complete -F _panic_net panic-net
