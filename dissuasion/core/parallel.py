"""Work done on the machine's other core: a function run in a forked child process while the caller goes on.

The child is a copy of the caller (fork), so it sees the caller's data without anything being sent to it; only
what it yields comes back, each piece pickled through a pipe as soon as it is made, and read by a thread of the
caller as it comes: neither process holds the pieces twice (the child drops each piece once sent). The child must
not touch the database or any shared state: it computes and yields. It leaves with os._exit, so nothing of the
caller's (connections, files, atexit handlers) is closed or flushed twice. Whenever the child cannot give all of
its pieces (no fork on this system, a child that raised or was killed), `result()` runs the same work in the
caller: the answer never depends on whether the second core helped.
"""
import os
import pickle
import signal
import threading
from collections.abc import Callable, Iterable

#: Sent after the last piece: the child got to the end of its work.
_DONE = "done"


class Forked:
    """`work(*args)` (an iterable of pieces) started in a forked child; `result()` gives the list of
    `receive(piece)` for its pieces (or does the work here). `receive` runs in a thread of the caller as each piece
    arrives, so the caller never holds the pieces as sent and what it makes of them both."""

    def __init__(self, work: Callable[..., Iterable], *args, receive: Callable = lambda piece: piece):
        self.work, self.args, self.receive = work, args, receive
        self.pid, self.pieces, self.complete, self.reader = None, [], False, None
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
                with os.fdopen(write_end, "wb") as out:
                    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
                    # no memo: it would keep every object sent alive, and hold an entry for each; an object a
                    # piece holds twice is sent twice, and a piece must hold no cycle
                    pickler.fast = True
                    for piece in work(*args):
                        pickler.dump(piece)
                        out.flush()
                    pickler.dump(_DONE)
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        self.pid = pid
        self.reader = threading.Thread(target=self._read, args=(read_end,), daemon=True)
        self.reader.start()

    def _read(self, read_end: int) -> None:
        with os.fdopen(read_end, "rb") as incoming:
            while True:
                try:
                    piece = pickle.load(incoming)
                except (EOFError, pickle.UnpicklingError, ValueError):  # the child died before the end
                    return
                if isinstance(piece, str) and piece == _DONE:
                    self.complete = True
                    return
                self.pieces.append(self.receive(piece))

    def result(self) -> list:
        """The child's pieces; the work done here when the child did not give them all."""
        if self.pid is None:
            return list(map(self.receive, self.work(*self.args)))
        self.reader.join()
        _pid, status = os.waitpid(self.pid, 0)
        self.pid = None
        if self.complete and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            return self.pieces
        self.pieces = []
        return list(map(self.receive, self.work(*self.args)))

    def cancel(self) -> None:
        """Stop the child (the caller failed and needs no result); nothing is left behind."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
            self.pid = None
        if self.reader is not None:
            self.reader.join()  # the pipe's write end closed with the child: the reader has finished
        self.pieces = []
