"""One worker per CPU: the CPUs this process may use, as a container limits them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from api import cpus


def _cgroup(tmp_path: Path, files: dict[str, str], member: str = "/") -> tuple[Path, Path]:
    """A fake /sys/fs/cgroup holding `files` (relative path -> text) and a /proc/self/cgroup
    that puts this process in `member`."""
    root = tmp_path / "cgroup"
    root.mkdir()
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(f"0::{member}\n")
    return root, proc


@pytest.fixture
def eight_cpus(monkeypatch):
    monkeypatch.setattr(cpus.os, "sched_getaffinity", lambda _pid: set(range(8)))


@pytest.mark.parametrize(
    ("cpu_max", "quota", "count"),
    [
        ("max 100000\n", None, 8),  # no limit: the affinity
        ("200000 100000\n", 2.0, 2),  # docker --cpus=2
        ("150000 100000\n", 1.5, 2),  # --cpus=1.5: rounded up
        ("20000 100000\n", 0.2, 1),  # a fifth of a CPU: still one worker
        ("1600000 100000\n", 16.0, 8),  # a quota above the affinity: the affinity
    ],
)
def test_a_container_quota_caps_the_count(tmp_path, eight_cpus, cpu_max, quota, count):
    root, proc = _cgroup(tmp_path, {"cpu.max": cpu_max})
    assert cpus.cgroup_quota(root, proc) == quota
    assert cpus.available(root, proc) == count


def test_the_smallest_quota_of_the_process_cgroup_and_those_above_it(tmp_path, eight_cpus):
    # a host's systemd slice limits the service; the service's own cgroup has no limit
    root, proc = _cgroup(
        tmp_path,
        {
            "system.slice/cpu.max": "300000 100000",
            "system.slice/bwk.service/cpu.max": "max 100000",
            "other.slice/cpu.max": "100000 100000",  # not ours
        },
        member="/system.slice/bwk.service",
    )
    assert cpus.cgroup_quota(root, proc) == 3.0
    assert cpus.available(root, proc) == 3


def test_cgroup_v1(tmp_path, eight_cpus):
    root, proc = _cgroup(
        tmp_path,
        {"cpu,cpuacct/cpu.cfs_quota_us": "250000", "cpu,cpuacct/cpu.cfs_period_us": "100000"},
    )
    assert cpus.available(root, proc) == 3
    (root / "cpu,cpuacct" / "cpu.cfs_quota_us").write_text("-1\n")  # no limit
    assert cpus.cgroup_quota(root, proc) is None
    assert cpus.available(root, proc) == 8


def test_nothing_readable_means_the_affinity(tmp_path, eight_cpus):
    assert cpus.cgroup_quota(tmp_path / "none", tmp_path / "none") is None
    assert cpus.available(tmp_path / "none", tmp_path / "none") == 8
    root, proc = _cgroup(tmp_path, {"cpu.max": "garbage"})
    assert cpus.available(root, proc) == 8


def test_the_affinity_counts_not_the_hosts_cpus(tmp_path, monkeypatch):
    monkeypatch.setattr(cpus.os, "sched_getaffinity", lambda _pid: {3})  # taskset -c 3
    monkeypatch.setattr(cpus.os, "cpu_count", lambda: 64)
    assert cpus.available(tmp_path / "none", tmp_path / "none") == 1


def test_this_machine():
    assert 1 <= cpus.available() <= (os.cpu_count() or 1)
