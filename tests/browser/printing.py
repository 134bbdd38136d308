"""Printing from chromium to PDF, and counting the pages, as a person printing would."""

import re


def pdf_pages(pdf: bytes) -> int:
    """Page objects, not the /Pages tree (chromium writes them uncompressed)."""
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf))


def print_pdf(page) -> bytes:
    return page.pdf(format="A4", prefer_css_page_size=True)
