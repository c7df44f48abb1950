"""Scans made from PDFs, for tests and benchmarks: each page rendered to a greyscale image
(pypdfium2, as a scanner would give it) and the images saved as an image-only PDF or a
multi-page TIFF, so that nothing of the text layer is left.

>>> from pathlib import Path
>>> scan = image_only_pdf(Path("tests/fixtures/real/101.pdf").read_bytes())  # doctest: +SKIP
>>> scan[:5]                                                                 # doctest: +SKIP
b'%PDF-'
"""

from __future__ import annotations

import io
from typing import Any


def page_images(pdf: bytes, dpi: int = 144) -> list[Any]:
    """A PDF's pages as greyscale PIL images at ``dpi``."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return [page.render(scale=dpi / 72).to_pil().convert("L") for page in doc]
    finally:
        doc.close()


def image_only_pdf(pdf: bytes, dpi: int = 144) -> bytes:
    """The PDF as a scan: one image per page, no text layer."""
    images = page_images(pdf, dpi)
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return buf.getvalue()


def skewed_pdf(pdf: bytes, angles: tuple[float, ...] = (1.5, -2.0), dpi: int = 144) -> bytes:
    """The PDF as a scan of pages laid on the glass askew: page i turned by ``angles[i % n]``
    degrees (positive: counter-clockwise), the uncovered corners white."""
    from PIL import Image

    images = [im.rotate(angles[i % len(angles)], resample=Image.Resampling.BICUBIC, fillcolor=255)
              for i, im in enumerate(page_images(pdf, dpi))]
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return buf.getvalue()


def tiff_of(pdf: bytes, dpi: int = 144) -> bytes:
    """The PDF as a multi-page TIFF (a scanner's other output)."""
    images = page_images(pdf, dpi)
    buf = io.BytesIO()
    images[0].save(buf, "TIFF", save_all=True, append_images=images[1:], compression="tiff_deflate", dpi=(dpi, dpi))
    return buf.getvalue()
