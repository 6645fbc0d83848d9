"""Timings taken while other processes use the CPU, or whose repeats disagree, are flagged."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from bgmcli.bench.contention import CpuWatch, distrust, machine_busy_s

STEADY = [100.0, 101.0, 99.0, 100.5, 100.2]


def test_other_processes_using_cpus_the_run_wanted_are_a_warning():
    warning = distrust(1.8, threads=2, latencies_ms=STEADY, cpus=2)
    assert warning.startswith("other processes kept 1.8 of 2 CPUs busy")
    assert "rerun on an idle machine" in warning


def test_an_idle_machine_or_free_cpus_give_no_warning():
    assert distrust(0.1, threads=2, latencies_ms=STEADY, cpus=2) is None
    assert distrust(1.0, threads=1, latencies_ms=STEADY, cpus=4) is None  # CPUs were left free
    assert distrust(None, threads=2, latencies_ms=STEADY, cpus=2) is None  # not measurable


def test_widely_spread_repeats_are_a_warning():
    warning = distrust(0.0, threads=2, latencies_ms=[100, 100, 100, 100, 400], cpus=2)
    assert "spread widely (p90 = 2.8 x p50)" in warning


@pytest.mark.slow
@pytest.mark.skipif(machine_busy_s() is None, reason="no /proc/stat here")
def test_a_busy_sibling_process_is_seen():
    spin = "import time\nend = time.time() + 1.5\nwhile time.time() < end: pass"
    sibling = subprocess.Popen([sys.executable, "-c", spin])
    try:
        time.sleep(0.2)  # started
        with CpuWatch() as watch:
            time.sleep(0.8)  # this process idles; the sibling spins on a CPU
    finally:
        sibling.wait()
    assert watch.other_cpus is not None and watch.other_cpus > 0.3
