# bash completion for fwd.
#
# Installed by `make install` into $(PREFIX)/share/bash-completion/completions/fwd, where the
# bash-completion package loads it on first use. Without that package, source it from ~/.bashrc.

# Prints the host aliases of the ssh_config files: the words of Host lines without patterns.
# The files are the -F file on the command line, else ~/.ssh/config and /etc/ssh/ssh_config.
# NOTE: Include lines are not followed.
_fwd_hosts() {
  local files=("$HOME/.ssh/config" /etc/ssh/ssh_config)
  local i
  for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
    if [[ ${COMP_WORDS[i]} == -F ]]; then
      files=("${COMP_WORDS[i + 1]/#\~/$HOME}")
    fi
  done
  awk 'tolower($1) == "host" {
         for (i = 2; i <= NF; i++) if ($i !~ /[*?!]/) print $i
       }' "${files[@]}" 2>/dev/null
}

_fwd() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  local prev=${COMP_WORDS[COMP_CWORD - 1]}
  local options="-4 -6 -N -f -G -g -q -v -V --version -D -E -F -I -i -J -L -H -l -o -R -W -p
    --pidfile --ready-fd --no-rebuild --rebuild-attempts --status --pin-fd --pin-file
    --pin-allow-final-try -h --help"
  COMPREPLY=()

  case $prev in
    -E | -F | -i | -I | --pidfile | --pin-file)
      compopt -o filenames 2>/dev/null
      COMPREPLY=($(compgen -f -- "$cur"))
      return
      ;;
    -J)
      # A comma-separated list: complete the host after the last comma.
      local done=""
      [[ $cur == *,* ]] && done=${cur%,*},
      COMPREPLY=($(compgen -P "$done" -W "$(_fwd_hosts)" -- "${cur##*,}"))
      return
      ;;
    -L | -l | -o | -p | -D | -R | -H | -W | --ready-fd | --pin-fd | --rebuild-attempts)
      # Free-form values: nothing to offer.
      return
      ;;
  esac

  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$options" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(_fwd_hosts)" -- "$cur"))
  fi
}

complete -F _fwd fwd
