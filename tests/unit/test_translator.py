"""One translator: every text an operator reads comes from knowledge/data through
vnetdoctor.knowledge.text, complete in both languages, in one term for the guest,
and without words about how the tool was made.

The tree scan is the point of this file: a new ``{"en": …, "zh": …}`` table, a
Chinese string literal or an ``if lang == "zh"`` branch with words in it anywhere
in the code fails here, and says where.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from vnetdoctor.knowledge import text as translator
from vnetdoctor.knowledge import text_data
from vnetdoctor.knowledge.flowchart import _flowchart
from vnetdoctor.knowledge.templates import TemplateError, placeholders_of
from vnetdoctor.knowledge.text import (
    DATA_FILES,
    TextDataError,
    Translator,
    UnknownTextKey,
    clip,
    display_width,
    duration,
    texts,
    tr,
)

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ("probes", "knowledge", "tui", "vnetdoctor")
DATA = ROOT / "knowledge" / "data"
# Chinese words (full-width punctuation alone is allowed: line-breaking rules and parsers use it).
CJK = re.compile(r"[\u4e00-\u9fff]")


def _code_files() -> list[Path]:
    files: list[Path] = []
    for name in CODE_DIRS:
        base = ROOT / name
        files += [p for p in base.rglob("*.py") if not p.is_symlink() and ".venv" not in p.parts]
    # vnetdoctor/{probes,knowledge,tui} are links to the top-level folders: count them once.
    return sorted({p.resolve() for p in files if "egg-info" not in str(p)})


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the constant nodes that are docstrings (prose for programmers, not the operator)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def _inline_texts() -> list[str]:
    """Every place in the code that holds operator words of its own: a string with Chinese
    in it, a dict or call keyed ``zh``, or a comparison with ``"zh"`` (a branch per language)."""
    found = []
    for path in _code_files():
        rel = path.relative_to(ROOT)
        if rel.as_posix() in ("knowledge/text.py", "knowledge/text_data.py"):
            continue  # the translator: it picks the language
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            where = f"{rel}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                if CJK.search(node.value):
                    found.append(f"{where}: Chinese text in code: {node.value[:30]!r}")
            elif isinstance(node, ast.Dict):
                keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
                if "zh" in keys:
                    found.append(f"{where}: an en/zh table in code")
            elif isinstance(node, ast.Call) and any(k.arg == "zh" for k in node.keywords):
                found.append(f"{where}: zh= in code")
            elif isinstance(node, ast.Compare):
                consts = [c.value for c in [node.left, *node.comparators] if isinstance(c, ast.Constant)]
                if "zh" in consts:
                    found.append(f"{where}: a branch on the language")
    return found


# --------------------------------------------------------------------- one translator


def test_no_operator_words_live_outside_the_translators_data() -> None:
    assert _inline_texts() == []


def test_the_scan_would_see_an_inline_table(tmp_path: Path) -> None:
    """Guard the guard: the scan finds each kind of inline text it claims to."""
    code = 'T = {"en": "x", "zh": "y"}\nU = Localized(en="a", zh="b")\nV = "宿主机"\nif lang == "zh":\n    pass\n'
    tree = ast.parse(code)
    kinds = 0
    for node in ast.walk(tree):
        kinds += isinstance(node, ast.Dict) and any(
            isinstance(k, ast.Constant) and k.value == "zh" for k in node.keys)
        kinds += isinstance(node, ast.Call) and any(k.arg == "zh" for k in node.keywords)
        kinds += isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(CJK.search(node.value))
        kinds += isinstance(node, ast.Compare)
    assert kinds == 4
    assert len(_code_files()) > 150  # the whole tree, not a sample


def test_the_old_mechanisms_are_gone() -> None:
    for gone in ("knowledge/evidence_text.py", "tui/view_text.py"):
        assert not (ROOT / gone).exists(), gone
    i18n = (ROOT / "tui" / "i18n.py").read_text(encoding="utf-8")
    assert "tomllib" not in i18n and "resources" not in i18n  # key descriptions only, no strings


def test_every_data_file_is_read_and_every_toml_with_texts_is_listed() -> None:
    assert set(DATA_FILES) == {p.name for p in DATA.glob("*.toml")} - {"causes.toml", "flowchart.toml"}
    assert len(texts()) > 500


def test_every_key_has_both_languages_with_the_same_placeholders() -> None:
    for key, value in texts().items():
        assert value.en.strip() and value.zh.strip(), key
        assert placeholders_of(value.en) == placeholders_of(value.zh), key


def test_a_key_defined_in_two_files_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = {"a.toml": {"x.y": translator.Localized("x", "中")}, "b.toml": {"x.y": translator.Localized("z", "中")}}
    monkeypatch.setattr(text_data, "DATA_FILES", ("a.toml", "b.toml"))
    monkeypatch.setattr(text_data, "file_texts", parsed.__getitem__)
    text_data.texts.cache_clear()
    try:
        with pytest.raises(TextDataError, match=r"b.toml: x.y is already defined"):
            text_data.texts()
    finally:
        monkeypatch.undo()
        text_data.texts.cache_clear()


def test_an_unknown_key_fails_loudly_in_tests_and_shows_itself_in_production() -> None:
    with pytest.raises(UnknownTextKey, match="walk.no_such_key"):
        tr("walk.no_such_key", "zh")
    with pytest.raises(UnknownTextKey):
        Translator("en")("report.no_such_key")
    with pytest.raises(TemplateError, match=r"\{id\}"):
        tr("report.title", "en")
    assert tr("walk.no_such_key", "zh", strict=False) == "walk.no_such_key"
    assert tr("report.title", "en", strict=False) == "vnetdoctor report — session <id>"


def test_translator_binds_a_language_and_its_colon() -> None:
    assert Translator("zh").label("start.address") == "地址："
    assert Translator("en").label("start.address") == "Address:"
    assert Translator("fr").lang == "en"


# --------------------------------------------------------------------- Chinese complete


def test_durations_use_the_languages_units() -> None:
    assert duration(2200, "zh") == "2.2 秒" and duration(850, "zh") == "850 毫秒"
    assert duration(2200, "en") == "2.2 s" and duration(850, "en") == "850 ms"
    assert duration(None, "zh") == ""
    # Chinese text says 秒/毫秒, with a space after the number as everywhere else.
    assert [k for k, v in texts().items() if re.search(r"[\d}] ?(ms|s)\b", v.zh)] == []
    assert [k for k, v in texts().items() if re.search(r"[\d}](秒|毫秒)", v.zh)] == []


def test_clip_counts_columns_and_never_cuts_a_character_in_half() -> None:
    line = "宿主机" * 10
    out = clip(line, 15)
    assert out.endswith("…") and display_width(out) <= 15
    assert clip(line, 0) == line


def test_skip_reasons_read_in_chinese() -> None:
    from vnetdoctor.knowledge.text import probe_reason
    from vnetdoctor.probes.bridges import NO_VLAN_SUPPORT
    from vnetdoctor.probes.guest_agent import NO_AGENT

    assert probe_reason("needs CAP_NET_RAW", "zh") == "需要 CAP_NET_RAW 权限"
    assert probe_reason("needs CAP_NET_RAW, CAP_SYS_ADMIN", "zh") == "需要 CAP_NET_RAW、CAP_SYS_ADMIN 权限"  # a Chinese list
    assert probe_reason("needs CAP_NET_RAW, CAP_SYS_ADMIN", "en") == "needs CAP_NET_RAW, CAP_SYS_ADMIN"
    assert probe_reason("needs CAP_NET_ADMIN; needs the nft command", "zh") == "需要 CAP_NET_ADMIN 权限；需要 nft 命令"
    assert probe_reason("not available on a netns vantage", "zh") == "在 netns 观察点上无法运行"
    for fixed in (NO_VLAN_SUPPORT, NO_AGENT, f"{NO_AGENT}: timeout"):
        assert probe_reason(fixed, "en") == fixed and CJK.search(probe_reason(fixed, "zh")), fixed
    assert probe_reason("RTNETLINK answers: Operation not permitted", "zh") == "RTNETLINK answers: Operation not permitted"


def test_every_probe_reason_pattern_reads_back_its_own_english() -> None:
    """Each pattern's key takes exactly the pattern's groups, and its English is what it matches:
    a pattern and its text cannot drift apart."""
    for pattern, key in translator.PROBE_REASONS:
        groups = set(pattern.groupindex)
        assert placeholders_of(texts()[key].en) == groups, key
        sample = tr(key, "en", **{g: "CAP_NET_RAW" if g == "cap" else f"x{i}" for i, g in enumerate(sorted(groups))})
        if key != "reason.no_vlan_filtering":
            assert pattern.fullmatch(sample), (key, sample)


# --------------------------------------------------------------------- one term for the guest


def _operator_texts() -> list[tuple[str, str]]:
    """(where, zh text) of every Chinese text an operator can read."""
    out = [(f"{k}", v.zh) for k, v in texts().items()]
    for path in (DATA / "causes.toml", DATA / "flowchart.toml"):
        raw = path.read_text(encoding="utf-8")
        out += [(f"{path.name}:{n}", line) for n, line in enumerate(raw.splitlines(), 1)]
    return out


def test_one_chinese_term_for_the_guest() -> None:
    """虚拟机: the word the operators' own articles use for the VM; 客户机 (libvirt's word
    for a guest) must not appear beside it, or a reader wonders whether they differ."""
    assert [w for w, zh in _operator_texts() if "客户机" in zh] == []
    assert translator.side_name("guest", "zh") == "虚拟机"
    flow = _flowchart()
    assert flow  # the flowchart loads with the term replaced


def test_no_words_about_how_the_tool_was_made() -> None:
    """Operator text talks about the operator's network, never about where the tool came from."""
    made = re.compile(r"\bseeds?\b(?!\.| *[:=)])|seed articles|原文章|种子文章", re.IGNORECASE)
    hits = [w for w, zh in _operator_texts() if made.search(zh)]
    hits += [k for k, v in texts().items() if made.search(v.en)]
    for path in sorted(DATA.glob("*.toml")) + [ROOT / "README.md", *_code_files()]:
        hits += [f"{path.name}:{n}" for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if made.search(line)]
    assert hits == []


