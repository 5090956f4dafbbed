# bash completion for panic-web
_panic_web() {
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	--models|--db)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--root|--bus)
		COMPREPLY=($(compgen -d -- "$cur"))
		return ;;
	--listen)
		COMPREPLY=($(compgen -W "127.0.0.1:8080 0.0.0.0:8080 [::1]:8080 [::]:8080" -- "$cur"))
		return ;;
	--threads|--ping)
		return ;;
	esac
	COMPREPLY=($(compgen -W "--listen --root --threads --ping --models --db --bus
		-q --quiet -v --verbose -h --help --version" -- "$cur"))
}
complete -F _panic_web panic-web
