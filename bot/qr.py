"""A printable QR code of the web chat's address, for the centre's flyers (`wegweiser web qr`).

The code is drawn by segno at the highest error-correction level (H: about 30 % of it may be
torn, crumpled or covered and it still scans), black on white with the standard quiet zone of
four modules. The file's extension chooses the format: .svg (vector, 4 cm wide as written),
.png (at least 1000 pixels wide, enough to print) or .pdf (one 4 cm page). The address is
checked first: only http(s) is accepted, and what would make a flyer unsafe (no HTTPS, a query
string or fragment that could carry a token or a tracking parameter, a user name) is warned
about, not refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import segno

# Highest level: a crumpled or partly covered flyer still scans.
ERROR_LEVEL = "H"
# The quiet zone the QR standard asks for, in modules (the light frame around the code).
BORDER = 4
# A PNG at least this wide, so that it prints sharp at flyer sizes.
MIN_PNG_PIXELS = 1000
# SVG and PDF are written this wide (quiet zone included); scaled down, no less than 25 mm.
PRINT_MM = 40.0
FORMATS = (".svg", ".png", ".pdf")

_POINTS_PER_MM = 72 / 25.4


class AddressError(ValueError):
    """The text is not an address a QR code for the flyer may hold."""


@dataclass(frozen=True)
class Written:
    """What `write_qr` wrote: the file, the address it encodes, the code's size."""

    path: Path
    url: str
    version: int
    modules: int  # width in modules, quiet zone included
    pixels: int | None  # width of a PNG in pixels; None for SVG and PDF
    millimetres: float | None  # width of an SVG or PDF as written; None for PNG


def address_warnings(url: str) -> list[str]:
    """What is wrong with `url` on a printed flyer, one sentence each (empty: nothing).

    Raises AddressError if `url` is not an http(s) address with a host at all."""
    if not url or any(character.isspace() for character in url):
        raise AddressError(f"{url!r} is not a web address (it is empty or has a space in it)")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise AddressError(
            f"{url!r} is not a web address: it must start with https:// and name the host, "
            "as in https://chat.example.org/"
        )
    warnings = []
    if parts.scheme.lower() == "http":
        warnings.append(
            "the address starts with http://, not https://: what people type would travel "
            "unencrypted; print an https:// address"
        )
    if "?" in url or "#" in url:
        warnings.append(
            "the address has a query string or fragment (after ? or #): a token or a tracking "
            "parameter there would be the same on every flyer and could be seen by anyone who "
            "scans it; a flyer address must be neutral"
        )
    if parts.username is not None or parts.password is not None:
        warnings.append("the address holds a user name or password (before @): never print one")
    return warnings


def write_qr(url: str, output: Path) -> Written:
    """Write the QR code of `url` to `output`, in the format its extension names.

    Raises AddressError for a URL that is not http(s) (see `address_warnings`) and ValueError
    for an extension other than .svg, .png or .pdf."""
    address_warnings(url)
    kind = output.suffix.lower()
    if kind not in FORMATS:
        raise ValueError(
            f"{output}: the file must end in {', '.join(FORMATS)} (the format is chosen by it)"
        )
    code = segno.make(url, error=ERROR_LEVEL, micro=False)
    modules = int(code.symbol_size(border=BORDER)[0])
    target = str(output)
    pixels: int | None = None
    millimetres: float | None = None
    if kind == ".png":
        dots = math.ceil(MIN_PNG_PIXELS / modules)  # pixels a module
        pixels = dots * modules
        code.save(target, kind="png", scale=dots, border=BORDER, dark="black", light="white")
    elif kind == ".svg":
        millimetres = PRINT_MM
        code.save(
            target,
            kind="svg",
            scale=PRINT_MM / modules,
            unit="mm",
            border=BORDER,
            dark="black",
            light="white",
        )
    else:
        millimetres = PRINT_MM
        points = PRINT_MM * _POINTS_PER_MM / modules  # PDF units a module
        code.save(target, kind="pdf", scale=points, border=BORDER, dark="black", light="white")
    version = code.version
    assert isinstance(version, int)  # micro=False: never a Micro QR version such as "M4"
    return Written(output, url, version, modules, pixels, millimetres)
