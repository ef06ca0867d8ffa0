"""The errors a user can cause. The CLI prints each as one line and exits 1.

Anything else that escapes is a bug: the CLI shows its traceback under ``--debug``.
"""


class BuilderError(Exception):
    """A user's mistake or an environment problem, with where it happened."""

    category = "error"

    def __init__(self, message: str, location: str | None = None):
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        if self.location:
            return f"{self.location}: {self.message}"
        return self.message


class SourceError(BuilderError):
    """An article file that cannot be read or understood."""

    category = "source"


class ConfigError(BuilderError):
    """A bad book.toml or command-line value."""

    category = "config"


class ThemeError(BuilderError):
    """A template or stylesheet that cannot be found or rendered."""

    category = "theme"


class OutputError(BuilderError):
    """An output that cannot be written, or a strict build that degraded."""

    category = "output"


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the build's main thread as Ctrl-C is, so that it unwinds the same
    way (the staging folder removed, the downloads cancelled)."""
