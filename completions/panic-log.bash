# bash completion for panic-log
_panic_log() {
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	-m|--model)
		COMPREPLY=($(compgen -W "$(panic-invoke --list -q 2>/dev/null)" -- "$cur"))
		return ;;
	--db)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	-n|--count|--network|--run|--agent|-s|--search)
		return ;;
	esac
	COMPREPLY=($(compgen -W "-n --count -m --model --network --run --agent -s --search -t --totals --json --table --db -q --quiet -v --verbose -h --help --version" -- "$cur"))
}
complete -F _panic_log panic-log
