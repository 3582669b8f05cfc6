"""The machine line every benchmark prints beside its figures."""

import os
import platform
from pathlib import Path


def machine() -> str:
    """Usable cores, CPU model and load, e.g. '2 usable cores, AMD EPYC 7B13, load 0.4'."""
    cpu = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    load = os.getloadavg()[0]
    return f"{len(os.sched_getaffinity(0))} usable cores, {cpu}, load {load:.1f}"
