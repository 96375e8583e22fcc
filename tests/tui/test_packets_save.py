"""Saving a pcap from the Packets screen never overwrites without asking and never follows a link.

The TUI runs as root, also in a read-only replay: a name the operator types may
be an existing file (a report, a previous capture) or a symbolic link someone
planted in a shared directory. Existing names open a confirmation whose default
is Cancel; writing goes to a fresh temporary file renamed into place.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.tui.support.views import lost_at_guest, recorded_state, views_app
from tests.tui.support.waiting import wait_until
from textual.widgets import Button, Input, Label
from vnetdoctor.knowledge.text import tr
from vnetdoctor.tui.app import VnetDoctorApp
from vnetdoctor.tui.screens.packets import PacketsScreen
from vnetdoctor.tui.screens.packets_save import OverwriteDialog, SaveDialog, write_file
from vnetdoctor.tui.widgets.packet_list import PacketList

SIZE = (100, 30)


async def _ask_to_save(pilot, app: VnetDoctorApp, path: Path) -> PacketsScreen:  # type: ignore[no-untyped-def]
    screen = app.screen
    assert isinstance(screen, PacketsScreen)
    await wait_until(pilot, lambda: screen.query_one(PacketList).row_count > 0)
    await pilot.press("s")
    await wait_until(pilot, lambda: isinstance(app.screen, SaveDialog), what="the save dialog")
    app.screen.query_one(Input).value = str(path)
    await pilot.press("enter")
    return screen


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_an_existing_file_is_kept_unless_the_operator_chooses_replace(tmp_path: Path, lang: str) -> None:
    target = tmp_path / "report.pcap"
    target.write_bytes(b"precious")
    app = views_app(lambda: PacketsScreen(recorded_state(lost_at_guest(), lang=lang), save_dir=str(tmp_path)), lang)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _ask_to_save(pilot, app, target)
        await wait_until(pilot, lambda: isinstance(app.screen, OverwriteDialog), what="the overwrite question")
        dialog = app.screen
        assert app.focused is not None and app.focused.id == "keep"  # Cancel is the default
        labels = {str(b.label) for b in dialog.query(Button)}
        assert labels == {tr("packets.save.keep", lang), tr("packets.save.overwrite", lang)}
        await pilot.press("enter")  # Enter on the default keeps the file
        await wait_until(pilot, lambda: isinstance(app.screen, PacketsScreen))
        assert screen.last_message == tr("packets.save.not_saved", lang, path=str(target))
        assert target.read_bytes() == b"precious"
        await _ask_to_save(pilot, app, target)
        await wait_until(pilot, lambda: isinstance(app.screen, OverwriteDialog))
        await pilot.press("escape")  # esc keeps it too
        await wait_until(pilot, lambda: isinstance(app.screen, PacketsScreen))
        assert target.read_bytes() == b"precious"
        await _ask_to_save(pilot, app, target)
        await wait_until(pilot, lambda: isinstance(app.screen, OverwriteDialog))
        await pilot.click("#replace")
        await wait_until(pilot, lambda: target.read_bytes()[:4] == bytes.fromhex("0a0d0d0a"), what="the pcapng")
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)


async def test_a_new_name_is_written_without_a_question(tmp_path: Path) -> None:
    target = tmp_path / "new.pcap"
    app = views_app(lambda: PacketsScreen(recorded_state(lost_at_guest()), save_dir=str(tmp_path)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await _ask_to_save(pilot, app, target)
        await wait_until(pilot, lambda: "saved" in screen.last_message, what="the save")
        assert not isinstance(app.screen, OverwriteDialog)
    assert target.read_bytes()[:4] == bytes.fromhex("0a0d0d0a")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.pcap"]  # no temporary file left


async def test_replacing_a_symlink_replaces_the_link_never_its_target(tmp_path: Path) -> None:
    victim = tmp_path / "etc-shadow-stand-in"
    victim.write_bytes(b"root:secret")
    link = tmp_path / "capture.pcap"
    link.symlink_to(victim)
    app = views_app(lambda: PacketsScreen(recorded_state(lost_at_guest()), save_dir=str(tmp_path)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await _ask_to_save(pilot, app, link)
        await wait_until(pilot, lambda: isinstance(app.screen, OverwriteDialog))
        await pilot.click("#replace")
        await wait_until(pilot, lambda: "saved" in screen.last_message, what="the save")
    assert victim.read_bytes() == b"root:secret"
    assert not link.is_symlink() and link.read_bytes()[:4] == bytes.fromhex("0a0d0d0a")


def test_write_file_without_replace_refuses_any_existing_name(tmp_path: Path) -> None:
    """A file (or a dangling link) that appeared after the question is not clobbered either."""
    dangling = tmp_path / "x.pcap"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(FileExistsError):
        write_file(str(dangling), b"data", replace=False)
    assert not (tmp_path / "nowhere").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.pcap"]
    fresh = tmp_path / "y.pcap"
    write_file(str(fresh), b"data", replace=False)
    assert fresh.read_bytes() == b"data" and os.stat(fresh).st_nlink == 1


def _whole(label: Label, text: str) -> None:
    """Every cell of ``text`` has room in the label, which stays inside the 80-column screen."""
    from rich.cells import cell_len

    assert label.region.right <= 80 and cell_len(text) <= label.size.width * label.size.height, (text, label.size)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_save_and_overwrite_questions_are_whole_at_80_columns(tmp_path: Path, lang: str) -> None:
    """The prompt was cut at the dialog's edge ("… per capture point) t"); a long path too."""
    target = tmp_path / ("a-rather-long-directory-name-for-captures-" * 2) / "report.pcapng"
    target.parent.mkdir()
    target.write_bytes(b"precious")
    app = views_app(lambda: PacketsScreen(recorded_state(lost_at_guest(), lang=lang), save_dir=str(tmp_path)), lang)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.query_one(PacketList).row_count > 0)
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SaveDialog), what="the save dialog")
        await pilot.pause()
        _whole(app.screen.query(Label).first(), tr("packets.save.prompt", lang))
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, OverwriteDialog), what="the overwrite question")
        await pilot.pause()
        _whole(app.screen.query(Label)[1], tr("packets.save.overwrite_question", lang, path=str(target)))
        await pilot.press("escape")
