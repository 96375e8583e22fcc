"""The words of the engine's step notes and evidence lines, from ``data/evidence.toml``.

A check's evidence is mostly facts (interface names, rule text, addresses,
counters) held together by a few words: "counter +3 while the probes ran". The
facts come from the probes; the words are data, in English and Simplified
Chinese, so that an operator reading Chinese gets Chinese evidence and not only a
Chinese summary. Each message is one key whose two templates use the same
``{name}`` placeholders; checks call ``ctx.t(key, **facts)``.

Rendering reuses :func:`.catalog.render_template`: strict when
``VNETDOCTOR_STRICT_TEMPLATES=1`` as the tests set it (a missing placeholder raises
and names the key), forgiving otherwise (it shows as
``<name>``), so a diagnosis never crashes over a word while the tests prove every
call supplies what its template needs. The file is validated on first use.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

from .catalog import TemplateError, placeholders_of, render_template, strict_default
from .text import LANGS, Localized, t

DATA_FILE = "evidence.toml"


class EvidenceTextError(ValueError):
    """``evidence.toml`` is malformed; the message names the key."""


class UnknownTextKey(KeyError):
    """A check asked for a key the data file does not have (raised in strict mode only)."""

    def __str__(self) -> str:  # KeyError would print the repr of the key only
        return f"evidence.toml has no key {self.args[0]!r}"


def parse_texts(text: str) -> dict[str, Localized]:
    """Parse and validate the TOML text: ``{"firewall.counter_moved": Localized(…), …}``.

    Tables nest (``[firewall]`` then ``counter_moved = {en = …, zh = …}``); a leaf is a
    table with exactly ``en`` and ``zh``. Values are kept as written, leading spaces
    included: a fragment such as ``" (managed by {manager})"`` is appended to a
    sentence and carries its own spacing, which differs between the two languages.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise EvidenceTextError(f"{DATA_FILE}: {exc}") from exc
    flat: dict[str, Localized] = {}

    def walk(prefix: str, node: Mapping[str, Any]) -> None:
        for name, value in node.items():
            key = f"{prefix}.{name}" if prefix else name
            if not isinstance(value, Mapping):
                raise EvidenceTextError(f"{DATA_FILE}: {key} is neither a table nor an en/zh pair")
            if set(value) & set(LANGS):
                flat[key] = _leaf(key, value)
            else:
                walk(key, value)

    walk("", data)
    if not flat:
        raise EvidenceTextError(f"{DATA_FILE}: no texts")
    return flat


def _leaf(key: str, value: Mapping[str, Any]) -> Localized:
    if set(value) != set(LANGS):
        raise EvidenceTextError(f"{DATA_FILE}: {key} must have exactly 'en' and 'zh', has {sorted(value)}")
    en, zh = value["en"], value["zh"]
    if not isinstance(en, str) or not isinstance(zh, str) or not en.strip() or not zh.strip():
        raise EvidenceTextError(f"{DATA_FILE}: {key} is empty in one language")
    if "\n" in en or "\n" in zh:
        raise EvidenceTextError(f"{DATA_FILE}: {key} is more than one line")
    try:
        en_fields, zh_fields = placeholders_of(en), placeholders_of(zh)
    except ValueError as exc:
        raise EvidenceTextError(f"{DATA_FILE}: {key}: {exc}") from exc
    if en_fields != zh_fields:
        raise EvidenceTextError(
            f"{DATA_FILE}: {key}: en uses {sorted(en_fields)} but zh uses {sorted(zh_fields)}"
        )
    return Localized(en, zh)


@cache
def texts() -> dict[str, Localized]:
    """Every message of the packaged data file, by key (loaded and validated once)."""
    raw = resources.files(__package__).joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    return parse_texts(raw)


def text(
    key: str, lang: str = "en", /, *, strict: bool | None = None, audience: str = "cli", **values: Any
) -> str:
    """The message ``key`` in ``lang``, filled from ``values``.

    A note that tells the operator what to give (``--guest libvirt:DOMAIN``) depends on
    the front end: ``key_tui`` (when the data has it) is the text for ``audience="tui"``,
    which names the Start screen instead of a flag; ``key`` is the CLI's.

    An unknown key raises :class:`UnknownTextKey` in strict mode and renders as the
    key itself otherwise; a missing placeholder follows :func:`.catalog.render_template`.
    """
    strict = strict_default() if strict is None else strict
    if audience != "cli" and f"{key}_{audience}" in texts():
        key = f"{key}_{audience}"
    template = texts().get(key)
    if template is None:
        if strict:
            raise UnknownTextKey(key)
        return key
    return render_template(t(template, lang), values, strict=strict, where=f"{DATA_FILE}: {key}")


def join(items: Iterable[Any], lang: str = "en") -> str:
    """Items of a list in running text: ``a, b`` in English, ``a、b`` in Chinese."""
    return text("sep.list", lang).join(str(i) for i in items)


def join_clauses(items: Iterable[Any], lang: str = "en") -> str:
    """Independent statements on one line: ``a; b`` in English, ``a；b`` in Chinese."""
    return text("sep.clause", lang).join(str(i) for i in items)


_NEEDS_CAP = re.compile(r"^needs (CAP_[A-Z_]+(?:, CAP_[A-Z_]+)*)$")


def probe_reason(reason: str, lang: str = "en") -> str:
    """A probe's skip reason for the operator: ``needs CAP_NET_ADMIN`` in their language.

    Probes (the ground floor) say why they were skipped in fixed English words;
    the capability ones are the reasons an unprivileged operator meets on every
    step, so they are translated here. Other reasons are facts (an error text) and
    stay as they are.
    """
    m = _NEEDS_CAP.match(reason.strip())
    return text("context.needs_cap", lang, cap=m.group(1)) if m else reason


__all__ = [
    "EvidenceTextError",
    "TemplateError",
    "UnknownTextKey",
    "join",
    "join_clauses",
    "parse_texts",
    "probe_reason",
    "text",
    "texts",
]
