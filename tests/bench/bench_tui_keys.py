"""The TUI key-latency benchmark, runnable on its own: ``python tests/bench/bench_tui_keys.py [--quick]``.

The same as ``vnetdoctor bench tui``: the Walk under a busy stand-in engine (its
probes do real GIL-holding work in worker threads) and a capture decoding 2000
frames a second, keys pressed through Textual's pilot, key-to-repaint latency
printed as median / p95 / max. Not collected by pytest (the figure is for
people; ``tests/bench/test_tui_bench_smoke.py`` proves it runs).
"""

from __future__ import annotations

import argparse
import sys

from vnetdoctor import bench_tui

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer keys, one load")
    sys.exit(bench_tui.run(parser.parse_args()))
