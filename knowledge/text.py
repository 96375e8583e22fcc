"""The one translator: every text an operator reads, in English and 简体中文.

The documents vnetdoctor comes from are Chinese and many of its operators read
Chinese first, so every text the operator reads exists in both languages, and it
comes through this module: the walk's step notes and evidence, the reports, the
console output, ``diff``, ``causes`` and the TUI's chrome (key descriptions,
headers, dialogs). Nothing else in the tree holds an ``{"en": …, "zh": …}`` table
(tests/unit/test_translator.py greps the tree to keep it that way).

Where the words live, and why: data files, not a Python catalogue. A translator
edits TOML without reading code; every entry is ``key = { en = "…", zh = "…" }``
with the same ``{name}`` placeholders in both, checked when the files load, so a
missing translation or a placeholder typo fails the first test that looks up any
text. One file per area (:data:`DATA_FILES`: the walk's evidence, the TUI's
screens, its Packets and Tables views, the reports and CLI, the shared
vocabulary) so that people editing different areas do not conflict; the files
share one key space, and a key defined twice is an error. Texts that belong to a
domain object (a cause's title, a flowchart step's question) stay with that object
in ``causes.toml`` and ``flowchart.toml`` and arrive as :class:`Localized`.

Look-ups are :func:`tr` (or a :class:`Translator` bound to one language). An
unknown key or a placeholder nobody supplied raises in strict mode (the tests, see
:func:`.templates.strict_default`) and shows as the key / ``<name>`` in
production, so an operator's session never crashes over a word.

Also said from here, kept in :mod:`.typeset`: the display width of a string on a
terminal (a CJK character takes two columns; counting code points instead would
overflow an 80-column console), wrapping and clipping by it, and the Chinese
punctuation check. Callers import those from here too, as every other text helper.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .phrase import Phrase, said_json
from .templates import render_template, strict_default
from .text_data import (
    DATA_FILES,
    LANGS,
    Lang,
    Localized,
    TextDataError,
    UnknownTextKey,
    file_texts,
    parse_texts,
    t,
    texts,
)
from .typeset import char_width, clip, display_width, pad, punctuation_slips, wrap

# The loader's and the typesetter's names are the translator's too: callers import them from here.
__all__ = [
    "CHOICE_LABELS", "DATA_FILES", "LAB_NAMES", "LANGS", "LAYER_NAMES", "PROBE_REASONS", "RISK_NAMES",
    "SIDE_NAMES", "Lang", "Localized", "TextDataError", "Translator", "UnknownTextKey", "char_width",
    "choose_lang", "clip", "display_width", "duration", "file_texts", "join", "join_clauses", "layer_name",
    "pad", "parse_texts", "probe_reason", "punctuation_slips", "risk_name", "side_name", "t", "texts", "tr",
    "wrap",
]


# Read in this order, as gettext does: LANGUAGE first, then the POSIX precedence.
_LANG_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def choose_lang(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> Lang:
    """The language to speak: ``--lang`` wins, else the locale variables, else English.

    The first of LANGUAGE, LC_ALL, LC_MESSAGES, LANG that is set and not empty
    decides (so ``LC_ALL=C`` overrides ``LANG=zh_CN.UTF-8``, as it does for every
    other program): a value starting with ``zh`` means Chinese, anything else
    English. ``environ`` is for tests; it defaults to ``os.environ``.
    """
    if explicit:
        return "zh" if explicit.strip().lower().startswith("zh") else "en"
    env = os.environ if environ is None else environ
    for name in _LANG_VARS:
        value = env.get(name, "").strip()
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def tr(key: str, lang: str = "en", /, *, strict: bool | None = None, audience: str = "cli", **values: Any) -> str:
    """The text ``key`` in ``lang``, filled from ``values``.

    A note that tells the operator what to give (``--guest libvirt:DOMAIN``) depends on
    the front end: ``key_tui`` (when the data has it) is the text for ``audience="tui"``,
    which names the Start screen instead of a flag; ``key`` is the CLI's.

    An unknown key raises :class:`UnknownTextKey` in strict mode and renders as the
    key itself otherwise; a missing placeholder follows :func:`.templates.render_template`.
    The text is a :class:`.phrase.Phrase`: it keeps the key and the values, so a record
    can say it again in the other language (:func:`in_lang`).
    """
    strict = strict_default() if strict is None else strict
    asked = key
    if audience != "cli" and f"{key}_{audience}" in texts():
        key = f"{key}_{audience}"
    key = _counted(key, values)
    template = texts().get(key)
    if template is None:
        if strict:
            raise UnknownTextKey(key)
        return key
    how = {"tr": asked, "values": values} if audience == "cli" else {"tr": asked, "audience": audience, "values": values}
    return Phrase(render_template(t(template, lang), values, strict=strict, where=key), how)


# The placeholder that counts what a text is about ("{n} causes found"): when it is 1 and
# the data has ``KEY_one`` ("1 cause found"), that text is said instead. English only needs
# it; Chinese has no plural marks, so its ``_one`` text reads like its other one.
COUNTS = ("n", "count")


def _counted(key: str, values: Mapping[str, Any]) -> str:
    """``KEY_one`` for a count of one when the data has it, else ``key`` (no "cause(s)" in any text)."""
    count = next((values[c] for c in COUNTS if c in values), None)
    if count == 1 and not isinstance(count, bool) and f"{key}_one" in texts():
        return f"{key}_one"
    return key


class Translator:
    """:func:`tr` bound to one language: what screens, widgets and reports keep as ``tr``."""

    def __init__(self, lang: str) -> None:
        self.lang: Lang = "zh" if lang == "zh" else "en"

    def __call__(self, key: str, /, **values: Any) -> str:
        return tr(key, self.lang, **values)

    def label(self, key: str, /, **values: Any) -> str:
        """The text followed by the language's colon (full-width in Chinese)."""
        return tr(key, self.lang, **values) + tr("sep.label", self.lang)


