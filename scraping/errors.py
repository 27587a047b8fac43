"""The one exception type for user errors: the CLI prints its message as `error: …` and exits 2."""


class UsageError(Exception):
    """A bad argument, input file or output folder, with a message that says what to do."""
