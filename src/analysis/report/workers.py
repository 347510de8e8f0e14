"""Report workers die with their parent: a report's worker processes (and through them their
notebook kernels, which watch their own parent: ipykernel's parent poller) never outlive a run
that was killed (`kill -9`). The multiprocessing resource tracker ends when they have."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # linux/prctl.h
POLL_SECONDS = 1.0


def die_with_parent(parent_pid: int) -> None:
    """Called first thing in a child process: it is killed when `parent_pid` ends, however it ends.
    Linux: the kernel sends SIGKILL (prctl PR_SET_PDEATHSIG); elsewhere a thread watches the parent."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    else:
        threading.Thread(target=_watch, args=(parent_pid,), daemon=True, name="die-with-parent").start()
    if os.getppid() != parent_pid:  # the parent was gone before the signal was armed
        os._exit(1)


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(POLL_SECONDS)
    os._exit(1)
