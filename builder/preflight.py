"""Preflight: what a print shop (or a home printer) will find in a PDF, read from the file
with pikepdf. One pass over each page's content, into the forms and patterns it draws, keeps
the graphics state (the transformation matrix, the text matrix, the colour spaces) and notes:

- the page, trim and bleed boxes; every font embedded;
- each photo's effective resolution where it is placed (below 300 dpi listed for a shop,
  below 150 for home);
- the colour spaces used (PDF/X-1a: CMYK and grey only; PDF/X-4: no uncalibrated RGB, as its
  output intent is CMYK);
- any transparency (soft masks, constant alpha below 1, blend modes, transparency groups),
  which PDF/X-1a forbids;
- text inside the safe margin along the trim, where a cutting blade may take it;
- the output intent and the identification a PDF/X must carry; for a booklet, a page count
  that is a multiple of four.

A *problem* fails the profile (a print shop would refuse the file); a *warning* is listed for
the user to judge. The home profile has warnings only.
"""

from __future__ import annotations

import contextlib
import math
import struct
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf

from .model import PT_PER_MM

PROFILES = ("pdf/x-1a", "pdf/x-4", "home")
NAMES = {"pdf/x-1a": "PDF/X-1a", "pdf/x-4": "PDF/X-4", "home": "home printer"}
SHOP_DPI, HOME_DPI = 300, 150
#: Text closer than this to the trimmed edge may be cut.
SAFE_MARGIN_MM = 3.0
MAX_DEPTH = 12
#: What opening a file that is not a readable PDF raises.
UNREADABLE = (OSError, pikepdf.PdfError)

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


@dataclass(frozen=True)
class Finding:
    page: int  # from 1; 0 for the whole document
    message: str
    fails: bool  # a problem (the profile fails), else a warning

    def line(self) -> str:
        where = f"page {self.page}: " if self.page else ""
        return f"{'problem' if self.fails else 'warning'}: {where}{self.message}"


@dataclass
class Result:
    profile: str
    pages: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(f.fails for f in self.findings)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.fails]

    def to_json(self) -> dict:
        return {"profile": self.profile, "pages": self.pages, "passed": self.passed,
                "problems": [f.line() for f in self.findings if f.fails],
                "warnings": [f.line() for f in self.findings if not f.fails]}


def preflight(path: Path | Pdf, profile: str = "home", booklet: bool = False,
              only: Collection[int] | None = None) -> Result:
    """Check the PDF at ``path`` (or that PDF, opened) for ``profile`` (one of
    :data:`PROFILES`); ``booklet``: its pages are to be folded into a saddle-stitched booklet.
    ``only``: the pages (from 0) to check, the others taken as checked before (what the
    document as a whole has is checked all the same)."""
    shop = profile != "home"
    _WIDTHS.clear()  # by object number: of one file only
    with contextlib.nullcontext(path) if isinstance(path, Pdf) else Pdf.open(path) as pdf:
        result = Result(profile, len(pdf.pages))
        note = result.findings.append
        if booklet:
            result.findings += folded(len(pdf.pages))
        if shop:
            _document(pdf, profile, note)
        fonts: set[tuple[int, int]] = set()
        for number, page in enumerate(pdf.pages, 1):
            if only is not None and number - 1 not in only:
                continue
            try:
                trim = _boxes(page, number, shop, note)
                seen = _Seen()
                _walk(page.obj, page.obj.get("/Resources", Dictionary()), IDENTITY, seen, 0)
                _page_findings(number, page, seen, trim, profile, fonts, note)
                if shop:
                    _annotations(page, number, note)
            except (TypeError, ValueError, IndexError, KeyError, pikepdf.PdfError) as exc:
                note(Finding(number, f"cannot be read: {type(exc).__name__}: {exc}"[:200],
                             True))
        return result


def folded(pages: int) -> list[Finding]:
    """What a book of ``pages`` pages folded into a saddle-stitched booklet is found to
    have."""
    if pages % 4 == 0:
        return []
    return [Finding(0, f"{pages} pages, not a multiple of 4: a saddle-stitched booklet gets "
                       f"{-pages % 4} blank page(s) at the end", False)]


