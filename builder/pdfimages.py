"""Where every image is drawn in a written PDF: page, pixel size, drawn size, and a JPEG digest.

This reads the PDF file the build wrote, with pikepdf (qpdf: the file is read as needed, not
held, and a content stream is parsed in C++ for only the operators that place things), and
walks each page's content stream the way a viewer would: it keeps the graphics-state stack
(``q``/``Q``) and the current transformation matrix (``cm``), and at each ``Do`` of an image
XObject it records the size the unit square is drawn at. Form XObjects are followed, with their
own ``/Matrix`` and ``/Resources``.

The written PDF is the source of truth: it is what the printer gets, whatever the layout engine
meant. Nothing here touches WeasyPrint's private layout boxes, so it keeps working across
WeasyPrint versions and after any post-processing (imposition, page scaling).

Which images a page *lists* says nothing about which it *draws*: WeasyPrint gives all pages one
shared ``/XObject`` dictionary holding every image of the document, so only the content stream
tells where an image is. WeasyPrint 70 draws an ``<img>`` straight from the page's content stream
(clipped by a rectangle for ``object-fit``), and puts it inside a Form XObject when it is drawn
with ``opacity`` or as a ``no-repeat`` background; it embeds a JPEG as it is (``/DCTDecode``),
so the ``digest`` of a placement matches the SHA-256 of the JPEG file the builder gave it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)

MAX_FORM_DEPTH = 12  # Form XObjects inside Form XObjects; a real document needs two or three


@dataclass(frozen=True)
class Placement:
    """One image drawn once on one page.

    ``width_pt`` and ``height_pt`` are the drawn lengths of the image's own width and height edges
    (so a rotated or flipped image still has ``width_pt`` along its ``width_px``), in PDF points
    (1/72 in). ``digest`` is the SHA-256 (hex) of the image's JPEG bytes when it is stored as
    ``/DCTDecode``, else None (and None when it was not asked for: :func:`placed_images`);
    ``length`` is the length of those bytes when they are stored as they are (``/DCTDecode``
    alone), read from the stream's dictionary.
    """

    page: int  # 1-based
    name: str  # the XObject's name in the resources it was drawn from, e.g. "/Im3"
    width_px: int
    height_px: int
    width_pt: float
    height_pt: float
    digest: str | None
    length: int | None = None

    @property
    def dpi(self) -> float:
        """The effective resolution: pixels per inch as printed, on the worse of the two axes."""
        per_axis = [px / (pt / 72) for px, pt in ((self.width_px, self.width_pt),
                                                   (self.height_px, self.height_pt)) if pt > 0]
        return min(per_axis) if per_axis else math.inf


def placed_images(path: Path | pikepdf.Pdf,
                  digest_when: Callable[[int, int, int | None], bool] | None = None
                  ) -> list[Placement]:
    """Every image XObject drawn in the PDF at ``path``, by page and then in drawing order.
    ``digest_when(width_px, height_px, length)``: whether to read and hash a JPEG's bytes
    for its ``digest`` (by default every JPEG's are).

    An image drawn twice (on one page or on two) is listed twice. Followed: the page content and
    Form XObjects, to any depth up to ``MAX_FORM_DEPTH`` (a form that draws itself, directly or
    not, is drawn once and not re-entered).

    Not reported: inline images (``BI … ID … EI`` in a content stream: they have no name, and
    WeasyPrint writes them only as the glyphs of bitmap fonts); images in Type 3 glyphs and in
    annotation appearances; images painted through a tiling pattern (a repeated CSS
    ``background``: the pattern cell is drawn an unbounded number of times).
    """
    if not isinstance(path, pikepdf.Pdf):
        with pikepdf.open(path) as pdf:
            return placed_images(pdf, digest_when)
    walker = _Walker(digest_when)
    found: list[Placement] = []
    for number, page in enumerate(path.pages, 1):
        if "/Contents" not in page.obj:
            continue
        unit = _number(page.obj.get("/UserUnit", 1)) or 1.0
        walker.walk(_operations(page), _dict(page.obj.get("/Resources")),
                    (unit, 0.0, 0.0, unit, 0.0, 0.0), number, found, stack=())
    return found


#: The operators that move the drawing or draw an XObject: all the walk needs.
_OPERATORS = "q Q cm Do"


def _operations(owner) -> list:
    """The ``q``, ``Q``, ``cm`` and ``Do`` of a page's or a form's content; none when it cannot
    be read (a damaged stream draws nothing that can be measured)."""
    try:
        return pikepdf.parse_content_stream(owner, _OPERATORS)
    except (pikepdf.PdfError, ValueError, TypeError):
        return []


def _dict(obj: Any) -> pikepdf.Dictionary | None:
    if isinstance(obj, pikepdf.Stream):
        obj = obj.stream_dict
    return obj if isinstance(obj, pikepdf.Dictionary) else None


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _multiply(m: Matrix, n: Matrix) -> Matrix:
    """``m × n`` for PDF's row-vector matrices: apply ``m`` first, then ``n``."""
    a1, b1, c1, d1, e1, f1 = m
    a2, b2, c2, d2, e2, f2 = n
    return (a1 * a2 + b1 * c2, a1 * b2 + b1 * d2,
            c1 * a2 + d1 * c2, c1 * b2 + d1 * d2,
            e1 * a2 + f1 * c2 + e2, e1 * b2 + f1 * d2 + f2)


def _matrix(values: Any) -> Matrix | None:
    try:
        m = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        return None
    return m if len(m) == 6 else None  # type: ignore[return-value]


def _filters(xobject: pikepdf.Stream) -> list[str]:
    f = xobject.get("/Filter")
    if f is None:
        return []
    if isinstance(f, pikepdf.Array):
        return [str(x) for x in f]
    return [str(f)]


def _key(obj: pikepdf.Object) -> Any:
    return obj.objgen if obj.is_indirect else id(obj)


class _Walker:
    def __init__(self, digest_when: Callable[[int, int, int | None], bool] | None):
        self.digest_when = digest_when
        self.digests: dict[Any, tuple[str | None, int | None]] = {}  # key → digest, length
        self.operations: dict[Any, list] = {}  # form object key → its content

    def walk(self, operations: list, resources: pikepdf.Dictionary | None, ctm: Matrix,
             page: int, found: list[Placement], stack: tuple[Any, ...]) -> None:
        xobjects = _dict(resources.get("/XObject")) if resources is not None else None
        saved: list[Matrix] = []
        for operands, operator in operations:
            op = bytes(operator)
            if op == b"q":
                saved.append(ctm)
            elif op == b"Q":
                if saved:  # an unbalanced Q is an error in the PDF; keep going as viewers do
                    ctm = saved.pop()
            elif op == b"cm":
                m = _matrix(operands)
                if m is not None:
                    ctm = _multiply(m, ctm)
            elif op == b"Do" and operands and xobjects is not None:
                name = operands[0]
                if not isinstance(name, pikepdf.Name) or name not in xobjects:
                    continue
                xobject = xobjects[name]
                if not isinstance(xobject, pikepdf.Stream):
                    continue
                key = _key(xobject)
                subtype = xobject.get("/Subtype")
                if subtype == "/Image":
                    found.append(self.placement(xobject, key, str(name), ctm, page))
                elif subtype == "/Form" and key not in stack and len(stack) < MAX_FORM_DEPTH:
                    self.form(xobject, key, resources, ctm, page, found, stack)

    def form(self, form: pikepdf.Stream, key: Any, outer: pikepdf.Dictionary | None,
             ctm: Matrix, page: int, found: list[Placement], stack: tuple[Any, ...]) -> None:
        m = _matrix(form.get("/Matrix", ())) or IDENTITY
        # A form without /Resources uses those of what draws it (PDF 1.1 allowed this).
        resources = _dict(form.get("/Resources"))
        if resources is None:
            resources = outer
        if key not in self.operations:
            self.operations[key] = _operations(form)
        self.walk(self.operations[key], resources, _multiply(m, ctm), page, found,
                  stack + (key,))

    def placement(self, image: pikepdf.Stream, key: Any, name: str, ctm: Matrix,
                  page: int) -> Placement:
        a, b, c, d, _, _ = ctm
        width = int(_number(image.get("/Width", 0)) or 0)
        height = int(_number(image.get("/Height", 0)) or 0)
        if key not in self.digests:
            length = self.length(image)
            wanted = self.digest_when is None or self.digest_when(width, height, length)
            self.digests[key] = (self.digest(image) if wanted else None, length)
        digest, length = self.digests[key]
        return Placement(page=page, name=name, width_px=width, height_px=height,
                         width_pt=math.hypot(a, b), height_pt=math.hypot(c, d),
                         digest=digest, length=length)

    @staticmethod
    def length(image: pikepdf.Stream) -> int | None:
        """The length of the JPEG a ``/DCTDecode`` image holds as it is, from its
        dictionary (nothing read); None for any other image."""
        if _filters(image) not in (["/DCTDecode"], ["/DCT"]):
            return None
        value = _number(image.get("/Length"))
        return int(value) if value is not None and value >= 0 else None

    @staticmethod
    def digest(image: pikepdf.Stream) -> str | None:
        """SHA-256 of the JPEG a ``/DCTDecode`` image holds: its data with every filter but the
        DCT undone (``[/FlateDecode /DCTDecode]`` gives the JPEG inside). The SOI check makes
        sure it is a JPEG file."""
        filters = _filters(image)
        if not filters or filters[-1] not in ("/DCTDecode", "/DCT"):
            return None
        try:
            data = image.read_raw_bytes() if len(filters) == 1 else \
                image.read_bytes(pikepdf.StreamDecodeLevel.generalized)
        except pikepdf.PdfError:  # a filter that cannot be undone: no digest, not a failure
            return None
        return hashlib.sha256(data).hexdigest() if data[:2] == b"\xff\xd8" else None
