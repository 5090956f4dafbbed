# bash completion for panic-invoke
_panic_invoke() {
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	-m|--model)
		COMPREPLY=($(compgen -W "$(panic-invoke --list -q 2>/dev/null)" -- "$cur"))
		return ;;
	--models|--db|--bus)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	-p|--profile)
		local f=${PANIC_PROFILES:-${XDG_CONFIG_HOME:-$HOME/.config}/panic/profiles.json}
		COMPREPLY=($(compgen -W "$(jq -r 'keys[]' "$f" 2>/dev/null)" -- "$cur"))
		return ;;
	--tool)
		[[ $cur == *=* ]] && COMPREPLY=($(compgen -c -- "${cur#*=}" | sed "s|^|${cur%%=*}=|"))
		return ;;
	--types)
		COMPREPLY=($(compgen -W "text:text text:image text:audio image:text image:image image:audio audio:text audio:image audio:audio" -- "$cur"))
		return ;;
	-j|--jobs|--from|--timeout|--max-line|--system|--temperature|--max-tokens|--schema|\
	--tool-rounds|--tool-schema|--base-url|--key-env|--attempts|--attempt-timeout)
		return ;;
	esac
	local i
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == -- ]]; then
			COMPREPLY=($(compgen -c -- "$cur"))
			return
		fi
	done
	COMPREPLY=($(compgen -W "-m --model -p --profile -j --jobs --system --temperature
		--max-tokens --schema --stream --tool --tool-rounds --base-url --key-env --attempts
		--attempt-timeout --allow-http-key --no-strict --tool-schema
		--from --timeout --types --models
		--no-log --db --bus --max-line -R --raw-input -l --list --json --table -q --quiet -v --verbose
		-h --help --version --" -- "$cur"))
}
complete -F _panic_invoke panic-invoke