#: The annotations a PDF/X may have on its pages.
PRINT_ANNOTATIONS = ("/TrapNet", "/PrinterMark")


def _annotations(page: pikepdf.Page, number: int, note) -> None:
    kinds = sorted({str(a.get("/Subtype", "?")) for a in page.obj.get("/Annots", Array())
                    if isinstance(a, Dictionary)} - set(PRINT_ANNOTATIONS))
    if kinds:
        note(Finding(number, f"annotations ({', '.join(k.lstrip('/') for k in kinds)}): "
                             "a PDF/X page has none but printer's marks", True))


def _document(pdf: Pdf, profile: str, note) -> None:
    intents = pdf.Root.get("/OutputIntents", Array())
    pdfx = [i for i in intents if i.get("/S") == Name.GTS_PDFX]
    if not pdfx:
        note(Finding(0, "no PDF/X output intent (the press's colour profile)", True))
    elif "/DestOutputProfile" not in pdfx[0] and "/OutputConditionIdentifier" not in pdfx[0]:
        note(Finding(0, "the output intent names no profile", True))
    info = pdf.trailer.get("/Info", Dictionary())
    if "/Title" not in info:
        note(Finding(0, "no document title (PDF/X needs one)", True))
    if str(info.get("/Trapped", "")) not in ("/True", "/False"):
        note(Finding(0, "trapping not stated (/Trapped must be True or False)", True))
    if profile == "pdf/x-1a":
        if not str(info.get("/GTS_PDFXVersion", "")).startswith("PDF/X-1"):
            note(Finding(0, "not identified as PDF/X-1a (GTS_PDFXVersion)", True))
        if float(pdf.pdf_version) > 1.4:
            note(Finding(0, f"PDF {pdf.pdf_version}: PDF/X-1a:2003 is PDF 1.4 at most", True))
    else:
        with pdf.open_metadata() as meta:
            version = meta.get("pdfxid:GTS_PDFXVersion", "")
        if not version.startswith("PDF/X-4"):
            note(Finding(0, "not identified as PDF/X-4 (pdfxid:GTS_PDFXVersion in the XMP)",
                         True))


def _boxes(page: pikepdf.Page, number: int, shop: bool, note) -> tuple[float, ...]:
    media = [float(v) for v in page.mediabox]
    trim = [float(v) for v in page.obj.get("/TrimBox", page.obj.get("/ArtBox", page.mediabox))]
    if shop and "/TrimBox" not in page.obj and "/ArtBox" not in page.obj:
        note(Finding(number, "no trim box", True))
    if "/BleedBox" in page.obj:
        bleed = [float(v) for v in page.obj.BleedBox]
        if not _inside(trim, bleed, 0.01) or not _inside(bleed, media, 0.01):
            note(Finding(number, "the bleed box is not between the trim and the media box",
                         shop))
    elif shop:
        note(Finding(number, "no bleed box", False))
    return tuple(trim)


def _inside(inner, outer, slack: float) -> bool:
    return (inner[0] >= outer[0] - slack and inner[1] >= outer[1] - slack
            and inner[2] <= outer[2] + slack and inner[3] <= outer[3] + slack)


@dataclass
class _Seen:
    """What one page draws."""

    spaces: dict[str, str] = field(default_factory=dict)  # kind -> first thing using it
    images: list[tuple[str, int, int, float, float]] = field(default_factory=list)
    transparency: list[str] = field(default_factory=list)
    fonts: list[pikepdf.Object] = field(default_factory=list)
    text: list[tuple[float, float, float, float, str]] = field(default_factory=list)


