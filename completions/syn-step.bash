# bash completion for syn-step
_syn_step() {
	local cur prev i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == -- ]]; then
			COMPREPLY=($(compgen -c -- "$cur"))
			return
		fi
	done
	case $prev in
	-m|--model)
		COMPREPLY=($(compgen -W "$(panic-invoke --list -q 2>/dev/null)" -- "$cur"))
		return ;;
	--models|--db|--bus)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--tool|--scorer)
		[[ $cur == *=* ]] && COMPREPLY=($(compgen -c -- "${cur#*=}" | sed "s|^|${cur%%=*}=|"))
		return ;;
	--jq|--prompt|--to|--system|--temperature|--max-tokens|--output-schema|--suspend|--schema|\
	--metadata|--retry|--backoff|--timeout|--fallback|-j|--jobs|--workflow|--max-line)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "--jq -m --model --prompt --to --system --temperature --max-tokens
			--output-schema --stream --tool --score --suspend --schema --metadata --retry
			--backoff --timeout --fallback --scorer -j --jobs --fresh --workflow --last
			--models --db --bus -R --raw-input --json --max-line -q --quiet -v --verbose -h --help --version --" -- "$cur"))
	fi
}
complete -F _syn_step syn-step
