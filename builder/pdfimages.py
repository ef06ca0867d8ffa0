"""Where every image is drawn in a written PDF: page, pixel size, drawn size, and a JPEG digest.

This reads the PDF file the build wrote, with pypdf's public API only, and walks each page's
content stream the way a viewer would: it keeps the graphics-state stack (``q``/``Q``) and the
current transformation matrix (``cm``), and at each ``Do`` of an image XObject it records the size
the unit square is drawn at. Form XObjects are followed, with their own ``/Matrix`` and
``/Resources``.

The written PDF is the source of truth: it is what the printer gets, whatever the layout engine
meant. Nothing here touches WeasyPrint's private layout boxes, so it keeps working across
WeasyPrint versions and after any post-processing (imposition, page scaling) done with pypdf.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ContentStream, DictionaryObject, IndirectObject, StreamObject

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)

MAX_FORM_DEPTH = 12  # Form XObjects inside Form XObjects; a real document needs two or three


@dataclass(frozen=True)
class Placement:
    """One image drawn once on one page.

    ``width_pt`` and ``height_pt`` are the drawn lengths of the image's own width and height edges
    (so a rotated or flipped image still has ``width_pt`` along its ``width_px``), in PDF points
    (1/72 in). ``digest`` is the SHA-256 (hex) of the image's JPEG bytes when it is stored as
    ``/DCTDecode``, else None.
    """

    page: int  # 1-based
    name: str  # the XObject's name in the resources it was drawn from, e.g. "/Im3"
    width_px: int
    height_px: int
    width_pt: float
    height_pt: float
    digest: str | None

    @property
    def dpi(self) -> float:
        """The effective resolution: pixels per inch as printed, on the worse of the two axes."""
        per_axis = [px / (pt / 72) for px, pt in ((self.width_px, self.width_pt),
                                                   (self.height_px, self.height_pt)) if pt > 0]
        return min(per_axis) if per_axis else math.inf


def placed_images(path: Path | PdfReader) -> list[Placement]:
    """Every image XObject drawn in the PDF at ``path``, by page and then in drawing order.

    An image drawn twice (on one page or on two) is listed twice. Followed: the page content and
    Form XObjects, to any depth up to ``MAX_FORM_DEPTH`` (a form that draws itself, directly or
    not, is drawn once and not re-entered).

    Not reported: inline images (``BI … ID … EI`` in a content stream: they have no name, and
    WeasyPrint writes them only as the glyphs of bitmap fonts); images in Type 3 glyphs and in
    annotation appearances; images painted through a tiling pattern (a repeated CSS
    ``background``: the pattern cell is drawn an unbounded number of times).
    """
    reader = path if isinstance(path, PdfReader) else PdfReader(str(path))
    walker = _Walker(reader)
    found: list[Placement] = []
    for number, page in enumerate(reader.pages, 1):
        contents = _get(page, "/Contents")
        if contents is None:
            continue
        unit = float(_get(page, "/UserUnit", 1) or 1)
        resources = _dict(_get(page, "/Resources"))
        walker.walk(ContentStream(contents, reader), resources,
                    (unit, 0.0, 0.0, unit, 0.0, 0.0), number, found, stack=())
    return found


def _get(d: DictionaryObject, key: str, default: Any = None) -> Any:
    """``d[key]`` resolved (``dict.get`` would hand back an ``IndirectObject``), or ``default``."""
    return d[key] if key in d else default


def _dict(obj: Any) -> DictionaryObject | None:
    obj = obj.get_object() if obj is not None else None
    return obj if isinstance(obj, DictionaryObject) else None


def _multiply(m: Matrix, n: Matrix) -> Matrix:
    """``m × n`` for PDF's row-vector matrices: apply ``m`` first, then ``n``."""
    a1, b1, c1, d1, e1, f1 = m
    a2, b2, c2, d2, e2, f2 = n
    return (a1 * a2 + b1 * c2, a1 * b2 + b1 * d2,
            c1 * a2 + d1 * c2, c1 * b2 + d1 * d2,
            e1 * a2 + f1 * c2 + e2, e1 * b2 + f1 * d2 + f2)