def _walk(holder: pikepdf.Object, resources: Dictionary, ctm: Matrix, seen: _Seen,
          depth: int) -> None:
    """Follow one content stream with its graphics state."""
    if depth > MAX_DEPTH:
        return
    stack: list[Matrix] = []
    tm = tlm = IDENTITY
    font, size, leading, scale = None, 0.0, 0.0, 1.0
    group = holder.get("/Group") if isinstance(holder, pikepdf.Stream) else None
    if group is not None and group.get("/S") == Name.Transparency and depth:
        seen.transparency.append("a transparency group")
    states: dict[str, list[str]] = {}  # what each graphics state named here brings
    fonts: dict[str, pikepdf.Object | None] = {}  # each font named here
    for operands, operator in pikepdf.parse_content_stream(holder):
        op = str(operator)
        if op == "q":
            stack.append(ctm)
        elif op == "Q" and stack:
            ctm = stack.pop()
        elif op == "cm" and len(operands) == 6:
            ctm = _mul(tuple(map(float, operands)), ctm)
        elif op in ("rg", "RG"):
            seen.spaces.setdefault("DeviceRGB", "a colour")
        elif op in ("k", "K"):
            seen.spaces.setdefault("DeviceCMYK", "a colour")
        elif op in ("cs", "CS") and operands:
            seen.spaces.setdefault(_space_kind(operands[0], resources), "a colour")
        elif op == "gs" and operands:
            name = str(operands[0])
            if name not in states:
                state = resources.get("/ExtGState", Dictionary()).get(name)
                states[name] = list(_state_transparency(state)) \
                    if isinstance(state, Dictionary) else []
            seen.transparency.extend(states[name])
        elif op in ("scn", "SCN") and operands and isinstance(operands[-1], Name):
            pattern = resources.get("/Pattern", Dictionary()).get(str(operands[-1]))
            if isinstance(pattern, pikepdf.Stream) and pattern.get("/PatternType") == 1:
                _walk(pattern, pattern.get("/Resources", resources), ctm, seen, depth + 1)
            elif isinstance(pattern, Dictionary) and isinstance(pattern.get("/Shading"),
                                                                Dictionary):
                seen.spaces.setdefault(_space_kind(pattern.Shading.get("/ColorSpace"),
                                                   resources), "a gradient")
        elif op == "sh" and operands:
            shading = resources.get("/Shading", Dictionary()).get(str(operands[0]))
            if isinstance(shading, Dictionary):
                seen.spaces.setdefault(_space_kind(shading.get("/ColorSpace"), resources),
                                       "a gradient")
        elif op == "Do" and operands:
            _draw(resources.get("/XObject", Dictionary()).get(str(operands[0])),
                  str(operands[0]), resources, ctm, seen, depth)
        elif op == "BT":
            tm = tlm = IDENTITY
        elif op == "Tf" and len(operands) == 2:
            name = str(operands[0])
            if name not in fonts:
                fonts[name] = resources.get("/Font", Dictionary()).get(name)
            font, size = fonts[name], float(operands[1])
            if font is not None:
                seen.fonts.append(font)
        elif op == "Tz" and operands:
            scale = float(operands[0]) / 100
        elif op == "TL" and operands:
            leading = float(operands[0])
        elif op in ("Td", "TD") and len(operands) == 2:
            if op == "TD":
                leading = -float(operands[1])
            tlm = tm = _mul((1, 0, 0, 1, float(operands[0]), float(operands[1])), tlm)
        elif op == "Tm" and len(operands) == 6:
            tlm = tm = tuple(map(float, operands))
        elif op == "T*":
            tlm = tm = _mul((1, 0, 0, 1, 0, -leading), tlm)
        elif op in ("Tj", "TJ", "'", '"') and operands:
            if op in ("'", '"'):
                tlm = tm = _mul((1, 0, 0, 1, 0, -leading), tlm)
            advance, text = _shown(operands[-1], font, size, scale)
            m = _mul(tm, ctm)
            start, end = _apply(m, 0, 0), _apply(m, advance, 0)
            top, bottom = _apply(m, 0, size * 0.88), _apply(m, 0, -size * 0.12)
            xs, ys = (start[0], end[0]), (top[1], bottom[1], start[1])
            seen.text.append((min(xs), min(ys), max(xs), max(ys), text))
            tm = _mul((1, 0, 0, 1, advance, 0), tm)
        elif op == "BI":
            seen.spaces.setdefault("inline image", "an inline image")