def join(items: Iterable[Any], lang: str = "en") -> str:
    """Items of a list in running text: ``a, b`` in English, ``a、b`` in Chinese."""
    return _joined("sep.list", list(items), lang)


def join_clauses(items: Iterable[Any], lang: str = "en") -> str:
    """Independent statements on one line: ``a; b`` in English, ``a；b`` in Chinese."""
    return _joined("sep.clause", list(items), lang)


def _joined(sep: str, items: list[Any], lang: str) -> str:
    glue = tr("sep.clause" if sep == "sep.clause" else "sep.list", lang)
    return Phrase(glue.join(str(i) for i in items), {"join": sep, "items": items})


def in_lang(text: str, lang: str) -> tuple[str, bool]:
    """``text`` said again in ``lang`` from the facts it was made of, and whether it could be.

    A plain string (glued from pieces, or recorded before texts kept their facts)
    comes back as it is, with False: the caller says so rather than passing it off.
    """
    if isinstance(text, Phrase) and isinstance(text.how, Mapping):
        try:
            return render_said(said_json(text.how), lang), True
        except (LookupError, TypeError, ValueError, RecursionError):
            return text, False
    return text, False


def error_text(exc: BaseException, lang: str) -> str:
    """An error's one line in ``lang``: raised with a phrase (``UsageError(tr(...))``), it is
    said again; raised with a text key and its values (the probes' :class:`VantageError`,
    which cannot reach the translator from the ground floor) it is said from them; raised
    with a plain string, it stays as it is."""
    key, values = getattr(exc, "key", None), getattr(exc, "values", None)
    if isinstance(key, str) and key and isinstance(values, Mapping) and key in texts():
        return tr(key, lang, **values)
    said = exc.args[0] if len(exc.args) == 1 and isinstance(exc.args[0], str) else str(exc)
    return in_lang(said, lang)[0]


def render_said(say: Mapping[str, Any], lang: str) -> str:
    """A phrase's facts (its JSON form, :func:`.phrase.said`) rendered in ``lang``."""

    def value(v: Any) -> Any:
        return render_said(v["say"], lang) if isinstance(v, Mapping) and "say" in v else v

    values = {str(k): value(v) for k, v in dict(say.get("values") or {}).items()}
    if "tr" in say:
        return tr(str(say["tr"]), lang, strict=False, audience=str(say.get("audience", "cli")), **values)
    if "join" in say:
        return _joined(str(say["join"]), [value(v) for v in say.get("items") or ()], lang)
    if "concat" in say:
        return Phrase("".join(str(value(v)) for v in say["concat"]), say)
    if "reason" in say:
        return probe_reason(str(say["reason"]), lang)
    if "summary" in say:
        from .catalog_render import render_summary

        return Phrase(render_summary(str(say["summary"]), lang, strict=False, **values), say)
    if "fix_note" in say:
        from .catalog_render import render_note

        return render_note(str(say["fix_note"]), str(say.get("command", "")), lang, values)
    raise ValueError(f"no way to say {sorted(say)}")


