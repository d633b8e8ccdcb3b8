"""The one error type every stage raises for problems a user can fix."""

from __future__ import annotations


class HousevoiceError(Exception):
    """A problem with the user's input or workspace, told in one readable line.

    The CLI prints `str(error)` and exits non-zero; no stack trace is shown.
    """

    def __init__(self, message: str, *, hint: str | None = None):
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message} — {hint}")


class SourceError(HousevoiceError):
    """A source file that cannot be read: names the file and, when known, the line."""

    def __init__(self, path, reason: str, *, line: int | None = None, hint: str | None = None):
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {reason}", hint=hint)


class WorkspaceError(HousevoiceError):
    """A missing, locked or damaged workspace."""


class ConfigError(HousevoiceError):
    """An invalid housevoice.toml: names the key, the value and what is allowed."""
