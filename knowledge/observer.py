"""Runs probes for one diagnosis: each (probe, vantage, params) once, many at a time.

Checks of different steps ask for the same facts (the host's links feed the
physical, data-link and platform checks), so observations are memoised for the
life of a diagnosis; a re-run of a step asks for fresh ones with ``refresh``.
Replay substitutes a recording for the live runner behind the same interface.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from vnetdoctor.probes.base import Observation, run_probe
from vnetdoctor.probes.vantage import Vantage

Key = tuple[str, str, tuple[tuple[str, str], ...]]


def key_of(probe_id: str, vantage: Vantage | str, params: Mapping[str, Any]) -> Key:
    return (probe_id, str(vantage), tuple(sorted((k, str(v)) for k, v in params.items() if v is not None)))


_first_probe_seen = threading.Event()


def _note_first_probe() -> None:
    """With VNETDOCTOR_TIMING=1, tell the benchmark when the first probe starts (stderr)."""
    if not _first_probe_seen.is_set():
        _first_probe_seen.set()
        if os.environ.get("VNETDOCTOR_TIMING") == "1":
            sys.stderr.write(f"vnetdoctor-timing first-probe {time.time():.6f}\n")


class Observer:
    """Live probes, memoised, with a small pool for running independent ones together."""

    def __init__(self, workers: int = 12) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe")
        self._lock = threading.Lock()
        self._futures: dict[Key, Future[Observation]] = {}

    def _submit(self, probe_id: str, vantage: Vantage, params: Mapping[str, Any], refresh: bool) -> Future[Observation]:
        key = key_of(probe_id, vantage, params)
        with self._lock:
            fut = self._futures.get(key)
            if fut is None or refresh:
                fut = self._pool.submit(self.run, probe_id, vantage, dict(params))
                self._futures[key] = fut
        return fut

    def run(self, probe_id: str, vantage: Vantage, params: dict[str, Any]) -> Observation:
        """Run one probe now (the replay observer overrides this)."""
        _note_first_probe()
        return run_probe(probe_id, vantage, **params)

    def observe(self, probe_id: str, vantage: Vantage, refresh: bool = False, **params: Any) -> Observation:
        return self._submit(probe_id, vantage, params, refresh).result()

    def prefetch(self, wanted: Iterable[tuple[str, Vantage, Mapping[str, Any]]]) -> None:
        """Start probes in the background so later ``observe`` calls find them done."""
        for probe_id, vantage, params in wanted:
            self._submit(probe_id, vantage, params, False)

    def forget(self, probe_ids: Iterable[str] | None = None) -> None:
        """Drop memoised observations (all, or of these probes) so the next ask re-runs them."""
        with self._lock:
            if probe_ids is None:
                self._futures.clear()
            else:
                ids = set(probe_ids)
                for key in [k for k in self._futures if k[0] in ids]:
                    del self._futures[key]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


NOT_RECORDED = "not in the recording"
# A replay steered to a moment before the record's first observation of this probe.
NOT_YET = "not observed yet at this point of the replay"


def not_recorded(obs: Observation) -> bool:
    """True for the answer a recording gives for a probe it does not hold."""
    return obs.status == "skipped" and obs.reason == NOT_RECORDED


class RecordedObserver(Observer):
    """Serves observations from a recording; a probe that was not recorded is 'skipped'."""

    def __init__(self, observations: Iterable[Observation], later: Iterable[Observation] = ()) -> None:
        super().__init__(workers=2)
        self._recorded = {key_of(o.probe, o.vantage, dict(o.params)): o for o in observations}
        # What the record holds after the moment served (a steered replay): said "not yet", not "never".
        self._later = {key_of(o.probe, o.vantage, dict(o.params)) for o in later}

    def run(self, probe_id: str, vantage: Vantage, params: dict[str, Any]) -> Observation:
        key = key_of(probe_id, vantage, params)
        found = self._recorded.get(key)
        if found is not None:
            return found
        reason = NOT_YET if key in self._later else NOT_RECORDED
        return Observation(probe=probe_id, vantage=str(vantage), status="skipped", reason=reason)
