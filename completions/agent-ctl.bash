# bash completion for agent-ctl
_agent_ctl() {
	local cur prev i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	--status)
		COMPREPLY=($(compgen -W "active inactive error disabled_flapping" -- "$cur"))
		return ;;
	--model)
		COMPREPLY=($(compgen -W "$(panic-invoke --list -q 2>/dev/null)" -- "$cur"))
		return ;;
	-a|--ability)
		local d dirs=("${XDG_CONFIG_HOME:-$HOME/.config}/panic/abilities")
		COMPREPLY=($(compgen -W "echo llm $(for d in "${dirs[@]}"; do ls "$d" 2>/dev/null; done)" -- "$cur"))
		return ;;
	--tz)
		COMPREPLY=($(cd /usr/share/zoneinfo 2>/dev/null && compgen -f -- "$cur"))
		return ;;
	--models|--db|--abilities|--bus)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--key-env)
		COMPREPLY=($(compgen -e -- "$cur"))
		return ;;
	-j|--concurrency)
		COMPREPLY=($(compgen -W "default 1 2 4 8" -- "$cur"))
		return ;;
	--base-url|--system|-p|--prompt|-r|--responsibility|--retry|--fields|--from|-n|--count)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "--status --model --key-env --base-url --system -p --prompt
			-a --ability -r --responsibility --retry -j --concurrency --fields --from --tz
			-n --count --utc
			--json --table --abilities --models --db --bus -q --quiet -v --verbose
			-h --help --version" -- "$cur"))
		return
	fi
	local args=()
	for ((i = 1; i < COMP_CWORD; i++)); do
		[[ ${COMP_WORDS[i]} == -* ]] && continue
		case ${COMP_WORDS[i-1]} in
		--status|--model|--key-env|--base-url|--system|-p|--prompt|-a|--ability|-r|--responsibility|--retry|-j|--concurrency|--fields|--from|--tz|-n|--count|--abilities|--models|--db|--bus) continue ;;
		esac
		args+=("${COMP_WORDS[i]}")
	done
	if [[ ${#args[@]} -eq 0 ]]; then
		COMPREPLY=($(compgen -W "add set show list activate deactivate remove import export
			edit status next events" -- "$cur"))
	elif [[ ${args[0]} == import ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
	elif [[ ${args[0]} != add && ${args[0]} != next && ${args[0]} != list ]]; then
		COMPREPLY=($(compgen -W "$(agent-ctl list --json 2>/dev/null | sed -n 's/.*"name":"\([^"]*\)".*/\1/p')" -- "$cur"))
	fi
}
complete -F _agent_ctl agent-ctl
