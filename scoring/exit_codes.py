"""Exit codes of the `python -m scoring` command line, for every module that registers a command.

Kept apart from scoring.cli so that a command's module (backup, accounts, …) can return them without
importing the command line, which imports those modules to register their commands.
"""

EXIT_OK = 0  # done; the input is usable (warnings allowed)
EXIT_BAD_INPUT = 2  # the input is not usable: one Vietnamese line names the file and what is wrong
