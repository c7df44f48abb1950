"""The peak memory of a benchmark's own process.

``resource.getrusage(RUSAGE_SELF).ru_maxrss`` is no good in a process started by a big one:
Linux carries the parent's peak over into the child across fork and exec, so a step run from
a benchmark that holds 4 GB reports 4 GB whatever it used itself. ``VmHWM`` in
``/proc/self/status`` is the high-water mark of this process's own memory.

>>> peak_mb() > 0
True
"""

from __future__ import annotations

import resource


def peak_mb() -> float:
    """This process's peak resident memory in MB (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
