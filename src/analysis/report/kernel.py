"""One kernel for all the notebooks of one report, for batches of reports (`--each`).

Starting a kernel and importing the library takes about a second, as long as most notebooks take
to run, and a batch of 51 state reports would start 459 of them. A batch task therefore starts one
kernel per report and runs that report's notebooks in it one after the other. Before each
notebook the kernel's namespace is cleared and its execution counter set back to 1, so a notebook
sees only its own variables and is numbered as in a kernel of its own; the library's modules stay
imported (code and data do not change during one report, and the kernel ends with the report).
tests/test_batch.py checks that a report made this way is byte-identical to one made with a
kernel per notebook.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import TracebackType
from typing import Any

from analysis.errors import ReportError

ENGINE_NAME = "analysis-one-kernel"
START_TIMEOUT = 60
# Run silently (no execution count, no history) before each notebook.
RESET_CODE = """\
import sys as _sys
if "matplotlib.pyplot" in _sys.modules:
    _sys.modules["matplotlib.pyplot"].close("all")
get_ipython().reset(new_session=True)
"""


class OneKernel:
    """A started kernel and its client; `papermill_arguments()` runs a notebook in it."""

    def __init__(self, kernel_name: str, cwd: Path, log: Path, config: Any = None) -> None:
        self.kernel_name = kernel_name
        self.config = config
        self.cwd = cwd
        self.log = log
        self.km: Any = None
        self.kc: Any = None

    def __enter__(self) -> OneKernel:
        from jupyter_client.manager import KernelManager

        _register_engine()
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:  # the kernel process's own messages (startup warnings, crashes)
            self.km = KernelManager(kernel_name=self.kernel_name, **({"config": self.config} if self.config else {}))
            self.km.start_kernel(cwd=str(self.cwd), stdout=log, stderr=subprocess.STDOUT)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=START_TIMEOUT)
        self.kc.allow_stdin = False
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None:
            self.km.shutdown_kernel(now=True)

    def reset(self) -> None:
        if not self.km.is_alive():
            raise ReportError(f"the notebook kernel stopped (its messages are in {self.log})")
        reply = self.kc.execute_interactive(RESET_CODE, silent=True, store_history=False, timeout=START_TIMEOUT)
        if reply["content"]["status"] != "ok":
            raise ReportError(f"could not reset the notebook kernel: {reply['content'].get('evalue', '')}")

    def papermill_arguments(self) -> dict[str, Any]:
        """Keyword arguments for `papermill.execute_notebook`, after `reset()`."""
        return {"engine_name": ENGINE_NAME, "km": self.km, "kc": self.kc}


def _register_engine() -> None:
    """papermill's own engine, except that the notebook runs in the kernel it is handed (papermill
    accepts a kernel manager but would open a new client, and its channels, for every notebook)."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger

    class OneKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,  # type: ignore[override]
                                     stderr_file=None, start_timeout=60, execution_timeout=None, **kwargs):
            client = PapermillNotebookClient(
                nb_man, km=kwargs["km"], timeout=execution_timeout, startup_timeout=start_timeout,
                kernel_name=kernel_name, log=logger, log_output=log_output, stdout_file=stdout_file,
                stderr_file=stderr_file,
            )
            client.kc = kwargs["kc"]
            return client.execute()

    papermill_engines.register(ENGINE_NAME, OneKernelEngine)
