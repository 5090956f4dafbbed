# bash completion for agent-run
_agent_run() {
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	--abilities|--models|--db|--bus)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--max-line|--timeout|--max-output|--restart-delay|--flap-count|--flap-window|--poll|--keep-events|--max-queue|-j|--jobs)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "-a --all -f --force --exit-on-eof -R --raw-input --json
			--max-line --abilities --timeout
			--max-output --restart-delay --flap-count --flap-window --poll --keep-events
			-j --jobs --max-queue --models --db --bus -q --quiet -v --verbose -h --help
			--version" -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -W "$(agent-ctl list --json 2>/dev/null | sed -n 's/.*"name":"\([^"]*\)".*/\1/p')" -- "$cur"))
}
complete -F _agent_run agent-run
