"""The session commands' one-line errors in the command's --lang (a Phrase said again), exit 2.

The store and the exporter make them in English where they happen; `--lang zh` got
an English line in the middle of a Chinese session ("no session 'x'").
"""

from __future__ import annotations

import pytest
from tests.unit.support import store_fixtures as F

from vnetdoctor import cli
from vnetdoctor.store import SessionStore


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "s.db"
    with SessionStore(path) as st:
        F.record(st)
        F.record(st, fixed=True)
    return path


@pytest.mark.parametrize(("argv", "en", "zh"), [
    (["export", "nosuch"], "no session 'nosuch' (see `vnetdoctor sessions`)", "没有会话 'nosuch'（见 `vnetdoctor sessions`）"),
    (["diff", "2", "x"], "session '2' is ambiguous: ", "会话 '2' 不唯一："),
    (["replay", "nosuch"], "no session 'nosuch'", "没有会话 'nosuch'"),
])
def test_session_errors_speak_the_commands_language(db, capsys, argv, en, zh) -> None:
    for lang, said in (("en", en), ("zh", zh)):
        assert cli.main([*argv, "--db", str(db), "--lang", lang]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"vnetdoctor {argv[0]}: {said}") and err.count("\n") == 1, err


def test_a_missing_database_and_a_directory_in_chinese(tmp_path, capsys) -> None:
    assert cli.main(["export", "x", "--db", str(tmp_path / "none.db"), "--lang", "zh"]) == 2
    assert "处没有会话数据库" in capsys.readouterr().err
    assert cli.main(["sessions", "--db", str(tmp_path), "--lang", "zh"]) == 2
    assert "它是一个目录" in capsys.readouterr().err


def test_help_help_is_the_overview(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["help", "help"])
    assert done.value.code == 0 and "COMMAND" in capsys.readouterr().out


def test_a_file_that_is_not_a_session_database_in_chinese(tmp_path, capsys) -> None:
    import sqlite3

    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    assert cli.main(["sessions", "--db", str(empty), "--lang", "zh"]) == 2
    assert capsys.readouterr().err == f"vnetdoctor sessions: {empty} 不是会话数据库（文件是空的）\n"
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    assert cli.main(["sessions", "--db", str(other), "--lang", "zh"]) == 2
    assert capsys.readouterr().err == f"vnetdoctor sessions: {other} 不是会话数据库（是别的程序的 SQLite 文件）\n"


def test_the_tui_without_a_terminal_says_so_in_chinese(db, capsys, monkeypatch) -> None:
    import io

    monkeypatch.setattr("sys.__stdin__", io.StringIO(""))  # a pipe, not a terminal
    assert cli.main(["replay", "--db", str(db), "--lang", "zh"]) == 2
    assert capsys.readouterr().err == "vnetdoctor replay: TUI 需要终端（stdin 不是终端）；脚本中请用 `vnetdoctor diagnose`\n"


def test_an_export_that_cannot_be_written_says_so_in_chinese(db, tmp_path, capsys) -> None:
    """A directory, or a folder that does not exist: one line in the command's language."""
    outdir = tmp_path / "out"
    outdir.mkdir()
    assert cli.main(["export", "last", "-o", str(outdir), "--force", "--db", str(db), "--lang", "zh"]) == 2
    assert capsys.readouterr().err == f"vnetdoctor export: 无法写入 {outdir}：它是一个目录\n"
    missing = tmp_path / "no" / "such" / "r.md"
    assert cli.main(["export", "last", "-o", str(missing), "--db", str(db), "--lang", "zh"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"vnetdoctor export: 无法写入 {missing}：") and err.count("\n") == 1, err
    assert cli.main(["export", "last", "-o", str(missing), "--db", str(db), "--lang", "en"]) == 2
    assert capsys.readouterr().err == f"vnetdoctor export: cannot write {missing}: No such file or directory\n"


def test_a_keymap_that_is_not_keys_says_so_in_chinese(tmp_path) -> None:
    from vnetdoctor.knowledge.text import error_text
    from vnetdoctor.probes.errors import UsageError
    from vnetdoctor.tui.launch import load_keymap

    keymap = tmp_path / "keymap.toml"
    keymap.write_text("[keys]\n'walk.next' = 3\n")
    with pytest.raises(UsageError) as caught:
        load_keymap(keymap)
    assert error_text(caught.value, "zh") == f"按键映射 {keymap}：'walk.next' 必须是按键字符串，例如 \"j\" 或 \"k,up\""
    keymap.write_text("[keys\n")
    with pytest.raises(UsageError) as caught:
        load_keymap(keymap)
    assert error_text(caught.value, "zh").startswith(f"无法读取按键映射 {keymap}：")
