"""The one exception type a user can act on."""


class UserError(Exception):
    """Bad input from the user (config, flags, files, an unreachable API).

    The message is one line that says what went wrong and how to fix it; the CLI prints it
    without a traceback and exits with status 2.
    """