def _draw(obj, name: str, resources: Dictionary, ctm: Matrix, seen: _Seen, depth: int) -> None:
    if not isinstance(obj, pikepdf.Stream):
        return
    if obj.get("/Subtype") == Name.Image:
        wide = math.hypot(ctm[0], ctm[1])
        high = math.hypot(ctm[2], ctm[3])
        if not obj.get("/ImageMask", False):
            seen.spaces.setdefault(_space_kind(obj.get("/ColorSpace"), resources),
                                   f"image {name}")
        seen.images.append((name, int(obj.get("/Width", 0)), int(obj.get("/Height", 0)),
                            wide, high))
        if "/SMask" in obj:
            seen.transparency.append(f"image {name} has a soft mask (alpha)")
    elif obj.get("/Subtype") == Name.Form:
        matrix = tuple(float(v) for v in obj.get("/Matrix", IDENTITY))
        _walk(obj, obj.get("/Resources", resources), _mul(matrix, ctm), seen, depth + 1)


def _state_transparency(state: Dictionary) -> Iterator[str]:
    for key, what in (("/ca", "fill opacity"), ("/CA", "stroke opacity")):
        value = state.get(key)
        if value is not None and float(value) < 1:
            yield f"{what} {float(value):g}"
    mask = state.get("/SMask")
    if mask is not None and mask != Name("/None"):
        yield "a soft mask"
    mode = state.get("/BM")
    if mode is not None and str(mode) not in ("/Normal", "/Compatible", "[/Normal]"):
        yield f"blend mode {mode}"


def _space_kind(space, resources: Dictionary) -> str:
    """DeviceRGB, DeviceCMYK, DeviceGray, ICCBased RGB/CMYK/Gray, Lab, Indexed …, Separation …"""
    if isinstance(space, Name):
        text = str(space)[1:]
        if text in ("DeviceRGB", "DeviceCMYK", "DeviceGray", "Pattern"):
            return text
        named = resources.get("/ColorSpace", Dictionary()).get(str(space))
        return _space_kind(named, resources) if named is not None else text
    if isinstance(space, Array) and len(space):
        family = str(space[0])[1:]
        if family == "ICCBased":
            n = int(space[1].get("/N", 0))
            return f"ICCBased {({1: 'Gray', 3: 'RGB', 4: 'CMYK'}).get(n, n)}"
        if family == "Indexed" and len(space) > 1:
            return f"Indexed {_space_kind(space[1], resources)}"
        if family in ("Separation", "DeviceN") and len(space) > 2:
            return f"{family} {_space_kind(space[2], resources)}"
        if family == "Pattern":
            return "Pattern"
        return family
    return "DeviceGray" if space is None else str(space)


#: Colour spaces each print-shop profile refuses, by the start of their kind.
REFUSED = {
    "pdf/x-1a": ("DeviceRGB", "ICCBased", "Lab", "CalRGB", "CalGray", "Indexed DeviceRGB",
                 "Indexed ICCBased", "Indexed Lab", "Separation DeviceRGB", "DeviceN DeviceRGB",
                 "Separation ICCBased", "DeviceN ICCBased", "inline image"),
    "pdf/x-4": ("DeviceRGB", "Indexed DeviceRGB", "Separation DeviceRGB", "DeviceN DeviceRGB"),
}


def _page_findings(number: int, page: pikepdf.Page, seen: _Seen, trim, profile: str,
                   fonts: set, note) -> None:
    shop = profile != "home"
    if page.obj.get("/Group") is not None and page.obj.Group.get("/S") == Name.Transparency:
        seen.transparency.append("a page transparency group")
    for kind, what in sorted(seen.spaces.items()):
        if shop and kind.startswith(REFUSED[profile]):
            takes = "CMYK and grey only" if profile == "pdf/x-1a" else "no uncalibrated RGB"
            note(Finding(number, f"{what} in {kind} (a {NAMES[profile]} file takes {takes})",
                         True))
    if profile == "pdf/x-1a":
        for what in sorted(set(seen.transparency)):
            note(Finding(number, f"transparency: {what} (PDF/X-1a takes none)", True))
    least = SHOP_DPI if shop else HOME_DPI
    for name, w_px, h_px, wide, high in seen.images:
        if wide <= 0 or high <= 0:
            continue
        dpi = min(w_px / (wide / 72), h_px / (high / 72))
        if dpi < least - 0.5:
            note(Finding(number, f"image {name} is {dpi:.0f} dpi where placed "
                                 f"({wide / PT_PER_MM:.0f}×{high / PT_PER_MM:.0f} mm; "
                                 f"{least} dpi or more prints sharp)", False))
    for font in seen.fonts:
        key = font.objgen
        if key in fonts:
            continue
        fonts.add(key)
        if not _embedded(font):
            note(Finding(number, f"font {str(font.get('/BaseFont', '?'))[1:]} is not embedded",
                         shop))
    _margins(number, seen.text, trim, note)


