"""The replica's attachment files, written with the libraries that write the real ones.

PDF: reportlab with the Adobe-GB1 CID font STSong-Light (as PDFs made by Chinese office suites
refer to their fonts), a scan (a page image and no text layer) and an encrypted one (pypdf);
DOCX: python-docx; XLSX: openpyxl; XLS: xlwt; OFD: the package structure of GB/T 33190-2016
(OFD.xml -> Doc_0/Document.xml -> Pages/Page_N/Content.xml, text as TextObject/TextCode in
millimetres), as ofdrw and the 数科/福昕 writers lay it out; DOC and WPS: LibreOffice converts the
DOCX (WPS Writer's .wps is the Word 97 binary format), cached on disk by content, as the
conversion takes a second. Without LibreOffice there are no DOC/WPS files (``office()`` says so).
"""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

CONTENT_TYPES = {
    "pdf": "application/pdf", "doc": "application/msword", "wps": "application/kswps", "xls": "application/vnd.ms-excel",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "ofd": "application/ofd",
}
CJK_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
             "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


def make(fmt: str, title: str, lines: list[str], variant: str = "") -> bytes:
    """The file of format ``fmt`` holding ``lines`` (a line with tabs is a table row). ``variant``:
    'scan' (a PDF of page images), 'encrypted' (a PDF that needs a password), 'broken' (cut short);
    for PDFs also 'mixed' (a text page, then a scanned page with a printed page number, as a letter
    with its signed annex scanned) and 'garbled' (a font whose codes map to private-use code points,
    as pypdf reads a font that has no Unicode map) and 'sealed' (the signer and date on a last page
    of their own, under the image of a red seal)."""
    if variant == "broken":
        return make(fmt, title, lines)[:300]
    if fmt == "pdf" and variant == "mixed":
        return _join(_pdf(title, lines[:1]), _scan(title, lines[1:], footer="- 2 -"))
    if fmt == "pdf":
        if variant == "garbled":
            lines = ["".join(chr(0xE000 + ord(ch) % 0x1000) if "\u4e00" <= ch <= "\u9fff" else ch for ch in ln)
                     for ln in lines]
        if variant == "scan":
            return _scan(title, lines)
        return _pdf(title, lines, encrypted=variant == "encrypted", seal=variant == "sealed")
    return {"docx": _docx, "xlsx": _xlsx, "xls": _xls, "ofd": _ofd, "doc": _office, "wps": _office}[fmt](title, lines)


def _wrap(line: str, width: int) -> list[str]:
    return [line[i:i + width] for i in range(0, len(line), width)] or [""]


def _pdf(title: str, lines: list[str], encrypted: bool = False, seal: bool = False) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas
    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    c = canvas.Canvas(out, invariant=1)
    c.setTitle(title)
    y = 790
    for line in lines:
        for part in _wrap(line.replace("\t", "  "), 38):
            if y < 60:
                c.showPage()
                y = 790
            c.setFont("STSong-Light", 12)
            c.drawString(50, y, part)
            y -= 20
    if seal:
        from PIL import Image, ImageDraw
        from reportlab.lib.utils import ImageReader
        c.showPage()
        img = Image.new("RGB", (300, 300), "white")
        ImageDraw.Draw(img).ellipse((10, 10, 290, 290), outline="red", width=12)
        c.drawImage(ImageReader(img), 330, 640, width=150, height=150)
        c.setFont("STSong-Light", 12)
        c.drawString(350, 720, "盘锦市科学技术局")
        c.drawString(360, 700, "2024年5月6日")
    c.showPage()
    c.save()
    if not encrypted:
        return out.getvalue()
    import pypdf
    w = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(out.getvalue())))
    w.encrypt(user_password="gov2026", owner_password="owner", algorithm="AES-128")
    enc = io.BytesIO()
    w.write(enc)
    return enc.getvalue()


def cjk_font() -> str | None:
    return next((f for f in CJK_FONTS if os.path.exists(f)), None)


def _join(*pdfs: bytes) -> bytes:
    import pypdf
    w = pypdf.PdfWriter()
    for pdf in pdfs:
        w.append(pypdf.PdfReader(io.BytesIO(pdf)))
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def _scan(title: str, lines: list[str], footer: str = "") -> bytes:
    """A scanned letter: each page one greyscale image, no text layer but a ``footer`` if given."""
    from PIL import Image, ImageDraw, ImageFont
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas
    font_path = cjk_font()
    font = ImageFont.truetype(font_path, 40) if font_path else ImageFont.load_default()
    img = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(img)
    y = 120
    for line in lines:
        for part in _wrap(line, 24):
            draw.text((100, y), part, font=font, fill=0)
            y += 64
    out = io.BytesIO()
    c = canvas.Canvas(out, invariant=1)
    c.drawImage(ImageReader(img), 0, 0, width=595, height=842)
    if footer:
        c.setFont("Helvetica", 10)
        c.drawCentredString(297, 30, footer)
    c.showPage()
    c.save()
    return out.getvalue()


