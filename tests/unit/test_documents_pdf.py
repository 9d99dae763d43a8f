"""PDFs show real Chinese: an embedded CJK font, and glyphs that are drawn, not boxes.

pdftotext cannot tell (it extracts the text even when no glyph is drawn), so the
pages are rasterised with pdftoppm and the ink looked at: two different
characters must both leave ink and must not leave the same mark, which is what
a missing font's box would do. `.ci/run` installs poppler-utils and the font.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_documents_golden import view_of

from lendflow.rendering.environment import load_text
from lendflow.rendering.pdf import cjk_fonts, html_to_pdf
from lendflow.rendering.rendering import render_kind

pytestmark = pytest.mark.skipif(
    not (shutil.which("pdffonts") and shutil.which("pdftoppm")),
    reason="needs poppler-utils (pdffonts, pdftoppm); .ci/run installs it",
)


def _gray_pages(pdf: bytes, folder: Path, dpi: int = 40) -> list[bytes]:
    """Each page as 8-bit gray pixels (PGM from pdftoppm), header dropped."""
    source = folder / "doc.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-gray", "-r", str(dpi), str(source), str(folder / "page")], check=True
    )
    pages = []
    for page in sorted(folder.glob("page*.pgm")):
        data = page.read_bytes()
        # P5 header: magic, width height, maxval, each ended by whitespace
        fields: list[bytes] = []
        offset = 0
        while len(fields) < 4:
            end = data.index(b"\n", offset)
            fields += data[offset:end].split()
            offset = end + 1
        pages.append(data[offset:])
    return pages


def _ink(pixels: bytes) -> int:
    return sum(1 for p in pixels if p < 128)


def _one_character(char: str) -> bytes:
    css, _ = load_text("print.css", None)
    return html_to_pdf(
        f'<html lang="zh-CN"><head><style>{css}</style></head>'
        f'<body><p style="font-size:150pt">{char}</p></body></html>'
    )


def test_zh_contract_pdf_embeds_a_cjk_font(tmp_path: Path) -> None:
    pdf = render_kind("contract", view_of("contract", "zh-CN"), fmt="pdf")
    assert pdf.startswith(b"%PDF-")
    source = tmp_path / "contract.pdf"
    source.write_bytes(pdf)
    listing = subprocess.run(
        ["pdffonts", str(source)], capture_output=True, text=True, check=True
    ).stdout
    families = {
        name.replace(" ", "").lower() for family in cjk_fonts() for name in family.split(",")
    }
    embedded = [
        line.split()[0].split("+")[-1].replace("-", "").lower()
        for line in listing.splitlines()[2:]
        if " yes " in line
    ]
    assert any(name in families or "cjk" in name for name in embedded), listing
    pages = _gray_pages(pdf, tmp_path)
    assert len(pages) >= 2
    assert _ink(pages[0]) > 2_000  # the first page is full of text


def test_chinese_characters_are_drawn_not_boxes(tmp_path: Path) -> None:
    renders = []
    for char in "借款":
        folder = tmp_path / char
        folder.mkdir()
        renders.append(_gray_pages(_one_character(char), folder)[0])
    jie, kuan = renders
    assert _ink(jie) > 200 and _ink(kuan) > 200
    differing = sum(1 for a, b in zip(jie, kuan, strict=True) if (a < 128) != (b < 128))
    assert differing > 100  # a missing glyph's box would be the same for both


def test_rendering_again_gives_the_same_pdf_bytes() -> None:
    view = view_of("contract", "zh-CN")
    assert render_kind("contract", view, fmt="pdf") == render_kind("contract", view, fmt="pdf")


def test_without_a_cjk_font_pdf_fails_with_one_line_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "fonts.conf"
    config.write_text('<?xml version="1.0"?>\n<fontconfig></fontconfig>\n', encoding="utf-8")
    script = (
        "from lendflow.rendering.pdf import html_to_pdf, PdfUnavailable\n"
        "try:\n    html_to_pdf('<p>借款合同</p>')\n"
        "except PdfUnavailable as e:\n    print(e)\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "FONTCONFIG_FILE": str(config)},
        check=True,
    )
    assert done.stdout == (
        "--format pdf needs a CJK font (e.g. apt-get install fonts-noto-cjk): none is installed\n"
    )
