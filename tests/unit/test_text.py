"""Language choice and terminal widths: what decides en/zh, and how many columns text takes."""

from __future__ import annotations

import unicodedata

import pytest

from vnetdoctor.knowledge.text import (
    Localized,
    choose_lang,
    display_width,
    layer_name,
    punctuation_slips,
    t,
    wrap,
)

LOCALE_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in LOCALE_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("name", LOCALE_VARS)
def test_each_locale_variable_can_choose_chinese(clean_env: pytest.MonkeyPatch, name: str) -> None:
    clean_env.setenv(name, "zh_CN.UTF-8")
    assert choose_lang(None) == "zh"
    clean_env.setenv(name, "en_US.UTF-8")
    assert choose_lang(None) == "en"


def test_default_is_english(clean_env: pytest.MonkeyPatch) -> None:
    assert choose_lang(None) == "en"
    clean_env.setenv("LANG", "")
    assert choose_lang(None) == "en"


def test_explicit_choice_wins(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("LANG", "zh_CN.UTF-8")
    assert choose_lang("en") == "en"
    clean_env.setenv("LANG", "C.UTF-8")
    assert choose_lang("zh") == "zh"


def test_precedence_follows_gettext(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("LANG", "zh_CN.UTF-8")
    clean_env.setenv("LC_ALL", "C")  # LC_ALL overrides LANG, as for every program
    assert choose_lang(None) == "en"
    clean_env.setenv("LANGUAGE", "zh_TW:en")  # LANGUAGE comes first of all
    assert choose_lang(None) == "zh"
    assert choose_lang(None, environ={"LC_MESSAGES": "zh_CN", "LANG": "en_GB"}) == "zh"


def test_t_falls_back_to_english() -> None:
    assert t({"en": "bridge", "zh": "网桥"}, "zh") == "网桥"
    assert t({"en": "bridge"}, "zh") == "bridge"
    assert t({"en": "bridge", "zh": ""}, "zh") == "bridge"
    assert t(None, "en") == ""
    text = Localized("bridge", "网桥")
    assert text("zh") == "网桥" and t(text, "fr") == "bridge" and dict(text) == {"en": "bridge", "zh": "网桥"}
    assert hash(text) == hash(Localized("bridge", "网桥"))


def test_localized_from_data_rejects_incomplete_tables() -> None:
    with pytest.raises(TypeError, match="zh"):
        Localized.from_data({"en": "x"}, "title")
    with pytest.raises(ValueError, match="unknown language"):
        Localized.from_data({"en": "x", "zh": "y", "de": "z"}, "title")


def test_display_width_counts_wide_characters_twice() -> None:
    assert display_width("vnet0") == 5
    assert display_width("网桥 br0") == 2 * 2 + 4
    assert display_width("（）：") == 6
    assert display_width("e\u0301") == 1  # combining accent takes no column


@pytest.mark.parametrize("width", [10, 17, 40])
def test_wrap_respects_width_in_both_scripts(width: int) -> None:
    text = "宿主机上的 tap 依然是 UP 且有载波，所以宿主机侧的检查全部正常：只有虚拟机的 XML 配置能说明问题。" * 2
    english = "The kernel transmits nothing on it, so nothing crosses it in either direction at all."
    for sample in (text, english):
        lines = wrap(sample, width)
        assert all(_columns(line) <= width for line in lines)
        assert "".join(lines).replace(" ", "") == sample.replace(" ", "")


def test_wrap_keeps_punctuation_off_the_line_start() -> None:
    for width in range(6, 30):
        for line in wrap("网桥端口不在转发状态，两个方向的帧都被丢弃；只有转发状态的端口才转发帧。", width):
            assert line[:1] not in "，。；：", (width, line)


def test_layer_names() -> None:
    assert layer_name("datalink", "zh") == "数据链路层" and layer_name("datalink", "en") == "Data link layer"


def test_punctuation_slips_flags_ascii_next_to_chinese() -> None:
    assert punctuation_slips("网桥,端口") != []
    assert punctuation_slips("网桥（br0）：端口") == []
    assert punctuation_slips("运行 `ip -br link | grep a,b` 查看") == []


def _columns(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)
