"""The unit tests: no root, no terminal, no network namespaces; recorded probe output,
libvirt's test driver and fixture sessions stand in for a live system.

Their shared fakes are the ``tests.unit.support`` package (imported by package path;
tests/unit/test_test_layout.py checks that no test module imports another). Fixtures
that more than one folder needs (lab prefixes, the root-namespace guard, the
``--update-screenshots`` option) are in tests/conftest.py; code they share, the one
fake engine, is ``tests.support.fake_engine``.
"""
