"""Text views of a group: ``Group.tree()`` (zarr-python's unicode tree) and ``Group.info``."""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape as html_escape
from typing import Any


class TreeRepr:
    """The tree as text (``repr``) and HTML (Jupyter), like zarr-python's ``TreeRepr``."""

    def __init__(self, text: str, html: str, truncated: str = ""):
        self._text = text
        self._html = html
        self._truncated = truncated

    def __repr__(self) -> str:
        return self._truncated + self._text

    def __str__(self) -> str:
        return repr(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> dict[str, str]:
        html = (
            '<pre style="white-space:pre;overflow-x:auto;line-height:normal;'
            "font-family:Menlo,'DejaVu Sans Mono',consolas,'Courier New',monospace\">"
            f"{self._truncated}{self._html}</pre>\n"
        )
        return {"text/plain": repr(self), "text/html": html}


def render_tree(
    root_name: str, members: Sequence[tuple[str, Any]], *, max_nodes: int = 500, plain: bool = False
) -> TreeRepr:
    """Draw ``members`` ((relative path, Array | Group) pairs) below ``root_name``.

    Groups show their name, arrays ``name shape dtype``. Names are bold (ANSI on a terminal,
    ``<b>`` in HTML) unless ``plain``. Iterative, so deep trees never hit the recursion limit.
    """
    members = list(members)
    truncated = len(members) > max_nodes
    members = sorted(members[:max_nodes], key=lambda item: item[0])
    use_ansi = not plain and sys.stdout.isatty()
    ansi_open, ansi_close = ("\x1b[1m", "\x1b[0m") if use_ansi else ("", "")
    html_open, html_close = ("", "") if plain else ("<b>", "</b>")
    children: dict[str, list[tuple[str, Any]]] = {}
    for key, node in members:
        children.setdefault(key.rsplit("/", 1)[0] if "/" in key else "", []).append((key, node))
    text_lines = [f"{ansi_open}{root_name}{ansi_close}"]
    html_lines = [f"{html_open}{html_escape(root_name)}{html_close}"]
    stack = [("", deque(children.get("", [])))]
    while stack:
        prefix, remaining = stack[-1]
        if not remaining:
            stack.pop()
            continue
        key, node = remaining.popleft()
        name = key.rsplit("/", 1)[-1]
        is_last = not remaining
        connector = "└── " if is_last else "├── "
        detail = "" if not hasattr(node, "shape") else f" {node.shape} {node.dtype}"
        text_lines.append(f"{prefix}{connector}{ansi_open}{name}{ansi_close}{detail}")
        html_lines.append(
            f"{prefix}{connector}{html_open}{html_escape(name)}{html_close}{html_escape(detail)}"
        )
        if key in children:
            stack.append((prefix + ("    " if is_last else "│   "), deque(children[key])))
    note = f"Truncated at max_nodes={max_nodes}, some nodes and their children may be missing\n"
    return TreeRepr(
        "\n".join(text_lines) + "\n", "\n".join(html_lines) + "\n", truncated=note if truncated else ""
    )


@dataclass(frozen=True)
class GroupInfo:
    """``Group.info``: zarr-python's table; member counts only when known without listing."""

    name: str
    zarr_format: int
    read_only: bool
    store_type: str
    count_members: int | None = None
    count_arrays: int | None = None
    count_groups: int | None = None

    def __repr__(self) -> str:
        rows = [
            ("Name", self.name),
            ("Type", "Group"),
            ("Zarr format", self.zarr_format),
            ("Read-only", self.read_only),
            ("Store type", self.store_type),
        ]
        if self.count_members is not None:
            rows += [
                ("No. members", self.count_members),
                ("No. arrays", self.count_arrays),
                ("No. groups", self.count_groups),
            ]
        return "\n".join(f"{k:<12}: {v}" for k, v in rows)


__all__ = ["GroupInfo", "TreeRepr", "render_tree"]
