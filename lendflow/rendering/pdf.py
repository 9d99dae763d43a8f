"""PDF from the HTML documents, through WeasyPrint and a CJK font of the system.

WeasyPrint needs Pango from the system, and Chinese needs a CJK font: without
one the PDF still holds the text (pdftotext finds it) but the page shows empty
boxes. Both are checked before rendering, and a missing one is named in one
line with the package that brings it, instead of handing out an unreadable
contract.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from functools import lru_cache

from lendflow.domain.errors import Refused

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
FONT_HINT = "a CJK font (e.g. apt-get install fonts-noto-cjk)"
PANGO_HINT = "WeasyPrint's Pango libraries (e.g. apt-get install libpango-1.0-0 libpangoft2-1.0-0)"


class PdfUnavailable(Refused):
    """This machine cannot make the PDF; the message names what to install."""


def html_to_pdf(document: str) -> bytes:
    """The PDF of a standalone HTML document (styles inline, nothing fetched)."""
    weasyprint = _weasyprint()
    if _CJK.search(document) and not cjk_fonts():
        raise PdfUnavailable(f"--format pdf needs {FONT_HINT}: none is installed")
    out = io.BytesIO()
    weasyprint.HTML(string=document, base_url=None).write_pdf(out)
    return out.getvalue()


def _weasyprint():  # type: ignore[no-untyped-def]
    """WeasyPrint, imported on first use: it loads Pango, which plain commands never need."""
    try:
        import weasyprint
    except ImportError as exc:
        if "weasyprint" in str(exc).lower() and "No module" in str(exc):
            raise PdfUnavailable("--format pdf needs the weasyprint package") from None
        raise PdfUnavailable(f"--format pdf needs {PANGO_HINT}: {exc}") from None
    except OSError as exc:
        raise PdfUnavailable(f"--format pdf needs {PANGO_HINT}: {exc}") from None
    return weasyprint


@lru_cache(maxsize=1)
def cjk_fonts() -> tuple[str, ...]:
    """Families of the installed fonts that cover Chinese, as fontconfig sees them."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return ()
    listed = subprocess.run(
        [fc_list, ":lang=zh", "family"], capture_output=True, text=True, check=False
    ).stdout
    return tuple(sorted({line.strip() for line in listed.splitlines() if line.strip()}))
