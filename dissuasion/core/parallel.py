"""Work done on the machine's other core: a function run in a forked child process while the caller goes on.

The child is a copy of the caller (fork), so it sees the caller's data without anything being sent to it; only
its return value comes back, pickled through a pipe. The child must not touch the database or any shared state:
it computes and returns. It leaves with os._exit, so nothing of the caller's (connections, files, atexit
handlers) is closed or flushed twice. Whenever the child cannot give its result (no fork on this system, a
child that raised or was killed), `result()` runs the same work in the caller: the answer never depends on
whether the second core helped.
"""
import os
import pickle
import signal
from collections.abc import Callable


class Forked:
    """`work(*args)` started in a forked child; `result()` waits for it (or does the work here)."""

    def __init__(self, work: Callable, *args):
        self.work, self.args = work, args
        self.pid, self.pipe = None, None
        if not hasattr(os, "fork"):
            return
        read_end, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return
        if pid == 0:  # the child: compute, send, leave without running any of the parent's clean-ups
            code = 1
            try:
                os.close(read_end)
                data = pickle.dumps(work(*args), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write_end, "wb") as out:
                    out.write(data)
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        self.pid, self.pipe = pid, read_end

    def result(self):
        """The child's return value; the work done here when the child gave none."""
        if self.pid is None:
            return self.work(*self.args)
        with os.fdopen(self.pipe, "rb") as incoming:
            data = incoming.read()
        self.pipe = None
        _pid, status = os.waitpid(self.pid, 0)
        self.pid = None
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and data:
            return pickle.loads(data)
        return self.work(*self.args)

    def cancel(self) -> None:
        """Stop the child (the caller failed and needs no result); nothing is left behind."""
        if self.pipe is not None:
            os.close(self.pipe)
            self.pipe = None
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
            self.pid = None
