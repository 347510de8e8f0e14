"""Reading ahead: a file's sheets are parsed and cleaned in a background thread while ingest
files the batches of the file before it, so both cores work (pyarrow and numpy release the
GIL in their loops). Everything a file's reader produces still reaches ingest in file order,
and an error is raised where it happened in that order: reading ahead changes when work is
done, never what is read or reported."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_DONE = object()
FILES_AHEAD = 1  # files read while ingest files the batches of one (two: 10M records took 1.24 GB, not 1.0, no faster)
_POLL_SECONDS = 0.1  # how often a producer waiting on a full queue checks whether it was stopped


class ReadAhead(Generic[T]):
    """The items of `make()`, produced in a background thread started at once, at most `depth`
    items ahead of the reader. `close` stops the thread (it finishes the item it is making)."""

    def __init__(self, make: Callable[[], Iterator[T]], depth: int = 1) -> None:
        self._queue: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=depth)
        self._stopped = threading.Event()
        self._finished = False
        self._thread = threading.Thread(target=self._produce, args=(make,), daemon=True, name="ingest-read-ahead")
        self._thread.start()

    def _produce(self, make: Callable[[], Iterator[T]]) -> None:
        items: Iterator[T] | None = None
        try:
            items = make()
            for item in items:
                if not self._put((True, item)):
                    return
            self._put((False, _DONE))
        except BaseException as exc:  # noqa: BLE001 - handed to the reader, raised there
            self._put((False, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def _put(self, entry: tuple[bool, object]) -> bool:
        while not self._stopped.is_set():
            try:
                self._queue.put(entry, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> ReadAhead[T]:
        return self

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        is_item, value = self._queue.get()
        if is_item:
            return value  # type: ignore[return-value]
        self._finished = True
        if value is _DONE:
            raise StopIteration
        assert isinstance(value, BaseException)
        raise value

    def close(self) -> None:
        self._stopped.set()
        self._finished = True
        while True:  # let a producer blocked on the full queue see the stop
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break


class FilesAhead(Generic[T]):
    """One `ReadAhead` per file, the next `files_ahead` files started while one is read (each holds
    a batch or two: a file's reader waits while its queue is full)."""

    def __init__(self, makers: list[Callable[[], Iterator[T]]], files_ahead: int = FILES_AHEAD) -> None:
        self._makers = makers
        self._files_ahead = files_ahead
        self._started: list[ReadAhead[T] | None] = []

    def __iter__(self) -> Iterator[ReadAhead[T]]:
        for index in range(len(self._makers)):
            while len(self._started) < min(len(self._makers), index + 1 + self._files_ahead):
                self._started.append(ReadAhead(self._makers[len(self._started)]))
            current = self._started[index]
            assert current is not None
            yield current
            current.close()
            self._started[index] = None

    def close(self) -> None:
        for reader in self._started:
            if reader is not None:
                reader.close()