def _docx(title: str, lines: list[str]) -> bytes:
    import docx
    d = docx.Document()
    d.core_properties.title = title
    rows = []
    for line in lines + [""]:
        if "\t" in line:
            rows.append(line.split("\t"))
            continue
        if rows:
            table = d.add_table(rows=len(rows), cols=max(map(len, rows)))
            for r, row in enumerate(rows):
                for k, cell in enumerate(row):
                    table.cell(r, k).text = cell
            rows = []
        if line:
            d.add_paragraph(line)
    out = io.BytesIO()
    d.save(out)
    return _fixed_zip(out.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same zip with fixed member dates: a file regenerated unchanged has the same bytes."""
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(zipfile.ZipInfo(info.filename, (2026, 1, 1, 0, 0, 0)), src.read(info.filename),
                       zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _rows(lines: list[str]) -> list[list[str]]:
    return [line.split("\t") for line in lines]


def _xlsx(title: str, lines: list[str]) -> bytes:
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    wb.properties.title = title
    for row in _rows(lines):
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return _fixed_zip(out.getvalue())


def _xls(title: str, lines: list[str]) -> bytes:
    import xlwt
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Sheet1")
    for r, row in enumerate(_rows(lines)):
        for k, cell in enumerate(row):
            ws.write(r, k, cell)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


OFD_NS = "http://www.ofdspec.org/2016"


def _ofd(title: str, lines: list[str]) -> bytes:
    """An OFD package per GB/T 33190-2016: A4 pages (210 x 297 mm), 4.2 mm SimSun text, one
    TextObject per line whose TextCode carries per-character DeltaX."""
    size, per_page = 4.2, 50
    pages, obj_id = [], 10
    wrapped = [p for line in lines for p in _wrap(line.replace("\t", "　"), 36)]
    for start in range(0, max(len(wrapped), 1), per_page):
        objs = []
        for k, text in enumerate(wrapped[start:start + per_page]):
            obj_id += 1
            delta = " ".join([f"{size:g}"] * (len(text) - 1))
            objs.append(f'<ofd:TextObject ID="{obj_id}" Boundary="25 {30 + 5 * k} 160 6" Font="3" Size="{size:g}">'
                        f'<ofd:TextCode X="0" Y="{size:g}" DeltaX="{delta}">{escape(text)}</ofd:TextCode></ofd:TextObject>')
        pages.append(f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{OFD_NS}"><ofd:Content>'
                     f'<ofd:Layer ID="{obj_id + 1}">{"".join(objs)}</ofd:Layer></ofd:Content></ofd:Page>')
        obj_id += 1
    ofd_xml = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{OFD_NS}" Version="1.0" DocType="OFD">'
               f'<ofd:DocBody><ofd:DocInfo><ofd:DocID>{hashlib.md5(title.encode()).hexdigest()}</ofd:DocID>'
               f'<ofd:Title>{escape(title)}</ofd:Title><ofd:CreationDate>2026-01-01</ofd:CreationDate></ofd:DocInfo>'
               f'<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>')
    page_refs = "".join(f'<ofd:Page ID="{i + 1}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(pages)))
    document = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{OFD_NS}"><ofd:CommonData>'
                f'<ofd:MaxUnitID>{obj_id + 1}</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox>'
                f'</ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData>'
                f'<ofd:Pages>{page_refs}</ofd:Pages></ofd:Document>')
    res = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res xmlns:ofd="{OFD_NS}" BaseLoc="Res"><ofd:Fonts>'
           f'<ofd:Font ID="3" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in [("OFD.xml", ofd_xml), ("Doc_0/Document.xml", document), ("Doc_0/PublicRes.xml", res)] + \
                          [(f"Doc_0/Pages/Page_{i}/Content.xml", p) for i, p in enumerate(pages)]:
            z.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data.encode("utf-8"), zipfile.ZIP_DEFLATED)
    return out.getvalue()


def office() -> str | None:
    """LibreOffice's soffice, if installed: it writes the DOC and WPS files."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "govarchive-replica"


def _office(title: str, lines: list[str]) -> bytes:
    return word97([(title, lines)])[0]


def word97(docs: list[tuple[str, list[str]]]) -> list[bytes]:
    """Word 97 (.doc) files of these (title, lines), converted from DOCX by LibreOffice in one run
    for all that are not cached yet."""
    sources = [_docx(t, ls) for t, ls in docs]
    keys = [hashlib.sha256(s).hexdigest()[:32] for s in sources]
    cache = cache_dir()
    missing = [(k, s) for k, s in zip(keys, sources) if not (cache / f"{k}.doc").exists()]
    if missing:
        soffice = office()
        if not soffice:
            raise RuntimeError("DOC and WPS files need LibreOffice (apt install libreoffice-writer-nogui)")
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            for k, s in missing:
                Path(tmp, f"{k}.docx").write_bytes(s)
            subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp}/profile",
                            "--convert-to", "doc", "--outdir", tmp, *(str(Path(tmp, f"{k}.docx")) for k, _ in missing)],
                           check=True, capture_output=True, timeout=300)
            for k, _ in missing:
                shutil.move(str(Path(tmp, f"{k}.doc")), cache / f"{k}.doc")
    return [(cache / f"{k}.doc").read_bytes() for k in keys]
