"""The colour profile PDF/X needs, found without loading any PDF library (the settings check
it before work)."""

from __future__ import annotations

from pathlib import Path

#: The CMYK profile of the output intent and of the conversion (Artifex CMYK SWOP, from the
#: Debian package libgs-common).
CMYK_PROFILE = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")
CMYK_PACKAGE = "libgs-common"


class ProfileMissing(Exception):
    """The CMYK profile is not installed."""


def profile_bytes() -> bytes:
    try:
        return CMYK_PROFILE.read_bytes()
    except OSError as e:
        raise ProfileMissing(
            f"PDF/X needs the CMYK profile {CMYK_PROFILE}: install it with "
            f"'apt-get install {CMYK_PACKAGE}'") from e
