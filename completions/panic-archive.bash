# bash completion for panic-archive
_panic_archive() {
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	--dir)
		COMPREPLY=($(compgen -d -- "$cur"))
		return ;;
	--config|--models|--db)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--type)
		COMPREPLY=($(compgen -W "image audio" -- "$cur"))
		return ;;
	--image-format)
		COMPREPLY=($(compgen -W "keep webp" -- "$cur"))
		return ;;
	--audio-format)
		COMPREPLY=($(compgen -W "keep mp3 ogg" -- "$cur"))
		return ;;
	-j|--jobs|--from|--max-bytes|--timeout|--base-url|--endpoint|--bucket|--region|--prefix|--public-url|--max-line)
		return ;;
	esac
	COMPREPLY=($(compgen -W "-j --jobs --from --type --dir --convert --image-format --audio-format
		--max-bytes --timeout --base-url --endpoint --bucket --region --prefix --public-url
		--config --models -R --raw-input --json --max-line --db -q --quiet -v --verbose
		-h --help --version" -- "$cur"))
}
complete -F _panic_archive panic-archive
