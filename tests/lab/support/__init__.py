"""What the lab tests share: faults built differently from the lab (``variants``), a lab
instance's footprint (``lab_footprint``), the probe topology (``probe_topology``, also used
by the ``record_probe_data`` script) and an in-process diagnosis (``diagnosis``).
Imported by package path, ``tests.lab.support``.
"""
