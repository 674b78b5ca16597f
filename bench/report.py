"""Where benchmark scripts put their figures: a key of results.json and a section of README.md."""
from __future__ import annotations

import json
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
README = HERE / "README.md"
SECTION = r"(?s)<!-- begin (\S+) -->.*?<!-- end \1 -->\n"


@contextmanager
def scratch(prefix: str):
    """A working folder for one benchmark, removed afterwards."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def publish(key: str, res: dict, section: str) -> None:
    """Store ``res`` under ``key`` in results.json and put ``section`` in README.md between the
    key's begin/end markers (replacing what was there); print it."""
    data = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    data[key] = res
    RESULTS.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    write_section(f"<!-- begin {key} -->\n{section}<!-- end {key} -->\n", key)
    print(section)


def write_section(section: str, name: str) -> None:
    text = README.read_text(encoding="utf-8")
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->\n"
    if begin in text and end in text:
        text = text[:text.index(begin)] + section + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    README.write_text(text, encoding="utf-8")


def sections() -> list[str]:
    """The sections other scripts wrote, for `make bench` to keep when it rewrites the README."""
    return [m.group(0) for m in re.finditer(SECTION, README.read_text(encoding="utf-8"))] if README.exists() else []
