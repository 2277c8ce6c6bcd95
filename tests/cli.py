"""Runs the real `salesledger` CLI in a subprocess, against a given store."""

from __future__ import annotations

import os
import subprocess
import sys


def salesledger(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SALESLEDGER_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "adapters", *args],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
