# fish completion for rhizome.
#
# Install it once:                   rhizome completion fish > ~/.config/fish/completions/rhizome.fish
# or load it from config.fish:       rhizome completion fish | source
#
# The candidates come from rhizome itself: `rhizome __complete WORD…` gets the words after
# "rhizome" up to the cursor and prints what may come next, one a line (commands, flags,
# environments, databases, the pids and names of running processes). It prints nothing, never an
# error, when it has nothing to offer, and never starts an agent. `rhizome __describe` is the
# same, but a line may add a tab and what the candidate is (a database's engine), which fish
# shows beside it.

function __rhizome_complete
    set -l words (commandline -opc)
    set -e words[1]
    # After --, the words are a command of their own (forward --exec ENV DB -- CMD…): complete
    # them as fish completes that command line.
    if set -l i (contains -i -- -- $words)
        # connect's words after -- are its client's arguments, not a command: file names.
        if contains -- connect $words[1..$i]
            __fish_complete_path (commandline -ct)
            return
        end
        set -l rest
        if test $i -lt (count $words)
            set rest $words[(math $i + 1)..-1]
        end
        complete -C (string join ' ' -- (string escape -- $rest) (commandline -ct))
        return
    end
    command rhizome __describe $words (commandline -ct) 2>/dev/null
end

complete -c rhizome -f -a '(__rhizome_complete)'
