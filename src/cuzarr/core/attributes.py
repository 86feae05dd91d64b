"""User attributes of a node: a dict that persists itself on every change.

Every change is a read-modify-write of the node's metadata made under its metadata lock (when the
node has a synchronizer), so concurrent writers of different keys never drop each other's keys.
``edit()`` extends that to changes that depend on current values (``attrs["n"] += 1``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any


def check_json_value(key: str, value: Any) -> None:
    """Attributes are JSON: refuse anything ``json.dumps`` would not write faithfully."""
    try:
        json.dumps(value, allow_nan=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"attribute {key!r} is not JSON-serializable: {exc}") from exc


def _check_attributes(mapping: dict[str, Any]) -> None:
    for key, value in mapping.items():
        if not isinstance(key, str):
            raise TypeError(f"attribute keys must be str, got {key!r}")
        check_json_value(key, value)


class Attributes(MutableMapping[str, Any]):
    """Reads from the node's cached metadata; every write goes through the node's ``edit``."""

    def __init__(
        self,
        get: Callable[[], dict[str, Any]],
        edit: Callable[[], AbstractContextManager[dict[str, Any]]],
    ):
        self._get = get
        self._edit = edit

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __delitem__(self, key: str) -> None:
        with self._edit() as current:
            del current[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def update(self, other: Any = (), /, **kwargs: Any) -> None:  # type: ignore[override]
        """Set many attributes with one metadata write (keys others wrote meanwhile are kept)."""
        new = dict(other, **kwargs)
        _check_attributes(new)
        with self._edit() as current:
            current.update(new)

    def put(self, mapping: dict[str, Any]) -> None:
        """Replace all attributes at once."""
        new = dict(mapping)
        _check_attributes(new)
        with self._edit() as current:
            current.clear()
            current.update(new)

    @contextmanager
    def edit(self) -> Iterator[dict[str, Any]]:
        """The current attributes as a plain dict, stored when the block ends without an error.

        With a synchronizer, the node's metadata lock is held for the whole block and the dict
        holds the stored (not cached) attributes, so ``with z.attrs.edit() as a: a["n"] += 1``
        run by many threads or processes counts every increment. Keep the block short.
        """
        with self._edit() as current:
            yield current
            _check_attributes(current)

    def asdict(self) -> dict[str, Any]:
        return dict(self._get())

    def __repr__(self) -> str:
        return repr(self._get())
