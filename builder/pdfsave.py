"""A PDF written with pikepdf as the builder writes every PDF: its streams as they are, the
same bytes from the same inputs, and a document ID made of what the file is made from.

qpdf's own deterministic ID hashes the whole file in a pass of its own before writing it
(about 0.15 s per 100 MB, for the book, the booklet and a PDF/X each); the ID here is a digest
of the file's inputs instead: the parts' keys for the book, the book's ID and the imposition
for the booklet. qpdf keeps the first word of the ID given and writes its fixed second word.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pikepdf
from pikepdf import Array, Pdf, String


def save(pdf: Pdf, out, basis: tuple[str, ...], **options) -> None:
    """Write ``pdf`` to ``out`` (a path or a file) with the document ID made of ``basis``
    (the same inputs give the same ID, other inputs another); ``options`` go to pikepdf."""
    first = String(word(basis))
    pdf.trailer.ID = Array([first, first])
    pdf.save(out, static_id=True, stream_decode_level=pikepdf.StreamDecodeLevel.none, **options)


def word(basis: tuple[str, ...]) -> bytes:
    """The first word of the document ID :func:`save` gives a PDF made of ``basis``."""
    return hashlib.sha256(json.dumps(basis).encode()).digest()[:16]


def origin(pdf: Pdf, path: Path) -> str:
    """What identifies the PDF at ``path``, opened as ``pdf``: the first word of its document
    ID, or (a file without one) its SHA-256."""
    ident = pdf.trailer.get("/ID")
    if isinstance(ident, Array) and len(ident) and isinstance(ident[0], String):
        return bytes(ident[0]).hex()
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
