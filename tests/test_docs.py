"""Documentation that must stay true to the code."""

import re

from simulation import odd
from simulation.schedule import SCHEDULE
from simulation.params import scalar_fields


def test_odd_tables_match_the_parameter_declaration():
    text = odd.ODD.read_text()
    assert odd.render(text) == text, \
        "docs/ODD.md tables are out of date: run `python -m simulation.odd`"


def test_odd_names_every_parameter_and_every_submodel():
    text = odd.ODD.read_text()
    for f in scalar_fields():
        assert f"`{f.name}`" in text, f"Expected {f.name} in docs/ODD.md"
    for step in SCHEDULE:
        assert f"`{step.name}`" in text, f"Expected submodel {step.name} in docs/ODD.md"
        for switch in step.switches:
            assert f"`{switch}`" in text, f"Expected {step.name}'s switch {switch} in docs/ODD.md"


def test_eleven_design_concepts():
    section = odd.ODD.read_text().split("## 4. Design concepts")[1].split("\n## ")[0]
    concepts = re.findall(r"^- \*\*(.+?)\.\*\*", section, re.M)
    assert len(concepts) == 11, concepts


def test_odd_has_an_odd_d_section_on_how_gps_decide():
    text = odd.ODD.read_text()
    assert "## 4a. Individual decision-making (ODD+D)" in text
    section = text.split("## 4a. Individual decision-making (ODD+D)")[1].split("\n## ")[0]
    for topic in ("Who decides what", "Rationality", "Heterogeneity", "Uncertainty"):
        assert f"**{topic}.**" in section, f"Expected the ODD+D topic {topic!r}"
