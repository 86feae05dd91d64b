"""The file-system details behind LocalStore's durability: fsyncs, and leftovers of killed writers.

Kept apart from ``local.py`` so the store reads as key -> file logic; these are the few POSIX
rules (a rename is durable once its directory is fsynced; a new directory once its parent is)
and the walk that finds temp files without following links out of the root.
"""

from __future__ import annotations

import os
import re


def fsync_dir(directory: str) -> None:
    """Make the entries just renamed or created in ``directory`` durable (POSIX only)."""
    if os.name == "nt":  # directories cannot be opened there; NTFS journals renames itself
        return
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_parents(dirname: str, fsync: bool) -> None:
    """``os.makedirs(dirname)``; with ``fsync``, each new directory's entry in its parent too."""
    created, directory = [], dirname
    while fsync and not os.path.isdir(directory) and os.path.dirname(directory) != directory:
        created.append(directory)
        directory = os.path.dirname(directory)
    os.makedirs(dirname, exist_ok=True)
    for new in reversed(created):
        fsync_dir(os.path.dirname(new))


def temp_files(root: str, pattern: re.Pattern[str]) -> list[os.DirEntry[str]]:
    """Regular files under ``root`` whose names match ``pattern``, never descending through symlinks."""
    found, pending = [], [root]
    while pending:
        try:
            entries = os.scandir(pending.pop())
        except (FileNotFoundError, NotADirectoryError):
            continue
        with entries:
            for entry in entries:
                if entry.is_symlink():
                    continue
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                    found.append(entry)
    return found
