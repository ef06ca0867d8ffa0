"""Make the written book a PDF/X for a print shop: its colours and photos converted, its output
intent and identification written. WeasyPrint can only label a file PDF/X; this makes the file
what the label says, and :mod:`.preflight` checks that it is before the label stays.

- **PDF/X-1a** (CMYK only, no transparency, PDF 1.4): every photo is converted from sRGB to
  CMYK through :data:`CMYK_PROFILE` (relative colorimetric, black point compensation) and
  stored as a CMYK JPEG; a photo with an alpha channel is flattened on white paper first.
- **PDF/X-4** (PDF 1.6): photos stay RGB, tagged with the sRGB profile (ICCBased), so that the
  shop's RIP converts them to its press; transparency is allowed.

In both, colours set in the page content as RGB become CMYK, and a neutral grey (black text
above all) becomes pure K, never four-colour black. The output intent embeds
:data:`CMYK_PROFILE`, Ghostscript's CMYK profile (Artifex CMYK SWOP), which the Debian package
``libgs-common`` ships.

A converted photo is cached by its bytes and the profile (the build's image store), so a
rebuild converts nothing it converted before.
"""

from __future__ import annotations

import functools
import hashlib
import io
import uuid
from collections.abc import Callable
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf, PdfImage, String

from .pdfsave import origin, save
from .profiles import CMYK_PROFILE, ProfileMissing, profile_bytes  # noqa: F401 - re-exported

VARIANTS = ("pdf/x-1a", "pdf/x-4")
JPEG_QUALITY = 85
#: Adobe's CMYK JPEGs (Pillow writes them so) store inverted values; this reads them right.
ADOBE_DECODE = [1, 0, 1, 0, 1, 0, 1, 0]
_OPERATORS = {"rg": "k", "RG": "K"}

#: ``cache(key, make)``: the bytes stored under ``key``, made (and stored) when absent.
Cache = Callable[[str, Callable[[], bytes]], bytes]


class _Colours:
    """sRGB to CMYK through the profile, one colour or one image at a time."""

    def __init__(self, profile: bytes):
        from PIL import ImageCms

        self.profile = profile
        srgb = ImageCms.createProfile("sRGB")
        cmyk = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        self.transform = ImageCms.buildTransform(
            srgb, cmyk, "RGB", "CMYK", renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
            flags=ImageCms.Flags.BLACKPOINTCOMPENSATION)
        self.known: dict[tuple[float, float, float], list[float]] = {}

    def colour(self, r: float, g: float, b: float) -> list[float]:
        if abs(r - g) < 1e-3 and abs(g - b) < 1e-3:
            return [0, 0, 0, round(1 - r, 4)]  # a neutral grey: K alone
        key = (r, g, b)
        if key not in self.known:
            from PIL import Image, ImageCms

            pixel = Image.new("RGB", (1, 1), tuple(round(255 * v) for v in key))
            cmyk = ImageCms.applyTransform(pixel, self.transform).getpixel((0, 0))
            self.known[key] = [round(v / 255, 4) for v in cmyk]
        return self.known[key]

    def image(self, image) -> bytes:
        from PIL import ImageCms

        out = io.BytesIO()
        ImageCms.applyTransform(image, self.transform).save(out, "JPEG", quality=JPEG_QUALITY,
                                                            optimize=True)
        return out.getvalue()


@functools.cache
def _colours(profile: bytes) -> _Colours:
    """One transform to the profile a process (building it takes some 20 ms: once, not once a
    part)."""
    return _Colours(profile)


def cmyk_photos(path: Path, cache: Cache | None = None) -> None:
    """The photos of the PDF at ``path`` (a part of the book) made CMYK, as :func:`convert`
    makes them for a PDF/X-1a, in place: each part of the book converted on its own, before
    the join, the conversions of the whole book are never held at once (the book's photos in
    CMYK JPEG are some 3.5 times their RGB bytes); :func:`finish` then finds them done."""
    colours = _colours(profile_bytes())
    with Pdf.open(path) as pdf:
        for obj in list(pdf.objects):
            if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == Name.Image \
                    and not obj.get("/ImageMask", False):
                _to_cmyk(obj, colours, cache)
        _save_beside(pdf, path, lambda out: pdf.save(
            out, static_id=True, stream_decode_level=pikepdf.StreamDecodeLevel.none))


def _save_beside(pdf: Pdf, path: Path, write: Callable[[Path], None]) -> None:
    """``write`` the open ``pdf`` to a file beside ``path``, then put it in ``path``'s place:
    the file is read while it is written, never loaded whole into memory to be overwritten."""
    out = path.with_name(f".{path.name}.press")
    try:
        write(out)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    out.replace(path)