def _matrix(values: Any) -> Matrix | None:
    try:
        m = tuple(float(v.get_object()) for v in values)
    except (TypeError, ValueError):
        return None
    return m if len(m) == 6 else None  # type: ignore[return-value]


def _filters(xobject: StreamObject) -> list[str]:
    f = _get(xobject, "/Filter")
    if f is None:
        return []
    if isinstance(f, list):
        return [str(x.get_object()) for x in f]
    return [str(f)]


class _Walker:
    def __init__(self, reader: PdfReader):
        self.reader = reader
        self.digests: dict[Any, str | None] = {}  # image object key → digest
        self.operations: dict[Any, ContentStream] = {}  # form object key → its content

    def walk(self, stream: ContentStream, resources: DictionaryObject | None, ctm: Matrix,
             page: int, found: list[Placement], stack: tuple[Any, ...]) -> None:
        if b"Do" not in stream.get_data():  # no XObject drawn: do not parse the text
            return
        xobjects = _dict(_get(resources, "/XObject")) if resources is not None else None
        saved: list[Matrix] = []
        for operands, operator in stream.operations:
            if operator == b"q":
                saved.append(ctm)
            elif operator == b"Q":
                if saved:  # an unbalanced Q is an error in the PDF; keep going as viewers do
                    ctm = saved.pop()
            elif operator == b"cm":
                m = _matrix(operands)
                if m is not None:
                    ctm = _multiply(m, ctm)
            elif operator == b"Do" and operands and xobjects is not None:
                name = str(operands[0])
                ref = xobjects.raw_get(name) if name in xobjects else None
                if ref is None:
                    continue
                xobject = ref.get_object()
                if not isinstance(xobject, StreamObject):
                    continue
                key = ((ref.idnum, ref.generation) if isinstance(ref, IndirectObject)
                       else id(xobject))
                subtype = _get(xobject, "/Subtype")
                if subtype == "/Image":
                    found.append(self.placement(xobject, key, name, ctm, page))
                elif subtype == "/Form" and key not in stack and len(stack) < MAX_FORM_DEPTH:
                    self.form(xobject, key, resources, ctm, page, found, stack)

    def form(self, form: StreamObject, key: Any, outer: DictionaryObject | None, ctm: Matrix,
             page: int, found: list[Placement], stack: tuple[Any, ...]) -> None:
        m = _matrix(_get(form, "/Matrix", ())) or IDENTITY
        # A form without /Resources uses those of what draws it (PDF 1.1 allowed this).
        resources = _dict(_get(form, "/Resources"))
        if resources is None:
            resources = outer
        if key not in self.operations:
            self.operations[key] = ContentStream(form, self.reader)
        self.walk(self.operations[key], resources, _multiply(m, ctm), page, found,
                  stack + (key,))

    def placement(self, image: StreamObject, key: Any, name: str, ctm: Matrix,
                  page: int) -> Placement:
        a, b, c, d, _, _ = ctm
        if key not in self.digests:
            self.digests[key] = self.digest(image)
        return Placement(page=page, name=name,
                         width_px=int(_get(image, "/Width", 0)),
                         height_px=int(_get(image, "/Height", 0)),
                         width_pt=math.hypot(a, b), height_pt=math.hypot(c, d),
                         digest=self.digests[key])

    @staticmethod
    def digest(image: StreamObject) -> str | None:
        """SHA-256 of the JPEG a ``/DCTDecode`` image holds.

        pypdf leaves DCT data as it is: for a lone ``/DCTDecode`` filter ``get_data()`` is the raw
        stream, and after ``[/FlateDecode /DCTDecode]`` it is the JPEG inside. The SOI check makes
        sure it is a JPEG file, should pypdf ever decode DCT into pixels.
        """
        filters = _filters(image)
        if not filters or filters[-1] not in ("/DCTDecode", "/DCT"):
            return None
        try:
            data = image.get_data()
        except Exception:  # a filter pypdf cannot undo: no digest, not a failure
            return None
        return hashlib.sha256(data).hexdigest() if data[:2] == b"\xff\xd8" else None
