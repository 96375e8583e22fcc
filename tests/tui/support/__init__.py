"""What the TUI tests share: the scripted walk for the one fake engine (``engine``, which
re-exports ``tests.support.fake_engine.FakeEngine``, shared with the unit tests), the
Packets and Tables fakes (``views``: frames, captures, a probe runner) and the waiting
helpers (``waiting``). Test modules import them by their package path
(``tests.tui.support.engine``), never by a bare module name; every App they drive is
built by the production factory, ``vnetdoctor.tui.launch.build_app``.
"""
