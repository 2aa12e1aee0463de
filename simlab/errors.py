"""The one exception type that means "the user gave us bad input"."""


class InputError(ValueError):
    """Bad input (a flag, a config file, an import file, a database path).

    The message is one line naming what is wrong and what is allowed. The CLI
    prints it and exits with code 2; nothing has been written when it is raised.
    """
