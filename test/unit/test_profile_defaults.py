"""The run-time defaults in .profile.d: WEB_CONCURRENCY from fake cgroup
files (v1 and v2, limited and not), and gunicorn's settings."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

PROFILE_DIR = Path(__file__).resolve().parents[2] / "vendor" / "profile.d"
MB = 1024 * 1024


def source(tmp_path, script, files=None, env=None, meminfo_mb=16384):
    root = tmp_path / "cgroup"
    root.mkdir(exist_ok=True)
    for relative, content in (files or {}).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    (tmp_path / "meminfo").write_text(f"MemTotal:       {meminfo_mb * 1024} kB\nMemFree: 1 kB\n")
    base = {"PATH": "/usr/bin:/bin", "PYTHON_BUILDPACK_CGROUP_ROOT": str(root),
            "PYTHON_BUILDPACK_MEMINFO": str(tmp_path / "meminfo"), **(env or {})}
    show = 'echo "${WEB_CONCURRENCY-unset} ${DYNO_RAM-unset}"'
    result = subprocess.run(["bash", "-c", f"set -eo pipefail; source {PROFILE_DIR / script}; source {PROFILE_DIR / script}; {show}"],
                            env=base, capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr == "", result
    return result.stdout.split()


@pytest.mark.parametrize("files, expected", [
    # Heroku dynos (cgroup v1 memory limit, 8 CPUs)
    ({"memory/memory.limit_in_bytes": f"{512 * MB}\n", "cpu/cpu.cfs_quota_us": "800000\n", "cpu/cpu.cfs_period_us": "100000\n"}, ["2", "512"]),
    ({"memory/memory.limit_in_bytes": f"{1024 * MB}\n", "cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, ["4", "1024"]),
    ({"memory/memory.limit_in_bytes": f"{2560 * MB}\n", "cpu/cpu.cfs_quota_us": "200000\n", "cpu/cpu.cfs_period_us": "100000\n"}, ["5", "2560"]),
    ({"memory/memory.limit_in_bytes": f"{14336 * MB}\n", "cpu/cpu.cfs_quota_us": "800000\n", "cpu/cpu.cfs_period_us": "100000\n"}, ["17", "14336"]),
    # cgroup v2 (dokku, Docker --memory --cpus)
    ({"memory.max": f"{768 * MB}\n", "cpu.max": "150000 100000\n"}, ["3", "768"]),
    ({"memory.max": f"{100 * MB}\n", "cpu.max": "max 100000\n"}, ["1", "100"]),
    # No memory limit: the host's memory (16 GB here), CPU quota of 1.
    ({"memory.max": "max\n", "cpu.max": "100000 100000\n"}, ["3", "16384"]),
    ({"memory/memory.limit_in_bytes": "9223372036854771712\n", "cpu/cpu.cfs_quota_us": "100000\n",
      "cpu/cpu.cfs_period_us": "100000\n"}, ["3", "16384"]),
])
def test_web_concurrency(tmp_path, files, expected):
    assert source(tmp_path, "WEB_CONCURRENCY.sh", files) == expected


def test_a_users_web_concurrency_is_kept(tmp_path):
    files = {"memory.max": f"{512 * MB}\n"}
    assert source(tmp_path, "WEB_CONCURRENCY.sh", files, env={"WEB_CONCURRENCY": "9"}) == ["9", "unset"]
    # Set but empty: still the user's (only DYNO_RAM, unset, is printed).
    assert source(tmp_path, "WEB_CONCURRENCY.sh", files, env={"WEB_CONCURRENCY": ""}) == ["unset"]


def test_nothing_readable_leaves_it_unset(tmp_path):
    result = subprocess.run(
        ["bash", "-c", f"set -eo pipefail; source {PROFILE_DIR / 'WEB_CONCURRENCY.sh'}; echo ${{WEB_CONCURRENCY-unset}}"],
        env={"PATH": "/usr/bin:/bin", "PYTHON_BUILDPACK_CGROUP_ROOT": str(tmp_path / "none"),
             "PYTHON_BUILDPACK_MEMINFO": str(tmp_path / "none")}, capture_output=True, text=True)
    assert (result.returncode, result.stdout, result.stderr) == (0, "unset\n", "")


def test_gunicorn_defaults(tmp_path):
    run = lambda env: subprocess.run(  # noqa: E731
        ["bash", "-c", f"set -euo pipefail; source {PROFILE_DIR / 'python.gunicorn.sh'}; "
                       'echo "$FORWARDED_ALLOW_IPS|$GUNICORN_CMD_ARGS"'],
        env={"PATH": "/bin", **env}, capture_output=True, text=True).stdout
    assert run({}) == "*|--access-logfile -\n"
    assert run({"FORWARDED_ALLOW_IPS": "10.0.0.1", "GUNICORN_CMD_ARGS": "--timeout 60"}) == "10.0.0.1|--timeout 60\n"
