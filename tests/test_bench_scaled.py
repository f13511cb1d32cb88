"""The scaled benchmark's arithmetic: CPU time read per process group, and the N-machine model built on it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from benchmarks.bench_scaled import cpu_seconds, machines_model


def test_cpu_time_is_counted_for_the_process_group_that_burnt_it_children_included():
    burn = f"{sys.executable} -c 'import time\nend = time.time() + 0.6\nwhile time.time() < end: pass'"
    busy = subprocess.Popen(["/bin/sh", "-c", f"{burn}; sleep 30"], start_new_session=True)
    idle = subprocess.Popen(["/bin/sh", "-c", "sleep 30"], start_new_session=True)
    try:
        time.sleep(2.0)
        used = cpu_seconds({busy.pid: "busy", idle.pid: "idle"})
    finally:
        for process in (busy, idle):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    assert used["busy"] >= 0.4, used
    assert used["idle"] < 0.2, used


def test_the_model_grows_with_app_machines_until_a_shared_server_binds():
    rows = machines_model({"hub": 20.0, "rasa": 150.0, "actions": 30.0, "postgresql": 10.0, "redis": 1.0}, cores=2)
    by_machines = {row["machines"]: row for row in rows}
    assert by_machines[1] == {"machines": 1, "messages_per_second": 10.0, "bound_by": "app machines"}
    assert by_machines[16]["messages_per_second"] == 160.0
    rows = machines_model({"hub": 20.0, "rasa": 150.0, "actions": 30.0, "postgresql": 40.0, "redis": 1.0}, cores=2)
    assert [row["bound_by"] for row in rows][-1] == "postgresql"
    assert rows[-1]["messages_per_second"] == 50.0


def test_a_server_not_seen_does_not_bound_the_model():
    rows = machines_model({"hub": 100.0, "rasa": 100.0}, cores=2)
    assert all(row["bound_by"] == "app machines" for row in rows)
