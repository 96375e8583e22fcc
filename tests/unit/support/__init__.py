"""What the unit tests share: recorded probe output (``probe_recording``), libvirt's test
driver with fake leases and guest agent (``libvirt_fakes``), fixture sessions for the
store (``store_fixtures``) and a recorder process for the concurrency tests
(``store_writer``, run as a script), the production source files (``source_tree``). Imported by package path, ``tests.unit.support``.
"""
