"""Pilot tests of the Start screen: pick a discovered guest, or type one, with inline checks."""

from __future__ import annotations

import pytest

from tests.tui.support.engine import make_app
from tests.tui.support.targets import NOTES, TARGETS, discover
from vnetdoctor.tui.screens.start import StartScreen
from vnetdoctor.tui.screens.walk import WalkScreen
from tests.tui.support.waiting import screen_text, settle, wait_until
from vnetdoctor.session.targets import Target

SIZE = (80, 24)

def start_app(**kw):  # type: ignore[no-untyped-def]
    return make_app(request=None, discover_fn=discover, **kw)


async def test_start_lists_what_it_found_and_why_something_is_missing() -> None:
    app, _ = start_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, StartScreen)
        text = screen_text(app)
        assert "web01" in text and "running" in text and "192.0.2.10" in text
        assert "52:54:00:ab:cd" in text  # a MAC is data, never markup or emoji
        assert "vmnet8" in text and "VMware" in text
        assert "needs libvirt-python" in text


@pytest.mark.slow  # over 5 s on a loaded 2-core machine
async def test_enter_on_a_guest_starts_the_walk_on_it() -> None:
    app, deps = start_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # the table has focus; its first row is web01
        await settle(pilot)
        assert isinstance(app.screen, WalkScreen)
        request = deps.engines[0].request
        assert request.target == "192.0.2.10" and str(request.guest) == "libvirt:web01"
        assert request.from_side == "host" and str(request.host) == "local"
        await pilot.press("escape")  # back to Start, to pick another
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)


@pytest.mark.slow  # over 5 s on a loaded 2-core machine
async def test_a_guest_without_address_is_walked_with_the_address_to_be_found() -> None:
    app, deps = start_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")  # db02: shut off, no address known
        await settle(pilot)
        assert isinstance(app.screen, WalkScreen)
        assert deps.engines[0].request.target is None
        # The walk found the address: the header names it and no longer says "to be found".
        header = screen_text(app).splitlines()[0]
        assert "local → 198.18.0.11  (guest libvirt:db02)" in header and "to be found" not in header


async def test_the_header_says_to_be_found_until_the_address_is_found() -> None:
    import threading

    gate = threading.Event()  # the symptom step, which finds the address, waits
    app, deps = start_app(gates={"symptom.ping": gate})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, WalkScreen), what="the walk")
        await pilot.pause(0.2)
        assert deps.engines[0].request.target is None
        assert "(address to be found)" in screen_text(app).splitlines()[0]
        gate.set()
        await wait_until(pilot, lambda: app.screen.complete, what="the walk to finish")
        assert "to be found" not in screen_text(app).splitlines()[0]


@pytest.mark.slow  # over 5 s on a loaded 2-core machine
async def test_a_typed_address_is_checked_as_you_type() -> None:
    app, deps = start_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+a")
        await pilot.press(*"198.18.0.300")
        await pilot.pause()
        assert "'198.18.0.300' is not an IP address" in screen_text(app)
        await pilot.press("enter")  # refused: still on Start
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        await pilot.press("backspace", "backspace", "backspace", *"11")
        await pilot.pause()
        assert "not an IP address" not in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WalkScreen)
        assert deps.engines[0].request.target == "198.18.0.11"


async def test_port_and_direction_are_validated() -> None:
    app, deps = start_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.query_one("#address").value = "203.0.113.5"
        screen.query_one("#port").value = "70000"
        await pilot.pause()
        assert "port 70000 is outside 1-65535" in screen_text(app)
        screen.query_one("#port").value = "22"
        screen.query_one("#dir-guest_to_outside").value = True
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        assert "sending from the guest needs the guest side" in screen_text(app)
        assert screen.focused is screen.query_one("#guest-side")  # the field to fix has the cursor
        await pilot.press(*"libvirt:web01", "enter")
        await settle(pilot)
        assert isinstance(app.screen, WalkScreen)
        request = deps.engines[0].request
        assert (request.target, request.port, request.from_side, str(request.guest)) == (
            "203.0.113.5", 22, "guest", "libvirt:web01")


async def test_start_in_chinese() -> None:
    app, _ = start_app(lang="zh")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "谁访问不到谁" in text and "(●) 宿主机 → 虚拟机" in text and "找到 3 个" in text
        await pilot.press("ctrl+a", "x")
        await pilot.pause()
        # The field and its reason joined with Chinese punctuation, not "地址: …".
        assert "地址：“x” 不是 IP 地址" in screen_text(app)


async def test_the_palette_offers_the_found_guests() -> None:
    app, _ = start_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        names = [c.name for c in app.screen.palette_commands()]
        assert "walk libvirt web01" in names and "refresh list" in names
        assert not any("copy fix" in n for n in names)  # the walk's commands are not offered here
        await pilot.press("colon", *"vmnet8", "enter")
        await settle(pilot)
        # vmnet8 is a host interface: no address to walk to yet, so the form asks for it.
        assert isinstance(app.screen, StartScreen)
        assert "type the guest's address" in screen_text(app)


async def test_the_list_fits_its_columns_to_the_texts_and_the_terminal() -> None:
    """Widths come from the texts (not DataTable's idle-time measure, which left every cell
    cut to its header under load); the note takes what the terminal leaves and says when it
    is cut; a wider terminal shows it whole."""
    app, _ = start_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "web01" in screen_text(app), what="the list")
        await settle(pilot)
        text = screen_text(app)
        assert "192.0.2.10" in text and "198.51.100.1/24" in text and "52:54:00:ab:cd:ef" in text
        assert "no guest ag…" in text  # cut, and saying so
        await pilot.resize_terminal(160, 30)
        await settle(pilot)
        assert "no guest agent" in screen_text(app)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert "no guest ag…" in screen_text(app)
