"""Keep the generated parts of docs/ODD.md in step with the code.

``python -m simulation.odd`` rewrites, between their markers in docs/ODD.md: the schedule (§3,
from :data:`simulation.schedule.SCHEDULE`), the submodels (§7, each from its module's
docstring), and the parameter, innovation and style tables (from the parameter declaration).
A test fails when the document and the code disagree.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

from .params import SPECS, Innovation, Style, allowed, default_innovations, default_styles, scalar_fields

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"


def parameter_table() -> str:
    lines = ["| parameter | group | default | allowed | unit | description | basis | source |",
             "|---|---|---|---|---|---|---|---|"]
    for f in scalar_fields():
        s = SPECS[f.name]
        lines.append(f"| `{s['name']}` | {s['group']} | {s['default']!r} | {allowed(s['name'])} | "
                     f"{s['unit']} | {s['doc']} | {s['basis']} | {s['source']} |")
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


def _letter(index: int) -> str:
    """Submodels are §7.a, §7.b, ... (§7.1-7.4 are the tables)."""
    return "abcdefghijklmnopqrstuvwxyz"[index]


def _switches(step) -> str:
    return " and ".join(f"`{name}`" for name in step.switches)


def schedule_section() -> str:
    """§3: the processes and their submodels in schedule order, with their switches."""
    from .schedule import SCHEDULE, processes
    lines = ["Each month runs these submodels in order (`SCHEDULE` in `simulation/schedule.py`, which",
             "`PrimaryCareModel.step` runs). Within a submodel, every GP decides from the old values and",
             "all apply together, so updates are synchronous. Each submodel sees what the previous ones",
             "wrote.", ""]
    for number, (process, steps) in enumerate(processes(), start=1):
        names = ", ".join(f"`{step.name}` (§7.{_letter(SCHEDULE.index(step))}; switch {_switches(step)})"
                          for step in steps)
        lines.append(f"{number}. **{process}**: {names}.")
    lines.append(f"{len(processes()) + 1}. **Observation**: the reporters (§7.4) go to a Mesa "
                 "`DataCollector`.")
    lines += ["", "Every mechanism can be switched to neutral: a submodel runs only while all its "
              "switches are on. A switched-off submodel is skipped and its state stays as it was; "
              "where a later submodel needs its result, it hands on the neutral one (no pressure "
              "change, no exposure, no adoption, no exits). Effect sizes can also be set to 0."]
    return "\n".join(lines)


def submodels_section() -> str:
    """§7: each submodel's docstring under a heading with its name, module and switches."""
    from .schedule import SCHEDULE
    parts = []
    for number, step in enumerate(SCHEDULE):
        title = step.name.replace("_", " ").capitalize()
        parts.append(f"**7.{_letter(number)} {title}** (`{step.name}`, "
                     f"`simulation/submodels/{step.name}.py`; switch {_switches(step)})\n\n"
                     + inspect.cleandoc(step.doc))
    return "\n\n".join(parts)


SECTIONS = {"schedule": schedule_section, "submodels": submodels_section,
            "params": parameter_table, "innovations": innovation_table, "styles": style_table}


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