def _margins(number: int, text, trim, note) -> None:
    safe = SAFE_MARGIN_MM * PT_PER_MM
    x0, y0, x1, y1 = trim
    worst: dict[str, tuple[float, str]] = {}
    for tx0, ty0, tx1, ty1, shown in text:
        if not shown.strip() or tx1 < x0 or tx0 > x1 or ty1 < y0 or ty0 > y1:
            continue  # off the trimmed page: in the bleed or the slug, not the book's text
        for edge, gap in (("left", tx0 - x0), ("right", x1 - tx1), ("bottom", ty0 - y0),
                          ("top", y1 - ty1)):
            if gap < safe and gap < worst.get(edge, (math.inf, ""))[0]:
                worst[edge] = (gap, shown)
    for edge, (gap, shown) in sorted(worst.items()):
        label = f" “{shown.strip()[:20]}”" if shown.strip("· ") else ""
        note(Finding(number, f"text{label} is {max(gap, 0) / PT_PER_MM:.1f} mm from the "
                             f"trim's {edge} edge (keep {SAFE_MARGIN_MM:g} mm)", False))


def _embedded(font: pikepdf.Object) -> bool:
    if font.get("/Subtype") == Name.Type3:
        return True
    if font.get("/Subtype") == Name.Type0:
        kids = font.get("/DescendantFonts", Array())
        font = kids[0] if len(kids) else font
    descriptor = font.get("/FontDescriptor")
    return descriptor is not None and any(k in descriptor for k in
                                          ("/FontFile", "/FontFile2", "/FontFile3"))


def _shown(value, font, size: float, scale: float) -> tuple[float, str]:
    """The advance (in text space) and the text of a Tj string or TJ array; widths from the
    font's /W or /Widths where given, else a full em per glyph of a two-byte (CID) font and
    half an em for others."""
    widths, two_byte = _widths(font)
    unit = size * scale / 1000
    parts = value if isinstance(value, Array) else [value]
    advance, text = 0.0, []
    for part in parts:
        if isinstance(part, pikepdf.String):
            data = bytes(part)
            if two_byte:
                codes = struct.unpack(f">{len(data) // 2}H", data[:len(data) // 2 * 2])
                advance += sum(widths.get(c, 1000) for c in codes) * unit
                text.append("·" * len(codes))  # glyph ids: what they read needs the CMap
            else:
                advance += sum(widths.get(c, 500) for c in data) * unit
                text.append(data.decode("latin-1"))
        else:
            advance -= float(part) * unit
    return advance, "".join(text)


_WIDTHS: dict[tuple[int, int], tuple[dict[int, float], bool]] = {}


def _widths(font) -> tuple[dict[int, float], bool]:
    """The font's widths by code, and whether its codes are two bytes (a CID font)."""
    if font is None:
        return {}, False
    key = font.objgen
    if key in _WIDTHS and key != (0, 0):
        return _WIDTHS[key]
    out: dict[int, float] = {}
    two_byte = font.get("/Subtype") == Name.Type0
    if two_byte:
        kids = font.get("/DescendantFonts", Array())
        w = kids[0].get("/W", Array()) if len(kids) else Array()
        i = 0
        while i < len(w) - 1:
            first = int(w[i])
            if isinstance(w[i + 1], Array):
                for n, width in enumerate(w[i + 1]):
                    out[first + n] = float(width)
                i += 2
            elif i + 2 < len(w):
                for code in range(first, int(w[i + 1]) + 1):
                    out[code] = float(w[i + 2])
                i += 3
            else:
                break
    else:
        first = int(font.get("/FirstChar", 0))
        for n, width in enumerate(font.get("/Widths", Array())):
            out[first + n] = float(width)
    if len(_WIDTHS) > 256:
        _WIDTHS.clear()
    _WIDTHS[key] = out, two_byte
    return out, two_byte


def _mul(m: Matrix, n: Matrix) -> Matrix:
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s,
            e * p + f * r + t, e * q + f * s + u)


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])