def convert(path: Path, variant: str, cache: Cache | None = None) -> None:
    """Make the PDF at ``path`` a ``variant`` (one of :data:`VARIANTS`) in place."""
    with Pdf.open(path) as pdf:
        basis = (variant, origin(pdf, path))
        options = finish(pdf, variant, cache)
        _save_beside(pdf, path, lambda out: save(pdf, out, basis, **options))


def finish(pdf: Pdf, variant: str, cache: Cache | None = None) -> dict:
    """Make the open ``pdf`` a ``variant`` (one of :data:`VARIANTS`); return the options it
    must be saved with (its version, its object streams). The join calls it on the book
    before it writes it (so the book is written once); :func:`convert` on a file."""
    profile = profile_bytes()
    colours = _colours(profile)
    srgb = pdf.make_stream(_srgb_profile(), N=3)
    icc_rgb = Array([Name.ICCBased, srgb])
    done: set[tuple[int, int]] = set()
    for page in pdf.pages:
        _recolour(pdf, page.obj, colours, done)
        if "/Annots" in page.obj:  # links: a printed page has none, PDF/X takes none
            del page.obj["/Annots"]
    if variant == "pdf/x-4":
        _tag_groups_and_shadings(pdf, icc_rgb)
    for obj in list(pdf.objects):
        if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == Name.Image \
                and not obj.get("/ImageMask", False):
            if variant == "pdf/x-1a":
                _to_cmyk(obj, colours, cache)
            else:
                _tag_rgb(obj, icc_rgb)
    intent = pdf.make_stream(profile, N=4)
    pdf.Root.OutputIntents = Array([Dictionary(
        Type=Name.OutputIntent, S=Name.GTS_PDFX, OutputConditionIdentifier=String("Custom"),
        OutputCondition=String(_description(profile)), Info=String(_description(profile)),
        RegistryName=String("http://www.color.org"), DestOutputProfile=intent)])
    _identify(pdf, variant)
    if variant == "pdf/x-1a":
        return {"force_version": "1.4", "object_stream_mode": pikepdf.ObjectStreamMode.disable}
    return {"min_version": "1.6", "object_stream_mode": pikepdf.ObjectStreamMode.generate}


def _recolour(pdf: Pdf, holder: pikepdf.Object, colours: _Colours, done: set) -> None:
    """RGB colours set in the content of ``holder`` (a page or a form) and of the forms and
    tiling patterns it uses, as CMYK."""
    if holder.objgen != (0, 0):
        if holder.objgen in done:
            return
        done.add(holder.objgen)
    resources = holder.get("/Resources", Dictionary())
    for kind in ("/XObject", "/Pattern"):
        for _, child in resources.get(kind, Dictionary()).items():
            if isinstance(child, pikepdf.Stream) and (
                    child.get("/Subtype") == Name.Form or child.get("/PatternType") == 1):
                _recolour(pdf, child, colours, done)
    ops = pikepdf.parse_content_stream(holder)
    changed, out = False, []
    rgb_space = {"fill": False, "stroke": False}
    for operands, operator in ops:
        op = str(operator)
        if op in _OPERATORS and len(operands) == 3:
            out.append((colours.colour(*map(float, operands)), pikepdf.Operator(_OPERATORS[op])))
            changed = True
            continue
        if op in ("cs", "CS"):
            rgb = operands and operands[0] == Name.DeviceRGB
            rgb_space["fill" if op == "cs" else "stroke"] = bool(rgb)
            if rgb:
                out.append(([Name.DeviceCMYK], operator))
                changed = True
                continue
        if op in ("sc", "scn", "SC", "SCN") and len(operands) == 3 and \
                rgb_space["fill" if op in ("sc", "scn") else "stroke"]:
            out.append((colours.colour(*map(float, operands)), operator))
            changed = True
            continue
        out.append((operands, operator))
    if changed:
        data = pikepdf.unparse_content_stream(out)
        if isinstance(holder, pikepdf.Stream):
            holder.write(data)
        else:
            holder.Contents = pdf.make_stream(data)


def _tag_groups_and_shadings(pdf: Pdf, icc_rgb: Array) -> None:
    """PDF/X-4: the transparency groups' blending space and the gradients' colour space, when
    uncalibrated RGB, tagged as sRGB (WeasyPrint writes shadings inline in the resources)."""
    def tag(holder) -> None:
        if holder.get("/ColorSpace") == Name.DeviceRGB:
            holder.ColorSpace = icc_rgb

    holders = [page.obj for page in pdf.pages] + [
        o for o in pdf.objects if isinstance(o, pikepdf.Stream)
        and (o.get("/Subtype") == Name.Form or o.get("/PatternType") is not None)]
    for holder in holders:
        group = holder.get("/Group")
        if isinstance(group, Dictionary) and group.get("/CS") == Name.DeviceRGB:
            group.CS = icc_rgb
        if holder.get("/PatternType") == 2 and isinstance(holder.get("/Shading"), Dictionary):
            tag(holder.Shading)
        resources = holder.get("/Resources")
        if not isinstance(resources, Dictionary):
            continue
        for _, shading in resources.get("/Shading", Dictionary()).items():
            if isinstance(shading, Dictionary):
                tag(shading)
        for _, pattern in resources.get("/Pattern", Dictionary()).items():
            if isinstance(pattern, Dictionary) and isinstance(pattern.get("/Shading"),
                                                              Dictionary):
                tag(pattern.Shading)


