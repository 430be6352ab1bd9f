"""A sending process for the SIGKILL trials: imports the app once, then for each "go" line on stdin forks a
child that delivers the outbox (a real process, killed by the test at a random moment) and prints its pid.
Run as `python tests/faults/sender.py` with the app's settings in the environment."""
from __future__ import annotations

import os
import signal
import sys

from tracker import create_app
from tracker.extensions import db
from tracker.reminders import sendlog

app = create_app()
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
print("ready", flush=True)
for line in sys.stdin:
    if line.strip() != "go":
        continue
    pid = os.fork()
    if pid == 0:
        try:
            with app.app_context():
                db.engine.dispose(close=False)  # no connection shared with the parent
                sendlog.deliver()
        finally:
            os._exit(0)
    print(pid, flush=True)
