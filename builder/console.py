"""What the user sees while the tool works: a progress bar on a terminal, plain lines when
output goes elsewhere, nothing with ``-q``."""

from __future__ import annotations

import sys
import threading

from .text import shown_url


class ConsoleProgress:
    """The ``progress`` callback of the fetch stage, drawn for a person."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.bar = None
        self.task = None
        self.done = 0
        self.total = 0
        self.bytes = 0
        self._lock = threading.Lock()  # the fetch stage calls from its worker threads

    def __call__(self, event: str, **kw) -> None:
        if self.quiet:
            return
        with self._lock:
            self._show(event, **kw)

    def _show(self, event: str, **kw) -> None:
        if event == "start":
            self.total = kw["total"]
            if self.tty and self.total:
                from rich.filesize import decimal
                from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
                self._size = decimal
                self.bar = Progress(TextColumn("images"), BarColumn(), MofNCompleteColumn(),
                                    TextColumn("· {task.fields[size]}"), transient=True)
                self.bar.start()
                self.task = self.bar.add_task("images", total=self.total, size="0 bytes")
            elif self.total:
                print(f"fetching {self.total} image(s)", file=sys.stderr)
        elif event == "bytes":
            self.bytes += kw["n"]
            if self.bar is not None:
                self.bar.update(self.task, size=self._size(self.bytes))
        elif event == "done":
            self.done += 1
            if self.bar is not None:
                self.bar.update(self.task, advance=1)
            elif kw.get("status") == "placeholder" or self.done == self.total:
                detail = f" {shown_url(kw['url'])}: {kw['reason']}" if kw.get("reason") else ""
                print(f"  [{self.done}/{self.total}] {kw['status']}{detail}", file=sys.stderr)
        elif event == "end" and self.bar is not None:
            self.bar.stop()
            self.bar = None
