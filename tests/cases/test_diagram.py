"""docs/cases-states.svg is drawn from the transition table and kept in step with it."""

from __future__ import annotations

from pathlib import Path

from promoguard.cases import states
from promoguard.cases.diagram import POSITIONS, edges, render_svg

DOC = Path(__file__).resolve().parents[2] / "docs" / "cases-states.svg"


def test_the_picture_in_docs_is_the_generated_one():
    assert DOC.read_text(encoding="utf-8") == render_svg(), (
        "regenerate: python -m promoguard.cases.diagram > docs/cases-states.svg"
    )


def test_every_state_and_transition_is_drawn():
    assert set(POSITIONS) == set(states.STATUSES)
    drawn = {(a, b) for a, b, _ in edges()}
    assert ("rectification_reported", "verified_rectified") in drawn
    assert ("rectification_reported", "not_rectified") in drawn
    assert ("open", "dismissed") in drawn
    svg = render_svg()
    for status in states.STATUSES:
        assert f">{status}</text>" in svg
    assert svg.count("<line ") == len(edges())
