"""How many CPUs this process may use, for `bwk serve`'s default of one worker per CPU.

Python 3.11 has no `os.process_cpu_count()` (3.13), and `os.cpu_count()` counts the host's
CPUs even in a container limited to fewer. So: the CPUs the process may be scheduled on
(its affinity: `taskset`, `docker --cpuset-cpus`), capped by the cgroup's CPU quota
(`docker --cpus`, a Kubernetes CPU limit), rounded up; at least 1.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")


def available(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> int:
    """The CPUs this process may use: its affinity, capped by the cgroup quota."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        count = os.cpu_count() or 1
    quota = cgroup_quota(root, proc_cgroup)
    if quota is not None:
        count = min(count, math.ceil(quota))
    return max(1, count)


def cgroup_quota(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> float | None:
    """The CPU quota in CPUs (1.5 for `--cpus=1.5`) of this process's cgroup and those
    above it, the smallest; None when there is none or nothing can be read."""
    limits = [q for q in (_v2(d) for d in _v2_dirs(root, proc_cgroup)) if q is not None]
    for name in ("cpu", "cpu,cpuacct"):  # cgroup v1, as a container sees it
        found = _v1(root / name)
        if found is not None:
            limits.append(found)
    return min(limits) if limits else None


def _v2_dirs(root: Path, proc_cgroup: Path) -> list[Path]:
    """The cgroup v2 folder of this process and every folder above it up to the root (in a
    container with its own cgroup namespace, the path is "/" and the root is its own)."""
    root = root.resolve()
    relative = "/"
    try:
        for line in proc_cgroup.read_text().splitlines():
            if line.startswith("0::"):
                relative = line[3:] or "/"
    except OSError:
        pass
    here = (root / relative.lstrip("/")).resolve()
    dirs = [root]
    if here != root and here.is_relative_to(root):
        dirs += [here, *(p for p in here.parents if p.is_relative_to(root) and p != root)]
    return dirs


def _v2(folder: Path) -> float | None:
    try:
        quota, period = (folder / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return None
    return _ratio(quota, period)


def _v1(folder: Path) -> float | None:
    try:
        quota = (folder / "cpu.cfs_quota_us").read_text().strip()
        period = (folder / "cpu.cfs_period_us").read_text().strip()
    except OSError:
        return None
    return _ratio(quota, period)


def _ratio(quota: str, period: str) -> float | None:
    try:
        q, p = int(quota), int(period)
    except ValueError:  # "max": no limit
        return None
    return q / p if q > 0 and p > 0 else None  # v1 says -1 for no limit
