# bash completion for panic-loop
_panic_loop() {
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	--models|--db|--bus)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--pace|--max|--retries|--backoff|--max-line)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "--pace --max --retries --backoff --archive --exit-on-eof --status --stop -R --raw-input --json --max-line
			--models --db --bus -q --quiet -v --verbose -h --help --version" -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -W "$(panic-net list --json 2>/dev/null | sed -n 's/.*"name":"\([^"]*\)".*/\1/p')" -- "$cur"))
}
complete -F _panic_loop panic-loop
