"""User-facing errors: the CLI prints a BgmError as one line and exits with code 2."""


class BgmError(Exception):
    """An error caused by the user's input (a file, an option, a checkpoint), not by a bug."""
