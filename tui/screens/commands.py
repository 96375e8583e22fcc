"""Command palette (ctrl+p or ``:``): only what makes sense on the screen it was opened from.

Each screen lists its own commands through ``palette_commands()``: its
key bindings that are enabled right now (so *apply fix* never appears without
``--allow-changes``), plus entries only the palette offers, such as jumping to
any step of the walk by name. The App contributes nothing of its own beyond
help and quit, which every screen includes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen


@dataclass(frozen=True)
class PaletteCommand:
    name: str
    help: str
    callback: Callable[[], object]


def binding_commands(screen: Screen) -> list[PaletteCommand]:
    """The screen's and the App's enabled bindings as commands (descriptions already translated)."""
    out: list[PaletteCommand] = []
    seen: set[str] = set()
    app = screen.app
    for active in screen.active_bindings.values():
        binding = active.binding
        if active.node is not screen and active.node is not app:
            continue  # a focused widget's own keys (cursor movement) are not commands
        if binding.id is None or not active.enabled or not binding.description or binding.action in seen:
            continue  # only our own bindings (they carry ids and translated text)
        if binding.action in ("command_palette", "app.command_palette"):
            continue
        seen.add(binding.action)
        shown = app.get_key_display(binding)
        out.append(
            PaletteCommand(
                binding.description,
                shown,
                partial(active.node.run_action, binding.action),
            )
        )
    return out


class ScreenCommands(Provider):
    """Asks the calling screen for its commands; every screen of the TUI uses it."""

    def _commands(self) -> Iterable[PaletteCommand]:
        fn = getattr(self.screen, "palette_commands", None)
        return fn() if fn is not None else binding_commands(self.screen)

    async def discover(self) -> Hits:
        for cmd in self._commands():
            yield DiscoveryHit(cmd.name, cmd.callback, help=cmd.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for cmd in self._commands():
            score = matcher.match(cmd.name)
            if score > 0:
                yield Hit(score, matcher.highlight(cmd.name), cmd.callback, help=cmd.help)
