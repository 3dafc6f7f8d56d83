# bash completion for rhizome.
#
# Load it from ~/.bashrc:   source <(rhizome completion bash)
# or install it once:       rhizome completion bash > ~/.local/share/bash-completion/completions/rhizome
#
# The candidates come from rhizome itself: `rhizome __complete WORD…` gets the words after
# "rhizome" up to the cursor and prints what may come next, one a line (commands, flags,
# environments, databases, the pids and names of running processes). It prints nothing, never an
# error, when it has nothing to offer, and never starts an agent.

_rhizome() {
	COMPREPLY=()
	local line i
	# After --, the words are a command of their own (forward --exec ENV DB -- CMD…): complete
	# them as bash would, with the command's own completion when bash-completion has one.
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == -- ]]; then
			# connect's words after -- are its client's arguments, not a command: file names.
			if [[ " ${COMP_WORDS[*]:1:i-1} " == *" connect "* ]]; then
				compopt -o default
				return
			fi
			if declare -F _command_offset >/dev/null; then
				_command_offset $((i + 1))
			elif ((COMP_CWORD == i + 1)); then
				while IFS= read -r line; do
					COMPREPLY+=("$line")
				done < <(compgen -c -- "${COMP_WORDS[COMP_CWORD]}")
			else
				compopt -o default # no candidates: readline completes file names
			fi
			return
		fi
	done
	while IFS= read -r line; do
		COMPREPLY+=("$line")
	done < <(command rhizome __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
}

complete -F _rhizome rhizome