# The fixed words probes (the ground floor, English only) give as a skip reason, and the
# key that says them in the operator's language; named groups are the key's placeholders.
# Reasons not listed are facts (an error text from a tool or the kernel) and stay as they are.
PROBE_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), key)
    for pattern, key in (
        (r"needs (?P<cap>CAP_[A-Z_]+(?:, CAP_[A-Z_]+)*)", "reason.needs_cap"),
        (r"needs the (?P<tool>\S+) command", "reason.needs_command"),
        (r"not available on a (?P<kind>\w+) vantage", "reason.not_on_vantage"),
        (r"needs libvirt-python \((?P<error>.*)\)", "reason.needs_libvirt_python"),
        (r"needs libvirt-python", "reason.needs_libvirt_python_bare"),
        (r"cannot connect to (?P<uri>\S+): (?P<error>.*)", "reason.libvirt_connect"),
        (r"the libvirt test driver has no DHCP leases", "reason.test_driver_no_leases"),
        (r"(?P<uri>\S+) cannot list DHCP leases: (?P<error>.*)", "reason.no_leases"),
        (r"no guest agent", "reason.no_agent"),
        (r"no guest agent: (?P<error>.*)", "reason.no_agent_error"),
        (r"no guest agent interfaces: (?P<error>.*)", "reason.no_agent_interfaces"),
        (r"no firewall tool could be read: (?P<reasons>.*)", "reason.no_firewall_tool"),
        (r"no (?P<path>\S+): VMware Workstation networking is not configured here", "reason.no_vmware"),
        (r"this kernel has no bridge VLAN filtering .*", "reason.no_vlan_filtering"),
        (r"not observed yet at this point of the replay", "reason.not_yet"),
    )
)


def probe_reason(reason: str, lang: str = "en") -> str:
    """A probe's skip reason for the operator, in their language: ``needs CAP_NET_ADMIN``
    reads ``需要 CAP_NET_ADMIN 权限``; several reasons joined by ``; `` each in turn.

    Probes (the ground floor) say why they were skipped in fixed English words
    (:data:`PROBE_REASONS`); those are what an unprivileged operator, or one without
    libvirt or a guest agent, meets on every step, so they are translated here. Other
    reasons are facts (an error text) and stay as they are.
    """
    clauses = []
    for clause in reason.strip().split("; "):
        for pattern, key in PROBE_REASONS:
            m = pattern.fullmatch(clause)
            if m:
                found: dict[str, Any] = m.groupdict()  # the pattern's names, never strict/audience
                if "cap" in found:  # CAP_NET_RAW、CAP_SYS_ADMIN in Chinese, as every list there
                    found["cap"] = join(found["cap"].split(", "), lang)
                clause = tr(key, lang, **found)
                break
        clauses.append(clause)
    return Phrase(join_clauses(clauses, lang), {"reason": reason})


def duration(ms: float | None, lang: str = "en") -> str:
    """``850 ms`` / ``2.2 s`` in English, ``850 毫秒`` / ``2.2 秒`` in Chinese; ``""`` for None."""
    if ms is None:
        return ""
    if ms < 1000:
        return tr("unit.ms", lang, n=f"{ms:.0f}")
    return tr("unit.s", lang, n=f"{ms / 1000:.1f}")


class _Vocabulary(Mapping[str, Localized]):
    """One section of ``words.toml`` as a read-only mapping ``{"datalink": Localized, …}``,
    read from the data on first use (nothing is loaded at import)."""

    def __init__(self, section: str) -> None:
        self._prefix = section + "."

    def _items(self) -> dict[str, Localized]:
        return {k[len(self._prefix):]: v for k, v in texts().items() if k.startswith(self._prefix)}

    def __getitem__(self, key: str) -> Localized:
        return self._items()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())


LAYER_NAMES: Mapping[str, Localized] = _Vocabulary("layer")  # keys: LAYER_ORDER
RISK_NAMES: Mapping[str, Localized] = _Vocabulary("risk")
CHOICE_LABELS: Mapping[str, Localized] = _Vocabulary("choice")  # most question nodes' answers
SIDE_NAMES: Mapping[str, Localized] = _Vocabulary("side")
LAB_NAMES: Mapping[str, Localized] = _Vocabulary("lab")  # the ``lab`` field of causes.toml


def layer_name(layer: str, lang: str) -> str:
    return t(LAYER_NAMES.get(layer), lang) or layer


def risk_name(risk: str, lang: str) -> str:
    return t(RISK_NAMES.get(risk), lang) or risk


def side_name(side: str, lang: str) -> str:
    """``host``/``guest`` in the operator's language; anything else (a vantage) unchanged."""
    return t(SIDE_NAMES.get(side), lang) or side
