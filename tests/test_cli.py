"""`wegweiser --help`: the defaults it names are the folders actually used. `wegweiser web qr`:
the codes it writes, read back by a QR decoder as a phone would."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

import png
import pytest
import zxingcpp

from bot.cli import main
from bot.config import EXAMPLE_DEPLOYMENT, PROJECT_ROOT
from tests.conftest import wegweiser

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize("command", [("flows", "check"), ("i18n", "update"), ("chat",)])
def test_help_names_the_real_default_folders(command: tuple[str, ...]) -> None:
    run = wegweiser(*command, "--help")

    assert run.returncode == 0
    # without any white space: argparse wraps a long path at a hyphen (/work/wt-<newline>ops)
    said = "".join(run.stdout.split())
    assert f"WEGWEISER_FLOWSor{PROJECT_ROOT / 'flows'})" in said
    assert f"WEGWEISER_LOCALESor{PROJECT_ROOT / 'locales'})" in said
    assert f"WEGWEISER_CONFIGor{EXAMPLE_DEPLOYMENT})" in said
    assert "./flows" not in said


# ---- wegweiser web qr ---------------------------------------------------------------------

FLYER_URL = "https://chat.example.org/"


def test_web_qr_writes_a_png_large_enough_to_print_that_scans_as_the_address(
    tmp_path: Path,
) -> None:
    out = tmp_path / "flyer-qr.png"

    run = wegweiser("web", "qr", FLYER_URL, "--out", out)

    assert run.returncode == 0, run.stderr
    assert run.stderr == ""  # a clean https address: no warning
    assert run.stdout.startswith(f"{out}: a QR code of {FLYER_URL}\n")
    width, height, scanned = read_png(out)
    assert width == height >= 1000
    assert "pixels" in run.stdout and f"{width} x {width} pixels" in run.stdout
    assert [(code.text, code.ec_level) for code in scanned] == [(FLYER_URL, "H")]


def test_web_qr_writes_an_svg_by_default_that_scans_as_the_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)

    assert main(["web", "qr", FLYER_URL]) == 0

    out = tmp_path / "wegweiser-qr.svg"
    assert capsys.readouterr().out.startswith(f"{out}: a QR code of {FLYER_URL}\n")
    svg = ElementTree.parse(out).getroot()
    assert svg.get("width") == svg.get("height") == "40.0mm"
    assert [(code.text, code.ec_level) for code in scan_svg(out)] == [(FLYER_URL, "H")]


def test_web_qr_writes_a_pdf_page_wider_than_the_smallest_print_size(tmp_path: Path) -> None:
    out = tmp_path / "flyer-qr.pdf"

    run = wegweiser("web", "qr", FLYER_URL, "-o", out)

    assert run.returncode == 0, run.stderr
    content = out.read_bytes()
    assert content.startswith(b"%PDF-")
    box = re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", content)
    assert box is not None
    width_mm = float(box[1]) / 72 * 25.4
    assert float(box[1]) == float(box[2])
    assert 25 <= width_mm == pytest.approx(40)


@pytest.mark.parametrize(
    "url", ["ftp://chat.example.org/", "javascript:alert(1)", "chat.example.org", "https://"]
)
def test_web_qr_refuses_what_is_not_a_web_address_with_one_line(tmp_path: Path, url: str) -> None:
    out = tmp_path / "flyer-qr.svg"

    assert main(["web", "qr", url, "--out", str(out)]) == 2

    assert not out.exists()


def test_web_qr_refusal_is_one_clear_line_and_exit_code_2(tmp_path: Path) -> None:
    run = wegweiser("web", "qr", "ftp://chat.example.org/", "--out", tmp_path / "qr.svg")

    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1
    assert "'ftp://chat.example.org/' is not a web address: it must start with https://" in (
        run.stderr
    )
    assert list(tmp_path.iterdir()) == []


def test_web_qr_warns_about_http_and_a_query_string_but_writes_the_code(tmp_path: Path) -> None:
    out = tmp_path / "flyer-qr.png"
    url = "http://chat.example.org/?ref=flyer"

    run = wegweiser("web", "qr", url, "--out", out)

    assert run.returncode == 0
    warnings = run.stderr.splitlines()
    assert len(warnings) == 2
    assert warnings[0].startswith("warning: the address starts with http://, not https://")
    assert warnings[1].startswith("warning: the address has a query string or fragment")
    assert [code.text for code in read_png(out)[2]] == [url]


def test_web_qr_refuses_an_unknown_file_type_and_names_the_ones_it_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "flyer-qr.jpg"

    assert main(["web", "qr", FLYER_URL, "--out", str(out)]) == 2

    assert "the file must end in .svg, .png, .pdf" in capsys.readouterr().err
    assert not out.exists()


def read_png(path: Path) -> tuple[int, int, list[zxingcpp.Barcode]]:
    """Width, height and the QR codes a decoder finds in the PNG at `path`."""
    width, height, rows, info = png.Reader(filename=str(path)).asDirect()
    assert info["planes"] == 1, info  # segno writes black and white as greyscale
    top = 2 ** info["bitdepth"] - 1
    to_8_bits = bytes(min(255, value * 255 // top) for value in range(256))
    pixels = b"".join(bytes(row).translate(to_8_bits) for row in rows)
    return width, height, scan(pixels, width, height)


def scan_svg(path: Path, pixels_per_module: int = 8) -> list[zxingcpp.Barcode]:
    """The QR codes a decoder finds in segno's SVG: its dark path (runs of modules drawn as
    `M x y`, `m dx dy`, `h n`) painted into a picture."""
    svg = ElementTree.parse(path).getroot()
    light, dark_path = svg.iter(SVG + "path")  # the white square, then the dark modules
    modules = round(float(re.findall(r"h([\d.]+)", light.get("d", ""))[0]))
    dark = [[False] * modules for _ in range(modules)]
    x = y = 0.0
    runs = re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", dark_path.get("d", ""))
    for command, a, b in runs:
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            for column in range(round(x), round(x + float(a))):
                dark[int(y)][column] = True
            x += float(a)
    rows = (
        bytes(0 if module else 255 for module in row for _ in range(pixels_per_module))
        for row in dark
    )
    picture = b"".join(row for row in rows for _ in range(pixels_per_module))
    side = modules * pixels_per_module
    return scan(picture, side, side)


def scan(pixels: bytes, width: int, height: int) -> list[zxingcpp.Barcode]:
    """What a phone's decoder reads from a greyscale picture (one byte a pixel)."""
    picture = memoryview(pixels).cast("B", (height, width))
    return list(zxingcpp.read_barcodes(picture, formats=zxingcpp.BarcodeFormat.QRCode))
