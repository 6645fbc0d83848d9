"""User-facing errors: the CLI prints a BgmError as one line and exits with code 2; a run stopped
by Ctrl-C or SIGTERM says how far it got (Interrupted) and exits with 130 (143 for SIGTERM)."""


class BgmError(Exception):
    """An error caused by the user's input (a file, an option, a checkpoint), not by a bug."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler's stop), raised where Ctrl-C would raise KeyboardInterrupt, so that
    both stop a run the same way: partial files removed, finished work kept."""


class Interrupted(Exception):
    """A run stopped by Ctrl-C or SIGTERM; the message says how far it got and how to go on."""

    def __init__(self, message: str, *, terminated: bool = False):
        super().__init__(message)
        self.terminated = terminated
