"""What more than one test folder shares: the one fake engine (``fake_engine``), used by the
session-core unit tests and the TUI tests alike. Imported by package path,
``tests.support.fake_engine``; each folder keeps its own scenario data next to its tests.
"""