def test_lab_list_speaks_chinese_with_lang_zh(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from vnetdoctor import cli
    from vnetdoctor.lab import SCENARIOS

    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    assert cli.main(["lab", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["场景", "原因", "拓扑", "可运行", "说明"]
    assert all(SCENARIOS[name].describe("zh") for name in SCENARIOS)  # every scenario has its words
    assert set(texts()) >= {f"scenario.{name}" for name in SCENARIOS}
    assert {k.removeprefix("scenario.") for k in texts() if k.startswith("scenario.")} == set(SCENARIOS)



# Functions that take a text key as their first argument, and the prefix they add to it.
KEY_CALLS = {"tr": "", "text": "", "_text": "", "label": "", "t": ""}
PREFIXED = {  # modules whose own helper adds a section prefix
    "vnetdoctor/report.py": {"label": "report."},
    "vnetdoctor/sessiondiff.py": {"diff_text": "diff."},
    "vnetdoctor/sessiondiff_text.py": {"diff_text": "diff."},
    "vnetdoctor/console_report.py": {"t": "console."},
}
DOTTED = re.compile(r"[a-z_]+(\.[A-Za-z_]+)+")


def _literal_keys() -> list[tuple[str, str]]:
    """(where, key) of every literal text key passed to a look-up anywhere in the code."""
    found = []
    for path in _code_files():
        rel = path.relative_to(ROOT).as_posix()
        calls = {**KEY_CALLS, **PREFIXED.get(rel, {})}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            arg = node.args[0]
            if name not in calls or not isinstance(arg, ast.Constant) or not isinstance(arg.value, str):
                continue
            key = calls[name] + arg.value
            if rel in PREFIXED and name in PREFIXED[rel] or DOTTED.fullmatch(arg.value):
                found.append((f"{rel}:{node.lineno}", key))
    return found


def test_every_literal_key_in_the_code_exists() -> None:
    keys = _literal_keys()
    assert len(keys) > 400 and {k for _, k in keys} >= {"report.title", "diff.gone", "console.cause", "start.found"}
    missing = [f"{where}: {key}" for where, key in keys if key not in texts()]
    assert missing == []


def test_a_probes_reason_in_a_step_note_reads_in_the_operators_language() -> None:
    """A check passes the probe's own words as {reason}; the step context translates them."""
    from vnetdoctor.knowledge.context import Shared, StepContext
    from vnetdoctor.knowledge.model import Request
    from vnetdoctor.knowledge.observer import Observer

    from vnetdoctor.probes.vantage import parse_vantage

    request = Request(target="192.0.2.11", host=parse_vantage("local"))
    ctx = StepContext(Shared(request, Observer(), "zh"), "s", "transport")
    assert ctx.t("transport.tcp_probe_failed", reason="needs CAP_NET_RAW") == "TCP 探测：需要 CAP_NET_RAW 权限"
