"""PDFs made in the tests: a small three-page policy document, and broken ones for bad-input tests."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

from fpdf import FPDF

# Test fixture text in the style of the Manufacturing Policy Portal; facts kept to well-known ones.
CHINA_PAGES = [
    (
        "Overview",
        "China's manufacturing policy is set by the State Council and carried out through national plans. "
        "The Ministry of Industry and Information Technology (MIIT) leads the implementation of policy for "
        "manufacturing industry.",
    ),
    (
        "Made in China 2025",
        "Made in China 2025 is a national strategy issued by the State Council in May 2015. It aims to upgrade "
        "Chinese industry so that China moves from being a large manufacturer to being a strong manufacturing "
        "power. The strategy names ten priority sectors:\n"
        "- new-generation information technology\n"
        "- high-end numerical control machine tools and robotics\n"
        "- aerospace and aviation equipment\n"
        "- maritime engineering equipment and high-tech ships\n"
        "- advanced rail transport equipment\n"
        "- energy-saving and new-energy vehicles\n"
        "- electrical power equipment\n"
        "- agricultural machinery and equipment\n"
        "- new materials\n"
        "- biomedicine and high-performance medical devices",
    ),
    (
        "Internet Plus",
        "The Internet Plus action plan was announced in the government work report of March 2015. It aims to "
        "integrate the mobile internet, cloud computing, big data and the Internet of Things with manufacturing "
        "and other traditional industries.",
    ),
]
CHINA_SIDECAR = "country: China\npublisher: PolicyBot test fixtures\ndate: 2026-11-26\n"


def china_pdf() -> bytes:
    """Three pages, one outline entry (bookmark) per page, title and author in the PDF info."""
    pdf = FPDF()
    pdf.set_title("Key Policies: China")
    pdf.set_author("PolicyBot test fixtures")
    for heading, text in CHINA_PAGES:
        pdf.add_page()
        pdf.start_section(heading)
        pdf.set_font("helvetica", "B", 16)
        pdf.multi_cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", size=11)
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def write_china_pdf(folder: Path, name: str = "key-policies.pdf") -> Path:
    """The China PDF and its sidecar metadata in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(china_pdf())
    (folder / f"{name}.meta.yaml").write_text(CHINA_SIDECAR, encoding="utf-8")
    return path


def scanned_pdf() -> bytes:
    """A page with only a drawing on it: no text layer, like a scan without OCR."""
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    return bytes(pdf.output())


def bomb_pdf(decompressed_mb: int = 200) -> bytes:
    """A one-page PDF whose content stream inflates from a few hundred KB to `decompressed_mb` MB."""
    packer = zlib.compressobj(9)
    parts = [packer.compress(b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET\n")]
    block = b" " * (1 << 20)
    parts.extend(packer.compress(block) for _ in range(decompressed_mb))
    parts.append(packer.flush())
    stream = b"".join(parts)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()
