"""Text from attachments (附件): PDF, DOCX, DOC/WPS, XLS/XLSX and OFD files a page links.

The format is read from the file's own bytes, never from its name (a download.jsp URL names
nothing, and a .doc link may serve a DOCX). Each format has one reader:

- PDF: pypdf (pure Python; reads the CID fonts and ToUnicode maps of Chinese PDFs). A PDF with
  no text layer (a scan) is flagged ``needs_ocr``; with ``ocr`` its page images go to Tesseract.
- DOCX: python-docx, paragraphs and tables in document order, a table row per line (tab-separated).
- DOC and WPS (Kingsoft WPS Writer saves the Word 97 binary format): the text of the
  WordDocument stream, read through its piece table as [MS-DOC] 2.4.1 describes, from the OLE
  container opened by olefile.
- XLS: xlrd; XLSX: openpyxl (read-only): a sheet's rows as tab-separated lines.
- OFD (GB/T 33190): the zip's XML, as the standard lays it out: OFD.xml names the document,
  its Document.xml the pages, each page's Content.xml the text objects; lines in reading order.
- ZIP (annexes packed together): each member read by its own format's reader (the standard
  library's zipfile; GBK member names, as Windows writes them, decoded), under its name. RAR and
  7z have no reader here (unrar is not free software): an error fetch that says so, bytes kept.

Encrypted and broken files raise FileError with a message that says which.
"""
from __future__ import annotations

import io
import logging
import re
import zipfile
from urllib.parse import unquote

from lxml import etree

FORMATS = ("pdf", "docx", "doc", "wps", "xls", "xlsx", "ofd", "zip", "rar", "7z")
MAX_BYTES = 50 * 1024 * 1024
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
logging.getLogger("pypdf").setLevel(logging.ERROR)     # a broken file is reported once, as an error fetch


class FileError(ValueError):
    """A file that cannot be read: encrypted, broken, or of a format with no reader here."""


def sniff(body: bytes, url: str = "") -> str | None:
    """The attachment format of ``body`` by its bytes (the URL's suffix only tells DOC from WPS),
    or None for anything else (HTML, images)."""
    if body.startswith(b"%PDF-"):
        return "pdf"
    if body.startswith(OLE_MAGIC):
        import olefile
        try:
            ole = olefile.OleFileIO(body)
        except OSError:
            return "doc"            # broken: reported by the reader
        with ole:
            if ole.exists("WordDocument"):
                return "wps" if _suffix(url) == "wps" else "doc"
            if ole.exists("Workbook") or ole.exists("Book"):
                return "xls"
        return "doc"
    if body.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(body)).namelist())
        except zipfile.BadZipFile:
            suffix = _suffix(url)        # a zip cut short: the link's word, for the reader's error
            return suffix if suffix in ("docx", "xlsx", "ofd") else "zip"
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "OFD.xml" in names:
            return "ofd"
        return "zip"
    if body.startswith(b"Rar!\x1a\x07"):
        return "rar"
    if body.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    return None


