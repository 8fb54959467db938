"""Work in forked processes: a map over the cores with results in input order, one call forked now
(:class:`Forked`: its inputs shared copy-on-write, only its result pickled), and one side process that gets a
head start (:class:`SideProcess`).

The number of workers is the number of cores this process may run on (:func:`available_cores`), at most one per
piece of work; it is not lowered when the machine is busy: results never depend on it, and the scheduler shares a
busy machine per process, so two workers still get more of it than one. What is worth a fork is decided where the
work is known, from measurements (TED zh-en, this project's 2-core machine): a worker's fork, the copy-on-write
faults of the memory it then touches and the pickled results cost about 0.15 s CPU (much less for a call that
touches little and answers with a few arrays), so one corpus of vectorised chrF or BLEU (0.2–0.3 s) is not split
and reading several ``--pairs`` files (0.4–0.8 s each, their tables pickled back) stays in-process, while chrF
beside BLEU, writing the pair tables beside scoring (:class:`Forked`), TER (milliseconds of Python per text) and
the figure (importing matplotlib alone takes 0.4 s) go to other cores.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import traceback
from typing import Any, Callable, Iterable, Iterator, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity; all cores where there is none), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Python's cyclic garbage collector off inside the block (reference counting still frees everything that is
    not in a cycle), back on after it. For a short (seconds), allocation-heavy run that forks; not for hours of
    model scoring, whose cyclic garbage would pile up. The collector's passes walk every container object (the
    imported modules', the tables' millions of strings and tuples), which in a forked process also writes to the
    pages it shares with its parent and so copies them. Measured on ``score`` (TED zh-en, chrF + BLEU, 2 cores):
    0.2 s less CPU, 0.08 s less wall time and a tenth fewer page faults."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def ordered_map(function: Callable[[T], R], items: Iterable[T], *, workers: int) -> Iterator[R]:
    """``function`` over ``items``, in order, in up to ``workers`` forked processes (in-process for one worker,
    one item, or a platform without ``fork``). ``function`` must be a module-level function; an exception in a
    worker is raised here."""
    items = list(items)
    workers = min(workers, len(items))
    if workers <= 1 or not _can_fork():
        yield from map(function, items)
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(function, items)


class Forked:
    """``function()`` run in a forked process started now: its inputs are this process's memory, shared
    copy-on-write (nothing is pickled on the way in, so a closure over a large table costs nothing), and only its
    result is pickled back. :meth:`result` waits for it. With one core, or without ``fork``, :meth:`result` runs it
    here. Use it as a context manager.

    An exception in the forked process is raised by :meth:`result` (its traceback logged at debug level); the
    function's result and exceptions must be picklable. Leaving the context waits for the process (its work is
    finite: half-written files are not left behind by a kill), unless Ctrl-C stopped it.
    """

    def __init__(self, function: Callable[[], Any], *, slack: bool = False) -> None:
        self._function = function
        self._process = self._connection = None
        self._answer: tuple[bool, Any] | None = None
        if available_cores() > 1 and _can_fork():
            self._start(*self._child(), slack=slack)

    def _child(self) -> tuple[Callable, Any]:
        """What the forked process runs: ``(target, argument)``, called as ``target(connection, argument)``."""
        return _forked_main, self._function

    def _start(self, target: Callable, *args, slack: bool) -> None:
        """Fork ``target(connection, *args)``; with ``slack`` (work whose answer is wanted only later) at a lower
        priority (``nice`` + :data:`SLACK_NICENESS`), so that on a busy core the processes whose answers are
        awaited first get the CPU first, and this one fills the gaps."""
        context = multiprocessing.get_context("fork")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_niced if slack else target,
                                        args=(child, target, *args) if slack else (child, *args), daemon=True)
        self._process.start()
        child.close()

    def _run_here(self, function: Callable[..., R], *args, **kwargs) -> None:
        try:
            self._answer = (True, function(*args, **kwargs))
        except Exception as exc:  # raised by result(), as from another process
            self._answer = (False, exc)

    def result(self) -> Any:
        if self._answer is None and self._process is None:
            self._run_here(self._function)
        if self._answer is None:
            try:
                self._answer = self._connection.recv()
            except EOFError:
                raise RuntimeError(f"the forked process stopped without an answer (exit code "
                                   f"{self._process.exitcode})") from None
            self._process.join()
            self._connection.close()
        ok, value = self._answer
        if not ok:
            raise value
        return value

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        if self._process is not None and self._answer is None:
            with contextlib.suppress(Exception):  # its own error is not the one to report now
                self.result()



class SideProcess(Forked):
    """One call run in a forked process that was started early: ``prepare()`` (imports, a warm-up) runs there at
    once, while this process goes on; :meth:`call` later sends it the call and :meth:`result` waits for the
    answer. With one core, or without ``fork``, there is no other process: the call runs here, in :meth:`call`,
    without ``prepare()`` (a head start only; the call must not need it). Use it as a context manager: leaving it
    stops the process if its call was never made.

    The call's function must be a module-level function, its arguments and result picklable (they are sent after
    the fork); an exception in the side process is raised by :meth:`result` (its traceback logged at debug level).
    """

    def __init__(self, prepare: Callable[[], Any], *, slack: bool = False) -> None:
        self._prepare = prepare
        super().__init__(prepare, slack=slack)

    def _child(self) -> tuple[Callable, Any]:
        return _side_main, self._prepare

    def call(self, function: Callable[..., R], *args, **kwargs) -> None:
        if self._process is None:
            self._run_here(function, *args, **kwargs)
            return
        self._connection.send((function, args, kwargs))

    def __exit__(self, *exc_info) -> None:
        if self._process is not None:
            if self._process.is_alive():
                self._process.terminate()
            self._process.join()
            if not self._connection.closed:
                self._connection.close()


def _answer(connection, function: Callable[..., Any], *args, **kwargs) -> None:
    """Send ``(True, function(...))`` or ``(False, its exception)``; nothing when the caller went away or Ctrl-C
    reached this process group too."""
    try:
        answer = (True, function(*args, **kwargs))
    except (EOFError, KeyboardInterrupt):
        return
    except Exception as exc:
        log.debug("in a forked process:\n%s", traceback.format_exc())
        answer = (False, exc)
    connection.send(answer)
    connection.close()


SLACK_NICENESS = 10
"""How much lower a ``slack`` process's priority is (``os.nice``; a niceness of 10 gets about a tenth of a
core beside a process at 0 that wants it all)."""


def _niced(connection, target: Callable, *args) -> None:
    with contextlib.suppress(OSError):  # a platform or sandbox that refuses: the same work at the same priority
        os.nice(SLACK_NICENESS)
    target(connection, *args)


def _forked_main(connection, function: Callable[[], Any]) -> None:
    _answer(connection, function)


def _side_main(connection, prepare: Callable[[], Any]) -> None:
    def prepared_call():
        failure = None
        try:
            prepare()
        except Exception as exc:  # reported as the answer to the call, when it comes
            failure = exc
        function, args, kwargs = connection.recv()
        if failure is not None:
            raise failure
        return function(*args, **kwargs)

    _answer(connection, prepared_call)
