"""Run commands from a small process, so that their peak RSS is their own.

Linux carries a process's peak RSS across ``exec``: a command forked from a benchmark that has
loaded geopandas would start with the benchmark's 140 MiB as its "peak". The launcher is
started before anything large is imported, and forks every command from its own ~10 MiB.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time


def serve() -> None:
    """Launcher side: one JSON request per stdin line, one JSON answer per stdout line."""
    for line in sys.stdin:
        request = json.loads(line)
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            start = time.perf_counter()
            proc = subprocess.Popen(request["cmd"], env=request["env"], stdout=out,
                                    stderr=err, text=True)
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            answer = {"seconds": seconds, "peak_bytes": usage.ru_maxrss * 1024,
                      "cpu_seconds": usage.ru_utime + usage.ru_stime,
                      "returncode": proc.returncode, "stdout": out.read(), "stderr": err.read()}
        print(json.dumps(answer), flush=True)


class Launcher:
    """Client side: start it early (before large imports), then :meth:`run` commands."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True)

    def run(self, cmd: list[str], env: dict[str, str]) -> dict:
        """Wall seconds, peak RSS (bytes), CPU seconds (user + system), exit code, stdout and
        stderr of ``cmd``."""
        self._proc.stdin.write(json.dumps({"cmd": cmd, "env": env}) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the launcher died (exit {self._proc.wait()})")
        return json.loads(line)

    def close(self) -> None:
        self._proc.stdin.close()
        self._proc.wait()


if __name__ == "__main__":
    serve()
