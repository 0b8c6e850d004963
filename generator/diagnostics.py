"""Problems found while building, carried as values rather than raised or logged.

Every stage returns its diagnostics next to its result; the CLI sorts and prints them
as ``path:line: message`` and turns errors into exit code 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(Enum):
    ERROR = "error"
    WARNING = "warning"  # shown, but the build succeeds
    LINT = "lint"  # shown only by `timeline check --strict`, which counts it as an error


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem: where it is (``path`` relative to the site root, ``line`` 1-based or 0
    when unknown) and a message that says what is wrong and how to fix it."""

    path: str
    line: int
    message: str
    severity: Severity = Severity.ERROR

    def format(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        prefix = "warning: " if self.severity is Severity.WARNING else ""
        return f"{where}: {prefix}{self.message}"


def error(path: str, line: int, message: str) -> Diagnostic:
    return Diagnostic(path, line, message, Severity.ERROR)


def warning(path: str, line: int, message: str) -> Diagnostic:
    return Diagnostic(path, line, message, Severity.WARNING)


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def sort_key(d: Diagnostic) -> tuple[str, int, str]:
    return (d.path, d.line, d.message)
