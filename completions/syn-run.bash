# bash completion for syn-run
_syn_run_workflows() {
	local d dirs=${SYN_PATH:-${XDG_CONFIG_HOME:-$HOME/.config}/panic/workflows}
	local IFS=:
	for d in $dirs; do
		[ -d "$d" ] && (cd "$d" && ls)
	done 2> /dev/null
}
_syn_run() {
	local cur prev cmd i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	case $prev in
	--db|--bus)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--status)
		COMPREPLY=($(compgen -W "running waiting_for_human completed failed stopped" -- "$cur"))
		return ;;
	--at|--step|--workflow|-n|--limit)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "--at --print --step --status --workflow -n --limit --all
			--json --table --db --bus -q --quiet -v --verbose -h --help --version" -- "$cur"))
		return
	fi
	case $cmd in
	'')
		COMPREPLY=($(compgen -W "start resume inspect history stop ls describe test export" -- "$cur"))
		COMPREPLY+=($(compgen -f -X '!*/*' -- "$cur")) ;;
	start|describe|test)
		COMPREPLY=($(compgen -W "$(_syn_run_workflows)" -- "$cur") $(compgen -f -- "$cur")) ;;
	resume|inspect|history|stop|export)
		local s=
		[ "$cmd" = resume ] && s='--status waiting_for_human'
		COMPREPLY=($(compgen -W "$(syn-run ls --json $s 2>/dev/null | jq -r .id 2>/dev/null)" -- "$cur")) ;;
	esac
}
complete -F _syn_run syn-run
