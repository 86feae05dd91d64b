"""User attributes of a node: a dict that persists itself on every change."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any


def check_json_value(key: str, value: Any) -> None:
    """Attributes are JSON: refuse anything ``json.dumps`` would not write faithfully."""
    try:
        json.dumps(value, allow_nan=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"attribute {key!r} is not JSON-serializable: {exc}") from exc


class Attributes(MutableMapping[str, Any]):
    """Reads from the node's metadata; every write calls ``save`` with the new dict."""

    def __init__(self, get: Callable[[], dict[str, Any]], save: Callable[[dict[str, Any]], None]):
        self._get = get
        self._save = save

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __delitem__(self, key: str) -> None:
        current = dict(self._get())
        del current[key]
        self._save(current)

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def update(self, other: Any = (), /, **kwargs: Any) -> None:  # type: ignore[override]
        """Set many attributes with one metadata write."""
        new = dict(other, **kwargs)
        for key, value in new.items():
            if not isinstance(key, str):
                raise TypeError(f"attribute keys must be str, got {key!r}")
            check_json_value(key, value)
        self._save({**self._get(), **new})

    def put(self, mapping: dict[str, Any]) -> None:
        """Replace all attributes at once."""
        for key, value in mapping.items():
            check_json_value(key, value)
        self._save(dict(mapping))

    def asdict(self) -> dict[str, Any]:
        return dict(self._get())

    def __repr__(self) -> str:
        return repr(self._get())
