"""Counts read as English does: "1 cause found", "2 causes found" — never "1 cause(s)".

Found off the demo path: the verdict said "1 cause(s) found", the report "1 cause(s)
named". A text whose count is 1 has a ``KEY_one`` form the translator picks; Chinese
has no plural marks, so both of its forms read alike. A recorded phrase said again in
the other language keeps the right form.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vnetdoctor.knowledge.text import COUNTS, in_lang, tr
from vnetdoctor.knowledge.text_data import texts

PLURAL_MARK = re.compile(r"[A-Za-z]\((?:s|es)\)")


def test_no_text_marks_a_plural_with_parentheses() -> None:
    marked = {key: text.en for key, text in texts().items() if PLURAL_MARK.search(text.en)}
    assert marked == {}
    # The catalogue and the flowchart (explanations, steps by hand) are read by the operator too.
    data = Path(__file__).resolve().parents[2] / "knowledge" / "data"
    lines = [f"{f.name}:{i}" for f in sorted(data.glob("*.toml"))
             for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1) if PLURAL_MARK.search(line)]
    assert lines == []


def test_each_one_form_belongs_to_a_counted_text() -> None:
    # A key that merely ends in "one" (args.help_takes_one) has no base text: it is no one-form.
    forms = [k for k in texts() if k.endswith("_one") and k.removesuffix("_one") in texts()]
    assert {"verdict.causes_one", "console.causes_one", "network.nat_covers_one"} <= set(forms)
    for key in forms:
        base = texts()[key.removesuffix("_one")]
        assert any("{" + c + "}" in base.en for c in COUNTS), f"{key}: its text counts nothing"
        assert not PLURAL_MARK.search(texts()[key].zh) and "们" not in texts()[key].zh


@pytest.mark.parametrize(("key", "values", "one", "two"), [
    ("verdict.causes", {}, "1 cause found:", "2 causes found, most fundamental first:"),
    ("report.v_causes", {}, "**Not working**: 1 cause found.", "**Not working**: 2 causes found"),
    ("console.causes", {}, "1 cause named", "2 causes named"),
    ("verdict.only_warnings", {}, "1 warning:", "2 warnings:"),
    ("report.v_interrupted", {}, "1 step was recorded", "2 steps were recorded"),
])
def test_one_and_more_in_english_and_the_same_words_in_chinese(key: str, values: dict, one: str, two: str) -> None:
    assert one in tr(key, "en", n=1, **values)
    assert two in tr(key, "en", n=2, **values)
    zh_one, zh_two = tr(key, "zh", n=1, **values), tr(key, "zh", n=2, **values)
    assert "1 个" in zh_one and "2 个" in zh_two  # the count changes, the noun does not
    assert not PLURAL_MARK.search(zh_one + zh_two)


def test_count_placeholder_named_count_too() -> None:
    assert tr("network.nat_covers", "en", count=1, ip="198.18.0.11") == "NAT: 1 rule covers 198.18.0.11"
    assert tr("network.nat_covers", "en", count=3, ip="198.18.0.11") == "NAT: 3 rules cover 198.18.0.11"


def test_a_recorded_phrase_said_again_keeps_its_form() -> None:
    said, ok = in_lang(tr("verdict.causes", "zh", n=1), "en")
    assert ok and said == "1 cause found:"
    said, ok = in_lang(tr("verdict.causes", "en", n=1), "zh")
    assert ok and said == "找到 1 个原因："
