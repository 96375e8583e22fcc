"""One language per export, without a lab: phrases keep their facts; a record without them says so.

tests/lab/test_export_language.py covers a real walk; these cover the pieces: a
translated text survives the store as a phrase, is said again in the other language
by the export (md and json), and a record whose texts carry no facts (made before
they did) is exported as recorded with a one-line notice.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re

from tests.unit.support import store_fixtures as F

from vnetdoctor.exports import export_session
from vnetdoctor.knowledge.catalog_render import render_summary
from vnetdoctor.knowledge.model import FAIL, Diagnosis, Evidence, Finding, StepResult
from vnetdoctor.knowledge.phrase import Phrase, said
from vnetdoctor.knowledge.text import in_lang, join, probe_reason, tr
from vnetdoctor.store import SessionStore

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
ZH_ONLY = "防火墙规则丢弃了回显请求"  # a sentence recorded without its facts


def _export(store: SessionStore, sid: str, fmt: str, lang: str | None) -> str:
    out = io.BytesIO()
    export_session(store, sid, fmt, out, lang=lang)
    return out.getvalue().decode()


def _record(store: SessionStore, lang: str, evidence: tuple[Evidence, ...]) -> str:
    request = dataclasses.replace(F.request(), lang=lang)
    summary = render_summary("firewall.guest_blocks", lang, rule="drop", chain="input", where="x",
                             family="inet", table="filter", handle=7, subnet="192.0.2.0/24", bridge="br0")
    finding = Finding("firewall.guest_blocks", "network", summary, evidence)
    note = tr("trace.leg", lang, sender="netns:h", dst="192.0.2.11",
              where=tr("trace.seen_not_on", lang, last=tr("hop.host", lang, iface="vnet0"),
                       missing=tr("hop.guest", lang, iface="eth0")))
    step = StepResult("network.firewall", "network", "防火墙规则" if lang == "zh" else "Firewall rules", FAIL,
                      note=note, findings=(finding,))
    sid = store.start_session(request, source="diagnose")
    store.record_step(sid, step)
    store.finish_session(sid, Diagnosis(request, False, causes=(finding,), steps=(step,)))
    return sid


def _zh_evidence() -> tuple[Evidence, ...]:
    reason = probe_reason("needs CAP_NET_RAW; no guest agent", "zh")
    return (
        Evidence(tr("kernel.dropped", "zh", what=tr("kernel.kind_request", "zh"), function="nft_do_chain",
                    reason=reason, where=join([tr("hop.host", "zh", iface="br0"), "eth0"], "zh")), "kernel.drops"),
        Evidence(tr("firewall.counter_moved", "zh", delta=3) + tr("network.managed_by", "zh", manager="firewalld")),
    )


def test_a_translated_text_keeps_its_facts_and_says_them_in_the_other_language() -> None:
    zh = tr("trace.seen_not_on", "zh", last=tr("hop.host", "zh", iface="vnet0"), missing="eth0")
    assert isinstance(zh, Phrase) and CJK.search(zh)
    assert in_lang(zh, "en") == ("echo request seen on host vnet0, never on eth0", True)
    # What the record stores, read back, says the same.
    back = Evidence.from_dict(json.loads(json.dumps(Evidence(zh).to_dict())))
    assert back.text == zh and said(back.text) == said(zh)
    assert in_lang(back.text, "en")[0] == "echo request seen on host vnet0, never on eth0"
    # A sentence glued to plain text cannot be said again, and says so.
    assert in_lang(zh + "！", "en") == (zh + "！", False)
    # Nor can one glued together so often that its facts nest too deep to say: it stays a sentence.
    deep = zh
    for i in range(5000):
        deep = deep + tr("hop.host", "zh", iface=str(i))
    assert said(deep) is None and in_lang(deep, "en") == (deep, False)


def test_a_zh_record_exported_in_english_is_english_and_the_record_is_kept(tmp_path) -> None:
    with SessionStore(tmp_path / "s.db") as store:
        sid = _record(store, "zh", _zh_evidence())
        md, doc = _export(store, sid, "md", "en"), json.loads(_export(store, sid, "json", "en"))
        recorded = json.loads(_export(store, sid, "json", None))  # no language asked: as recorded
    evidence = [e["text"] for e in doc["causes"][0]["evidence"]]
    assert evidence == [
        "kernel: echo request dropped in nft_do_chain, needs CAP_NET_RAW; no guest agent, host br0, eth0",
        "counter +3 while the probes ran (managed by firewalld)",
    ]
    assert not CJK.search(doc["causes"][0]["summary"]) and not CJK.search(doc["steps"][0]["note"])
    assert doc["steps"][0]["title"] == "Firewall rules"  # the flowchart's title, in English
    assert not CJK.search(md), [line for line in md.splitlines() if CJK.search(line)]
    assert doc["record"]["language"] == {"shown": "en", "recorded": "zh", "kept_as_recorded": 0}
    assert all(CJK.search(e["text"]) for e in recorded["causes"][0]["evidence"])


def test_an_en_record_exported_in_chinese_has_chinese_evidence(tmp_path) -> None:
    evidence = (Evidence(tr("trace.seen_not_on", "en", last=tr("hop.host", "en", iface="vnet0"),
                            missing=tr("hop.guest", "en", iface="eth0")), "capture.path"),)
    with SessionStore(tmp_path / "s.db") as store:
        sid = _record(store, "en", evidence)
        md = _export(store, sid, "md", "zh")
        doc = json.loads(_export(store, sid, "json", "zh"))
    assert doc["causes"][0]["evidence"][0]["text"] == "回显请求在宿主机 vnet0 上抓到了，但始终没有出现在虚拟机 eth0 上"
    assert "回显请求在宿主机 vnet0 上抓到了" in md.split("**证据**", 1)[1]


def test_texts_recorded_without_their_facts_are_shown_as_recorded_with_a_notice(tmp_path) -> None:
    with SessionStore(tmp_path / "s.db") as store:
        sid = _record(store, "zh", (Evidence(ZH_ONLY, "firewall.rules"),))
        md = _export(store, sid, "md", "en")
        doc = json.loads(_export(store, sid, "json", "en"))
    # Shown in the cause's evidence and the step's finding: the same text twice, as recorded.
    assert f"- {ZH_ONLY}" in md
    notices = [line for line in md.splitlines() if "shown as recorded, in Chinese" in line]
    assert notices == ["_2 texts below are shown as recorded, in Chinese: the record does not hold what "
                       "they were made from, so they cannot be said in English._"]
    assert doc["record"]["language"]["kept_as_recorded"] == 2
    assert "cannot be said in English" in doc["record"]["language"]["notice"]
    assert doc["causes"][0]["evidence"][0]["text"] == ZH_ONLY
    # Everything else was said again: only the fact-less sentence stays Chinese.
    others = md.replace(ZH_ONLY, "")
    assert not CJK.search(others), [line for line in others.splitlines() if CJK.search(line)]