def claimed(url: str, content_type: str | None = None) -> str | None:
    """The format a URL or Content-Type claims (for a body that turns out not to be one)."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    by_type = {"application/pdf": "pdf", "application/msword": "doc", "application/vnd.ms-excel": "xls",
               "application/ofd": "ofd", "application/zip": "zip", "application/x-zip-compressed": "zip",
               "application/x-rar-compressed": "rar", "application/vnd.rar": "rar", "application/x-7z-compressed": "7z",
               "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx"}
    suffix = _suffix(url)
    return by_type.get(ctype) or (suffix if suffix in FORMATS else None)


def _suffix(url: str) -> str:
    """The last file suffix in the URL, its query included (downfile.jsp?filename=12.pdf)."""
    found = re.findall(r"\.([a-z0-9]{2,4})(?=$|[?&#;])", unquote(url).lower())
    return found[-1] if found else ""


def read(body: bytes, fmt: str, ocr: bool = False) -> tuple[str | None, list[str], dict]:
    """(title from the file's own properties, text lines, facts: pages, needs_ocr …)."""
    if len(body) > MAX_BYTES:
        raise FileError(f"file of {len(body)} bytes is over the {MAX_BYTES}-byte limit")
    if fmt in ("rar", "7z"):
        raise FileError(f"{fmt.upper()} archive: no reader here; its bytes are kept")
    reader = {"pdf": _pdf, "docx": _docx, "doc": _doc, "wps": _doc, "xls": _xls, "xlsx": _xlsx, "ofd": _ofd,
              "zip": _zip}[fmt]
    try:
        title, lines, facts = reader(body, ocr) if fmt in ("pdf", "zip") else reader(body)
    except FileError:
        raise
    except Exception as e:      # noqa: BLE001 - a broken file: say what the reader said
        raise FileError(f"broken {fmt.upper()} file: {type(e).__name__}: {e}"[:300]) from e
    lines = [" ".join(ln.split()) if "\t" not in ln else ln.strip() for ln in lines]
    return (title or None), [ln for ln in lines if ln], facts


# --- PDF ---------------------------------------------------------------------------------------

def _pdf(body: bytes, ocr: bool):
    import pypdf
    from pypdf.errors import FileNotDecryptedError
    reader = pypdf.PdfReader(io.BytesIO(body))
    if reader.is_encrypted:
        try:       # an owner password only (printing, copying restricted) opens with the empty user password
            if not reader.decrypt(""):
                raise FileError("encrypted PDF: it needs a password to open")
        except (FileNotDecryptedError, NotImplementedError) as e:
            raise FileError(f"encrypted PDF: {e}") from e
    lines, unread, garbled = [], [], []
    for n, page in enumerate(reader.pages, 1):
        text = page.extract_text() or ""
        if _garbled(text):          # a font with no Unicode map: its text layer is noise, not words
            garbled.append(n)
            text = ""
        if len(WORD.findall(text)) < 10 and (n in garbled or _has_images(page)):
            unread.append(n)        # a scanned page, perhaps with a page number or stamp on top
            if ocr:
                text = "\n".join([*_ocr_page(page), text])
        lines += text.splitlines()
    facts = {"pages": len(reader.pages)}
    if unread or not "".join(lines).strip():
        facts.update(needs_ocr=True, needs_ocr_pages=unread or list(range(1, len(reader.pages) + 1)))
        if ocr:
            facts["ocr"] = "tesseract"
    if garbled:
        facts["garbled_pages"] = garbled
    title = (reader.metadata or {}).get("/Title") if reader.metadata else None
    return (str(title).strip() if title else None), lines, facts


# Letters and ideographs; digits are left out, as a page number on a scan is no text layer.
WORD = re.compile(r"[A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# What pypdf gives for a font it cannot map to Unicode: private-use code points, U+FFFD,
# control characters, and GBK bytes read as Latin-1 (ÀÁÂ…); not · × ÷ ° ± ² ³, which Chinese text uses.
NOISE = re.compile(r"[\ue000-\uf8ff\ufffd\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xa1-\xaf\xb4-\xb6\xb8-\xd6\xd8-\xf6\xf8-\xff]")


def _garbled(text: str) -> bool:
    """A page whose visible characters are mostly noise (a few private-use bullets are not)."""
    visible = len(text) - len(re.findall(r"\s", text))
    return visible >= 10 and len(NOISE.findall(text)) > 0.3 * visible


def _has_images(page) -> bool:
    try:
        return len(page.images) > 0
    except Exception:   # noqa: BLE001 - a malformed image dictionary must not lose the page's text
        return False


def _ocr_page(page) -> list[str]:
    """Tesseract (chi_sim + eng) over the page's images: a scanned page is an image."""
    return [ln for image in page.images for ln in _ocr_image(image.image)]


def _ocr_image(image) -> list[str]:
    """Tesseract's lines for one image (a PIL image or a file object)."""
    import pytesseract
    from PIL import Image
    text = pytesseract.image_to_string(image if isinstance(image, Image.Image) else Image.open(image),
                                       lang="chi_sim+eng")
    # Tesseract puts spaces between Chinese characters
    return [re.sub(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])", "", ln) for ln in text.splitlines()]


# --- DOCX and XLSX ---------------------------------------------------------------------------------

def _docx(body: bytes):
    import docx
    from docx.table import Table
    d = docx.Document(io.BytesIO(body))
    lines = []
    for block in d.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = []
                for c in row.cells:         # a merged cell is given once per grid column: keep it once
                    if not cells or c._tc is not cells[-1][0]:
                        cells.append((c._tc, c.text.strip()))
                lines.append("\t".join(t for _, t in cells))
        else:
            lines.append(block.text)
    return d.core_properties.title, lines, {}


def _xlsx(body: bytes):
    import openpyxl
    wb = openpyxl.load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    sheets = [(ws.title, ws.iter_rows(values_only=True)) for ws in wb.worksheets]
    lines = _sheet_lines(sheets)
    wb.close()
    return wb.properties.title, lines, {"sheets": len(sheets)}


def _xls(body: bytes):
    import xlrd
    try:
        wb = xlrd.open_workbook(file_contents=body)
    except xlrd.biffh.XLRDError as e:
        if "encrypt" in str(e).lower():
            raise FileError("encrypted XLS: it needs a password to open") from e
        raise
    sheets = [(s.name, (s.row_values(r) for r in range(s.nrows))) for s in wb.sheets()]
    return None, _sheet_lines(sheets), {"sheets": len(sheets)}


def _sheet_lines(sheets) -> list[str]:
    """Each sheet's rows as tab-separated lines, after the sheet's name when there are several."""
    lines = []
    for name, rows in sheets:
        if len(sheets) > 1:
            lines.append(name)
        for row in rows:
            cells = ["" if v is None else _cell(v) for v in row]
            while cells and not cells[-1]:
                cells.pop()
            if cells:
                lines.append("\t".join(cells))
    return lines


def _cell(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


# --- DOC and WPS (Word 97 binary) -------------------------------------------------------------------

FIELD = re.compile(r"\x13[^\x13\x14\x15]*(?:\x14([^\x13\x15]*))?\x15")


def _doc(body: bytes):
    """[MS-DOC] 2.4.1: the FIB gives the table stream and the Clx, whose piece table maps text
    positions to byte runs of the WordDocument stream, each cp1252 ("compressed") or UTF-16LE."""
    import struct

    import olefile
    ole = olefile.OleFileIO(body)
    with ole:
        if not ole.exists("WordDocument"):
            raise FileError("not a Word document: the file has no WordDocument stream")
        word = ole.openstream("WordDocument").read()
        ident, flags = struct.unpack_from("<H", word, 0)[0], struct.unpack_from("<H", word, 0x0A)[0]
        if ident != 0xA5EC:
            raise FileError("not a Word 97-2003 document (an older Word or WPS format)")
        if flags & 0x0100:
            raise FileError("encrypted DOC: it needs a password to open")
        table_name = "1Table" if flags & 0x0200 else "0Table"
        if not ole.exists(table_name):
            raise FileError(f"broken DOC file: its {table_name} stream is missing")
        table = ole.openstream(table_name).read()
        meta = ole.get_metadata()
        title = _decode(meta.title, meta.codepage)
    csw = struct.unpack_from("<H", word, 32)[0]
    lw = 34 + csw * 2                                   # FibRgLw97, after its count
    ccp_text = struct.unpack_from("<i", word, lw + 2 + 12)[0]
    cslw = struct.unpack_from("<H", word, lw)[0]
    rgfc = lw + 2 + cslw * 4 + 2                         # FibRgFcLcb97
    fc_clx, lcb_clx = struct.unpack_from("<II", word, rgfc + 33 * 8)
    clx = table[fc_clx:fc_clx + lcb_clx]
    i = 0
    while i < len(clx) and clx[i] == 0x01:               # Prc entries before the piece table
        i += 3 + struct.unpack_from("<h", clx, i + 1)[0]
    if i >= len(clx) or clx[i] != 0x02:
        raise FileError("broken DOC file: no piece table")
    lcb = struct.unpack_from("<I", clx, i + 1)[0]
    plc = clx[i + 5:i + 5 + lcb]
    n = (lcb - 4) // 12
    cps = struct.unpack_from(f"<{n + 1}i", plc, 0)
    out = []
    for k in range(n):
        fc = struct.unpack_from("<I", plc, (n + 1) * 4 + k * 8 + 2)[0]
        count = min(cps[k + 1], ccp_text) - cps[k]
        if count <= 0:
            break
        if fc & 0x40000000:
            start = (fc & 0x3FFFFFFF) // 2
            out.append(word[start:start + count].decode("cp1252", "replace"))
        else:
            out.append(word[fc:fc + 2 * count].decode("utf-16-le", "replace"))
    text = FIELD.sub(lambda m: m.group(1) or "", "".join(out))
    text = re.sub(r"[\x01\x08\x13\x14\x15\x1f]", "", text).replace("\x1e", "-").replace("\xa0", " ")
    lines = re.split(r"[\r\n\x07\x0b\x0c]", text)      # paragraph, cell, line and page ends
    return title, lines, {}


def _decode(value: bytes | None, codepage: int | None) -> str | None:
    if not value:
        return None
    try:
        cp = (codepage or 0) & 0xFFFF          # stored as a signed 16-bit number: 65001 reads as -535
        enc = {1200: "utf-16-le", 65001: "utf-8"}.get(cp, f"cp{cp}" if cp else "gbk")
        return value.decode(enc).strip("\x00 ") or None
    except (LookupError, UnicodeDecodeError):
        return value.decode("gbk", "ignore").strip("\x00 ") or None


# --- OFD (GB/T 33190) -------------------------------------------------------------------------------

def _ofd(body: bytes):
    z = zipfile.ZipFile(io.BytesIO(body))
    names = set(z.namelist())
    if any(n.lower().endswith("encryptions.xml") for n in names):
        raise FileError("encrypted OFD: it needs a password to open")
    root = _xml(z, "OFD.xml")
    body_el = _child(root, "DocBody")
    if body_el is None:
        raise FileError("broken OFD file: OFD.xml has no DocBody")
    title = _text(body_el, "DocInfo/Title")
    doc_path = _text(body_el, "DocRoot")
    if not doc_path or doc_path.lstrip("/") not in names:
        raise FileError(f"broken OFD file: its document {doc_path!r} is missing")
    doc_path = doc_path.lstrip("/")
    base = doc_path.rsplit("/", 1)[0] if "/" in doc_path else ""
    pages = list(_xml(z, doc_path).iter("{*}Page"))
    lines = []
    for page in pages:
        loc = page.get("BaseLoc", "")
        path = loc.lstrip("/") if loc.startswith("/") else (f"{base}/{loc}" if base else loc)
        if path not in names:
            raise FileError(f"broken OFD file: page {loc!r} is missing")
        lines += _ofd_page_lines(_xml(z, path))
    return title, lines, {"pages": len(pages)}


def _ofd_page_lines(page) -> list[str]:
    """Text codes placed on the page (the object's Boundary origin plus the code's X/Y), grouped
    into lines by baseline and read left to right."""
    glyphs = []
    for obj in page.iter("{*}TextObject"):
        bx, by = (float(v) for v in (obj.get("Boundary") or "0 0").split()[:2])
        x = y = 0.0
        for code in obj.iter("{*}TextCode"):
            x = float(code.get("X", x))
            y = float(code.get("Y", y))
            if code.text:
                glyphs.append((round(by + y, 1), bx + x, code.text))
    glyphs.sort()
    lines, last_y = [], None
    for y, _, text in glyphs:
        if last_y is None or abs(y - last_y) > 1.0:
            lines.append("")
        lines[-1] += text
        last_y = y
    return lines


def _xml(z: zipfile.ZipFile, name: str):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    return etree.fromstring(z.read(name), parser)


def _child(el, name: str):
    return next(iter(el.iter(f"{{*}}{name}")), None)


def _text(el, path: str) -> str | None:
    for step in path.split("/"):
        el = _child(el, step) if el is not None else None
    return el.text.strip() if el is not None and el.text else None


# --- ZIP -----------------------------------------------------------------------------------------------

ZIP_LIMIT = 4 * MAX_BYTES       # all members unpacked: past this, a zip bomb
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"II*\x00", b"MM\x00*")     # JPEG, PNG, TIFF


def _zip(body: bytes, ocr: bool):
    """Each member under a line of its name, read by its own format's reader; the facts list
    every member with its format, or why it was not read."""
    z = zipfile.ZipFile(io.BytesIO(body))
    infos = [i for i in z.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
    if sum(i.file_size for i in infos) > ZIP_LIMIT:
        raise FileError(f"ZIP archive unpacks to over {ZIP_LIMIT} bytes")
    lines, members, needs_ocr = [], [], False
    for info in infos:
        name = _member_name(info)
        member = {"name": name}
        members.append(member)
        if info.flag_bits & 0x1:
            member["error"] = "encrypted"
            continue
        data = z.read(info)
        fmt = sniff(data, name) or ("image" if data.startswith(IMAGE_MAGIC) else None) or \
            ("txt" if _suffix(name) == "txt" else None)
        member["format"] = fmt
        if fmt is None or fmt in ("zip", "rar", "7z") or (fmt == "image" and not ocr):
            needs_ocr = needs_ocr or fmt == "image"
            continue                    # nested archives are listed, not read; a scan as an image needs OCR
        try:
            if fmt == "txt":
                got = _plain(data).splitlines()
            elif fmt == "image":
                got, needs_ocr = _ocr_image(io.BytesIO(data)), True
            else:
                _, got, facts = read(data, fmt, ocr)
                needs_ocr = needs_ocr or bool(facts.get("needs_ocr"))
        except Exception as e:      # noqa: BLE001 - one unreadable member must not lose the others
            member["error"] = str(e) if isinstance(e, FileError) else f"{type(e).__name__}: {e}"[:300]
            continue
        lines += [name, *got]
    facts = {"members": members}
    if needs_ocr:
        facts["needs_ocr"] = True
    return None, lines, facts


def _member_name(info: zipfile.ZipInfo) -> str:
    """A member's name: UTF-8 when its flag says so; without it, UTF-8 if the bytes are, else the
    GBK that Windows writes (GB 18030 decodes nearly any bytes, so it comes last)."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            raw = name.encode("cp437")
        except UnicodeEncodeError:
            return name.rsplit("/", 1)[-1]
        for enc in ("utf-8", "gb18030"):
            try:
                name = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
    return name.rsplit("/", 1)[-1]


def _plain(data: bytes) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace")
