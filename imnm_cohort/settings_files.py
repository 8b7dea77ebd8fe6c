"""Settings files (pipelines, mapping files, reference-rate files): checked before reading.

A settings file is small and written by a person. Before any of its bytes are read, it must
be a regular file (not a folder, a device such as ``/dev/zero``, a FIFO or a socket, which
can be read for ever) no larger than its kind's limit, so that a wrong path costs one line
and exit code 2, never the machine's memory. A TOML file must also nest no deeper than
:data:`TOML_MAX_DEPTH` tables and arrays: Python's TOML reader recurses once per level.
"""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path
from typing import Any

from imnm_cohort.errors import ConfigError

#: The largest pipeline or mapping file read (1 MiB; a real one is a few KiB).
TOML_MAX_BYTES = 1 << 20
#: The largest reference-rate file read (64 MiB; rates by single year of age, sex, calendar
#: year and 100 cancer sites stay under 20 MiB).
RATES_MAX_BYTES = 64 << 20
#: The deepest nesting of tables and arrays in a pipeline or mapping file (a real one
#: nests four levels: section, table, inline table, list).
TOML_MAX_DEPTH = 20


def check_settings_file(path: str | Path, what: str, max_bytes: int) -> Path:
    """Refuse a path that is not a regular file of at most ``max_bytes`` bytes.

    Parameters
    ----------
    path : str or Path
    what : str
        The kind of file, for the message ("pipeline file", "mapping file", ...).
    max_bytes : int
        The size limit.

    Returns
    -------
    Path

    Raises
    ------
    ConfigError
        For a missing path, a folder, a device, a FIFO or a socket, or a file over the limit;
        one line naming the path (exit code 2). Nothing of the file has been read.
    """
    path = Path(path)
    try:
        mode = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: {what} cannot be read ({exc.strerror})") from None
    if stat.S_ISDIR(mode.st_mode):
        raise ConfigError(f"{path}: is a folder, not a {what}")
    if not stat.S_ISREG(mode.st_mode):
        raise ConfigError(
            f"{path}: is not a regular file (a device, a FIFO or a socket); give a {what}"
        )
    if mode.st_size > max_bytes:
        raise ConfigError(
            f"{path}: {what} is {mode.st_size:,} bytes, over the limit of "
            f"{_size(max_bytes)}; is this the right file?"
        )
    return path


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """Read a pipeline or mapping file: checked as :func:`check_settings_file`, then parsed.

    Raises
    ------
    ConfigError
        As :func:`check_settings_file`; for a file that is not UTF-8 or not valid TOML; and
        for tables or arrays nested deeper than :data:`TOML_MAX_DEPTH`.
    """
    return read_toml_and_bytes(path, what)[0]


def read_toml_and_bytes(path: str | Path, what: str) -> tuple[dict[str, Any], bytes]:
    """As :func:`read_toml`, also giving the bytes read (for the file's digest)."""
    path = check_settings_file(path, what, TOML_MAX_BYTES)
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {what} cannot be read ({exc})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except RecursionError:
        raise _too_deep(path, what) from None
    if _depth(raw) > TOML_MAX_DEPTH:
        raise _too_deep(path, what)
    return raw, data


def _too_deep(path: Path, what: str) -> ConfigError:
    return ConfigError(
        f"{path}: {what} nests tables or arrays more than {TOML_MAX_DEPTH} levels deep"
    )


def _depth(value: object) -> int:
    """How deeply tables and arrays nest (0 for a plain value), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level + 1)
        stack.extend((child, level + 1) for child in children)
    return deepest


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n >> 10} KiB"
