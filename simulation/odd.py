"""Keep the generated tables of docs/ODD.md in step with the parameter declaration.

``python -m simulation.odd`` rewrites the parameter, innovation and style tables between their
markers in docs/ODD.md; a test fails when the document and the declaration disagree.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from .params import SPECS, Innovation, Style, allowed, default_innovations, default_styles, scalar_fields

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"


def parameter_table() -> str:
    lines = ["| parameter | group | default | allowed | unit | description | source |",
             "|---|---|---|---|---|---|---|"]
    for f in scalar_fields():
        s = SPECS[f.name]
        lines.append(f"| `{s['name']}` | {s['group']} | {s['default']!r} | {allowed(s['name'])} | "
                     f"{s['unit']} | {s['doc']} | {s['source']} |")
    return "\n".join(lines)


def _rows_table(rows, fields) -> str:
    lines = ["| " + " | ".join(fields) + " |", "|" + "---|" * len(fields)]
    for r in rows:
        lines.append("| " + " | ".join(str(getattr(r, f)) for f in fields) + " |")
    return "\n".join(lines)


def innovation_table() -> str:
    return _rows_table(default_innovations(), Innovation.FIELDS)


def style_table() -> str:
    return _rows_table(default_styles(), Style.FIELDS)


SECTIONS = {"params": parameter_table, "innovations": innovation_table, "styles": style_table}


def render(text: str) -> str:
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- {name}:begin -->\n)(?:.*?\n)?(<!-- {name}:end -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"docs/ODD.md has no '<!-- {name}:begin -->' ... '<!-- {name}:end -->' markers")
        text = pattern.sub(lambda m: m.group(1) + make() + "\n" + m.group(2), text)
    return text


def main() -> int:
    text = ODD.read_text()
    new = render(text)
    if new != text:
        ODD.write_text(new)
        print(f"updated {ODD}")
    else:
        print(f"{ODD} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