def _to_cmyk(image: pikepdf.Stream, colours: _Colours, cache: Cache | None) -> None:
    space = image.get("/ColorSpace")
    if space in (Name.DeviceCMYK, Name.DeviceGray) and "/SMask" not in image:
        return
    raw = image.read_raw_bytes()
    smask = image.get("/SMask")
    key = hashlib.sha256(raw + (smask.read_raw_bytes() if smask is not None else b"")
                         + colours.profile).hexdigest()

    def make() -> bytes:
        from PIL import Image

        picture = PdfImage(image).as_pil_image()
        if smask is not None:
            alpha = PdfImage(smask).as_pil_image().convert("L")
            paper = Image.new("RGB", picture.size, "white")
            paper.paste(picture.convert("RGB"), mask=alpha.resize(picture.size))
            picture = paper
        return colours.image(picture.convert("RGB"))

    data = cache(f"builder:press/cmyk/{key}", make) if cache else make()
    image.write(data, filter=Name.DCTDecode)
    image.ColorSpace = Name.DeviceCMYK
    image.BitsPerComponent = 8
    image.Decode = Array(ADOBE_DECODE)
    for key_name in ("/SMask", "/DecodeParms", "/Mask"):
        if key_name in image:
            del image[key_name]


def _tag_rgb(image: pikepdf.Stream, icc_rgb: Array) -> None:
    space = image.get("/ColorSpace")
    if space == Name.DeviceRGB:
        image.ColorSpace = icc_rgb
    elif isinstance(space, Array) and len(space) == 4 and space[0] == Name.Indexed \
            and space[1] == Name.DeviceRGB:
        image.ColorSpace = Array([Name.Indexed, icc_rgb, space[2], space[3]])


def _identify(pdf: Pdf, variant: str) -> None:
    """The PDF/X identification: the document information's keys, and for X-4 the XMP
    metadata, its dates taken from the document information (so that two builds agree)."""
    info = pdf.trailer.get("/Info")
    if info is None:
        info = pdf.trailer.Info = pdf.make_indirect(Dictionary())
    if "/Title" not in info:
        info.Title = String("Untitled")
    info.Trapped = Name("/False")
    if variant == "pdf/x-1a":
        info.GTS_PDFXVersion = String("PDF/X-1a:2003")
        info.GTS_PDFXConformance = String("PDF/X-1a:2003")
        return
    for key in ("/GTS_PDFXVersion", "/GTS_PDFXConformance"):
        if key in info:
            del info[key]
    created = _xmp_date(str(info.get("/CreationDate", "")))
    modified = _xmp_date(str(info.get("/ModDate", ""))) or created
    seed = hashlib.sha256(str(info.Title).encode() + created.encode()).digest()[:16]
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
        meta["pdfxid:GTS_PDFXVersion"] = "PDF/X-4"
        meta["dc:title"] = str(info.Title)
        meta["pdf:Trapped"] = "False"
        meta["xmpMM:DocumentID"] = f"uuid:{uuid.UUID(bytes=seed)}"
        meta["xmpMM:VersionID"] = "1"
        meta["xmpMM:RenditionClass"] = "default"
        if created:
            meta["xmp:CreateDate"] = created
            meta["xmp:ModifyDate"] = modified
            meta["xmp:MetadataDate"] = modified
        if "/Producer" in info:
            meta["pdf:Producer"] = str(info.Producer)


def _xmp_date(pdf_date: str) -> str:
    """``D:20220831052439Z`` (or with an offset) as ``2022-08-31T05:24:39Z``; "" if none."""
    d = pdf_date.removeprefix("D:")
    if len(d) < 14 or not d[:14].isdigit():
        return ""
    zone = d[14:].replace("'", "")
    if zone in ("", "Z"):
        zone = "Z"
    elif len(zone) == 5:
        zone = f"{zone[:3]}:{zone[3:]}"
    else:
        zone = "Z"
    return f"{d[:4]}-{d[4:6]}-{d[6:8]}T{d[8:10]}:{d[10:12]}:{d[12:14]}{zone}"


def _description(profile: bytes) -> str:
    from PIL import ImageCms

    try:
        return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(profile)))
    except (OSError, ImageCms.PyCMSError):
        return "CMYK"


def _srgb_profile() -> bytes:
    """The sRGB profile WeasyPrint ships (an ICC v2 profile, as PDF/X-4 readers expect)."""
    from importlib.resources import files

    return (files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()
