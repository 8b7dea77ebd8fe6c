"""A REDCap project read over its API: the raw export and its data dictionary.

:func:`read_redcap` asks a REDCap server for what a data manager would otherwise download
by hand, and gives it in the shapes the file path already reads:

* ``records``: the raw flat export (``exportRecords`` with ``type=flat``,
  ``rawOrLabel=raw``, JSON), one row per record, event and repeating-instrument instance
  with REDCap's ``redcap_event_name``, ``redcap_repeat_instrument`` and
  ``redcap_repeat_instance`` columns, as text cells exactly as
  :func:`~imnm_cohort.sources.files.read_source` reads the same project's CSV export
  (empty cells missing, index 0..n-1);
* ``metadata``: the data dictionary (``exportMetadata``), under the API's column names
  (``field_name``, ``form_name``, ...), which the dictionary reader accepts;
* ``events``, ``form_events`` and ``repeating``: the project's events, which instruments
  each event holds, and which instruments repeat (``exportEvents``,
  ``exportInstrumentEventMappings``, ``exportRepeatingFormsEvents``; empty for a classic,
  non-longitudinal project).

Records are fetched in batches of record ids: one ``exportRecords`` call with only the
record id field lists them, then one call per ``batch_size`` ids (``records[0]=...``), so
that a large project never has to be exported by the server in one answer.

The token comes from an environment variable and is sent only in the POST body. It is held
by :class:`Token`, whose ``repr`` and ``str`` hide it, and every message is scrubbed of it;
messages name the server by host only. Every failure (server unreachable, wrong token,
REDCap's error JSON, an answer that is not the JSON asked for, a timeout) raises
:class:`~imnm_cohort.errors.ExtractError` with one line (exit code 1); a missing token
variable or an unusable URL raises :class:`~imnm_cohort.errors.ConfigError` (exit code 2).
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import json
import math
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from imnm_cohort.errors import ConfigError, ExtractError
from imnm_cohort.sources.base import SOURCES

#: The three columns REDCap adds to a longitudinal or repeating project's flat export.
EVENT_COLUMNS = ("redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance")
#: Record ids per ``exportRecords`` call.
DEFAULT_BATCH_SIZE = 1000
#: Seconds to wait for one answer of the server.
DEFAULT_TIMEOUT = 120.0
#: Hosts a token may be sent to over plain ``http``: the machine itself.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
#: The parameters of an ``exportRecords`` call, besides the token and the batch's ids.
RECORD_PARAMETERS = {
    "content": "record",
    "action": "export",
    "format": "json",
    "type": "flat",
    "rawOrLabel": "raw",
    "rawOrLabelHeaders": "raw",
    "exportCheckboxLabel": "false",
    "exportSurveyFields": "false",
    "exportDataAccessGroups": "false",
    "returnFormat": "json",
}
_TEXT = pd.StringDtype("pyarrow")
_HIDDEN = "***"
#: The longest problem a message quotes (characters).
_LONGEST = 300


class Token:
    """A REDCap API token that never shows itself: ``repr``, ``str`` and ``format`` give
    ``***``; only :meth:`reveal` gives the value (for the POST body)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The token itself: for the request body only."""
        return self._value

    def scrub(self, text: str) -> str:
        """``text`` with every occurrence of the token replaced by ``***``."""
        return text.replace(self._value, _HIDDEN) if self._value else text

    def __repr__(self) -> str:
        return f"Token({_HIDDEN})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> Any:  # never pickled into a cache or a worker's log
        raise TypeError("a REDCap token is not pickled")


def token_from_env(name: str) -> Token:
    """The token in the environment variable ``name``.

    Raises
    ------
    ConfigError
        When the variable is not set or is empty (the message names the variable only).
    """
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigError(
            f"the REDCap API token is read from the environment variable {name}, "
            "which is not set or empty"
        )
    if any(c.isspace() for c in value):
        raise ConfigError(
            f"the environment variable {name} holds spaces or several lines, not a REDCap API token"
        )
    return Token(value)


@dataclass(frozen=True)
class RedcapSettings:
    """Where a REDCap project is and how it is read (a pipeline's ``[input]``).

    Attributes
    ----------
    url : str
        The API endpoint (``https://redcap.example.org/api/``).
    token_env : str
        The environment variable holding the API token.
    batch_size : int
        Record ids per ``exportRecords`` call.
    timeout : float
        Seconds to wait for each answer.
    """

    url: str
    token_env: str
    batch_size: int = DEFAULT_BATCH_SIZE
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.url)
        host = parts.hostname or ""
        if parts.scheme not in ("https", "http") or not host:
            raise ConfigError(
                "the REDCap API URL must be https://<server>/api/ (the address of the API, "
                "as REDCap's API page gives it)"
            )
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ConfigError(
                f"the REDCap API URL for {host} must not hold a user, a password or a query "
                "(the token is read from the environment variable named by token_env)"
            )
        if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
            raise ConfigError(
                f"the REDCap API URL for {host} is plain http: the token would cross the "
                "network unencrypted; use https"
            )
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ConfigError("the REDCap batch_size must be a whole number of at least 1")
        if not self.timeout > 0:
            raise ConfigError("the REDCap timeout must be a number of seconds above 0")

    @property
    def host(self) -> str:
        """The server's host name (what messages and the manifest name)."""
        return urllib.parse.urlsplit(self.url).hostname or ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is refused: the token is never sent on to another address."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class RedcapClient:
    """Calls of one REDCap project's API: form-encoded POSTs, JSON answers.

    Parameters
    ----------
    settings : RedcapSettings
    token : Token
    """

    def __init__(self, settings: RedcapSettings, token: Token) -> None:
        self.settings = settings
        self._token = token
        self._opener = urllib.request.build_opener(_NoRedirect)

    def __repr__(self) -> str:
        return f"RedcapClient(host={self.settings.host!r})"

    def call(self, method: str, parameters: dict[str, str]) -> Any:
        """POST one API call and return its JSON answer.

        Parameters
        ----------
        method : str
            REDCap's name of the method, for messages (``exportRecords``).
        parameters : dict
            The form fields besides the token.

        Raises
        ------
        ExtractError
            One line naming the host and the problem; never the token.
        """
        body = urllib.parse.urlencode({"token": self._token.reveal(), **parameters}).encode()
        request = urllib.request.Request(
            self.settings.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        try:
            with self._opener.open(request, timeout=self.settings.timeout) as answer:
                status, kind, data = answer.status, answer.headers.get_content_type(), answer.read()
        except urllib.error.HTTPError as exc:
            status, data = exc.code, _read_quietly(exc)
            problem = _http_problem(status, data, self.settings.token_env)
            raise self._fail(method, problem) from None
        except TimeoutError:
            raise self._fail(method, f"no answer within {self.settings.timeout:g} s") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise self._fail(method, f"no answer within {self.settings.timeout:g} s") from None
            raise self._fail(method, f"cannot be reached ({_reason(exc.reason)})") from None
        except (http.client.HTTPException, ConnectionError, OSError) as exc:
            raise self._fail(method, f"the connection was lost ({_reason(exc)})") from None
        try:
            parsed = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise self._fail(
                method, f"answered with {kind or 'an unnamed type'} ({len(data)} bytes), not JSON"
            ) from None
        if isinstance(parsed, dict) and "error" in parsed:
            raise self._fail(method, f"REDCap says: {_clip(parsed['error'])}")
        return parsed

    def _fail(self, method: str, problem: str) -> ExtractError:
        """One line: the token scrubbed from the whole text first, then cut to length (a
        cut never leaves part of the token behind)."""
        problem = " ".join(self._token.scrub(problem).split())
        if len(problem) > _LONGEST:
            problem = problem[: _LONGEST - 3] + "..."
        return ExtractError(f"REDCap API at {self.settings.host}: {method} failed: {problem}")


def _read_quietly(exc: urllib.error.HTTPError) -> bytes:
    try:
        return exc.read()
    except Exception:  # a body that cannot be read adds nothing to the status
        return b""


def _http_problem(status: int, data: bytes, token_env: str) -> str:
    """``HTTP 403: <REDCap's error>`` (with a hint for a refused token)."""
    try:
        said = json.loads(data.decode("utf-8"))
        error = said.get("error") if isinstance(said, dict) else None
    except (UnicodeDecodeError, ValueError):
        error = None
    text = f"HTTP {status}" + (f": REDCap says: {_clip(error)}" if error else "")
    if 300 <= status < 400:
        text += " (a redirect, not followed: give the API's own URL)"
    if status in (401, 403):
        text += (
            f"; the token was refused: check the token in {token_env} and its user's API "
            "export rights"
        )
    return text


def _reason(reason: object) -> str:
    if isinstance(reason, BaseException):
        return type(reason).__name__ + (f": {_clip(reason)}" if str(reason) else "")
    return _clip(reason)


def _clip(value: object) -> str:
    """A server's text on one line (cut to length later, after the token is scrubbed)."""
    return " ".join(str(value).split())


@dataclass(frozen=True)
class RedcapProject:
    """A REDCap project as fetched.

    Attributes
    ----------
    host : str
        The server's host name.
    project_id : str
        REDCap's project id ("" when the server did not give it).
    records : pandas.DataFrame
        The raw flat export as text cells (``string[pyarrow]``), empty cells missing,
        index 0..n-1: what :func:`~imnm_cohort.sources.files.read_source` gives for the
        project's CSV export.
    metadata : pandas.DataFrame
        The data dictionary, one row per field, under the API's column names.
    events, form_events, repeating : pandas.DataFrame
        The events, the instrument-event mappings and the repeating instruments and events
        (no rows for a classic project).
    batches : int
        ``exportRecords`` calls that fetched the records (besides the one listing the ids).
    """

    host: str
    project_id: str
    records: pd.DataFrame
    metadata: pd.DataFrame
    events: pd.DataFrame
    form_events: pd.DataFrame
    repeating: pd.DataFrame
    batches: int

    @property
    def id_field(self) -> str:
        """The record id field: the dictionary's first field."""
        return str(self.metadata["field_name"].iloc[0])

    def describe(self) -> dict[str, Any]:
        """What the manifest records of the source: never the token nor the URL's path."""
        return {
            "kind": "redcap",
            "host": self.host,
            **({"project_id": self.project_id} if self.project_id else {}),
            "records": int(self.records[self.id_field].nunique()),
            "rows": len(self.records),
            "fields": len(self.metadata),
            "longitudinal": len(self.events) > 0,
            "sha256": self.fingerprint(),
        }

    def fingerprint(self) -> str:
        """SHA-256 of the records' canonical CSV (the header, then every row in the
        export's order; empty cells empty, ``\\n`` line ends, minimal quoting)."""
        return self._digest

    @functools.cached_property
    def _digest(self) -> str:  # computed once: describe() and the run's checksum share it
        text = self.records.to_csv(index=False, lineterminator="\n")
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def dictionary_csv(self) -> str:
        """The data dictionary as CSV text under the API's headers: what ``draft-mapping
        --redcap-dictionary`` reads when written to a file."""
        return self.metadata.to_csv(index=False, lineterminator="\n")

    def write_dictionary(self, path: str | Path) -> Path:
        """Write :meth:`dictionary_csv` to ``path`` (UTF-8)."""
        path = Path(path)
        path.write_text(self.dictionary_csv(), encoding="utf-8")
        return path


def read_redcap(settings: RedcapSettings, token: Token | None = None) -> RedcapProject:
    """Fetch a REDCap project's raw records, dictionary, events and repeating instruments.

    Parameters
    ----------
    settings : RedcapSettings
    token : Token, optional
        The API token; read from ``settings.token_env`` when not given.

    Returns
    -------
    RedcapProject

    Raises
    ------
    ConfigError
        The token variable is not set.
    ExtractError
        The server cannot be reached, refuses the token, answers with an error or with
        something that is not REDCap's JSON, does not answer in time, or the project has
        no records; one line naming the host, never the token.
    """
    client = RedcapClient(settings, token or token_from_env(settings.token_env))
    host = settings.host
    info = client.call(
        "exportProject", {"content": "project", "format": "json", "returnFormat": "json"}
    )
    project_id = str(info.get("project_id", "")) if isinstance(info, dict) else ""
    longitudinal = isinstance(info, dict) and str(info.get("is_longitudinal", "0")) == "1"
    repeats = (
        isinstance(info, dict) and str(info.get("has_repeating_instruments_or_events", "0")) == "1"
    )

    def listing(method: str, content: str, needed: tuple[str, ...]) -> pd.DataFrame:
        """One of the project's listings (fields, events, ...) with its ``needed`` columns."""
        answer = client.call(method, {"content": content, "format": "json", "returnFormat": "json"})
        return _table(answer, method, host, needed=needed)

    fields = ("field_name", "form_name", "field_type", "field_label")
    metadata = listing("exportMetadata", "metadata", fields)
    if len(metadata) == 0:
        raise ExtractError(f"REDCap API at {host}: exportMetadata gave no fields")
    empty = pd.DataFrame()
    events = form_events = repeating = empty
    if longitudinal:
        events = listing("exportEvents", "event", ("unique_event_name",))
        form_events = listing(
            "exportInstrumentEventMappings", "formEventMapping", ("unique_event_name", "form")
        )
    if repeats:
        repeating = listing("exportRepeatingFormsEvents", "repeatingFormsEvents", ("form_name",))
    id_field = str(metadata["field_name"].iloc[0])
    listed = _records(
        client.call("exportRecords", {**RECORD_PARAMETERS, "fields[0]": id_field}), host
    )
    if len(listed) == 0:
        raise ExtractError(f"REDCap API at {host}: the project has no records")
    if id_field not in listed.columns:
        raise ExtractError(
            f"REDCap API at {host}: exportRecords gave no column '{id_field}' (the record id field)"
        )
    ids = listed[id_field].dropna().unique().tolist()
    if not ids:
        raise ExtractError(f"REDCap API at {host}: the project has no records")
    size = settings.batch_size
    parts: list[pd.DataFrame] = []
    for start in range(0, len(ids), size):
        batch = ids[start : start + size]
        answer = client.call(
            "exportRecords",
            {**RECORD_PARAMETERS, **{f"records[{i}]": str(r) for i, r in enumerate(batch)}},
        )
        part = _records(answer, host)
        if id_field not in part.columns or not part[id_field].isin(batch).all():
            raise ExtractError(
                f"REDCap API at {host}: exportRecords answered with records that were not asked for"
            )
        if parts and list(part.columns) != list(parts[0].columns):
            raise ExtractError(
                f"REDCap API at {host}: exportRecords changed its columns between batches"
            )
        parts.append(part)
    records = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    records.index = pd.RangeIndex(len(records))
    return RedcapProject(
        host=host,
        project_id=project_id,
        records=records,
        metadata=metadata,
        events=events,
        form_events=form_events,
        repeating=repeating,
        batches=len(parts),
    )


def _records(answer: Any, host: str) -> pd.DataFrame:
    """A flat JSON export (a list of objects with the same keys, text values) as text cells,
    empty text missing."""
    if not isinstance(answer, list) or not all(isinstance(row, dict) for row in answer):
        raise ExtractError(
            f"REDCap API at {host}: exportRecords did not answer with a list of records"
        )
    if not answer:
        return pd.DataFrame()
    columns = list(answer[0])
    if len({tuple(row) for row in answer}) != 1:
        raise ExtractError(
            f"REDCap API at {host}: exportRecords gave records with different fields"
        )
    schema = pa.schema([(c, pa.large_string()) for c in columns])
    try:
        table = pa.Table.from_pylist(answer, schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # Some REDCap versions give numbers (redcap_repeat_instance) as JSON numbers: their
        # text is the CSV export's. Anything else (true, a list, an object) is not a value.
        try:
            table = pa.Table.from_pylist([_as_text(row) for row in answer], schema=schema)
        except ValueError:
            raise ExtractError(
                f"REDCap API at {host}: exportRecords gave values that are not text"
            ) from None
    arrays = [
        pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.large_string()), col)
        for col in table.columns
    ]
    table = pa.Table.from_arrays(arrays, names=columns)
    frame: pd.DataFrame = table.to_pandas(types_mapper={pa.large_string(): _TEXT}.get)
    frame.columns = pd.Index(columns)
    return frame


def _as_text(row: dict[str, Any]) -> dict[str, str | None]:
    """A record's values as text: a JSON number as it is written, null as missing."""
    out: dict[str, str | None] = {}
    for key, value in row.items():
        if value is None or isinstance(value, str):
            out[key] = value
        elif isinstance(value, int) and not isinstance(value, bool):
            out[key] = str(value)
        elif isinstance(value, float) and math.isfinite(value):
            out[key] = str(int(value)) if value.is_integer() else repr(value)
        else:
            raise ValueError(key)
    return out


def _table(answer: Any, method: str, host: str, *, needed: tuple[str, ...]) -> pd.DataFrame:
    """A JSON list of objects (metadata, events, mappings) as a frame of text."""
    if not isinstance(answer, list) or not all(isinstance(row, dict) for row in answer):
        raise ExtractError(f"REDCap API at {host}: {method} did not answer with a list")
    frame = pd.DataFrame.from_records(answer)
    missing = [c for c in needed if c not in frame.columns]
    if answer and missing:
        raise ExtractError(f"REDCap API at {host}: {method} gave no {', '.join(missing)}")
    return frame.astype(object).where(frame.notna(), "").astype(str) if len(frame) else frame


class RedcapSource:
    """A REDCap project as a pipeline's source (``[input] kind = "redcap"``).

    It is read through a mapping file, as a REDCap export always is: the mapping
    (:class:`~imnm_cohort.mapping.source.MappedSource`) takes :meth:`read_export`, the raw
    flat records. The project is fetched once, when first needed, and kept.

    Attributes
    ----------
    settings : RedcapSettings
    """

    kind = "redcap"
    #: An export: a pipeline reading it names a mapping file.
    needs_mapping = True

    def __init__(self, settings: RedcapSettings) -> None:
        self.settings = settings
        self._project: RedcapProject | None = None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], base: Path) -> RedcapSource:
        """``[input] url``, ``token_env`` and ``batch_size`` (``base`` is not used: nothing
        is a path).

        Raises
        ------
        ConfigError
            A key missing, unknown or of the wrong type, or a URL that cannot be used.
        """
        known = {"url", "token_env", "batch_size"}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ConfigError(
                f"unknown key '{unknown[0]}' for kind = \"redcap\"; known keys: "
                "url, token_env, batch_size, mapping"
            )
        for key in ("url", "token_env"):
            if not isinstance(settings.get(key), str) or not settings[key]:
                raise ConfigError(f'kind = "redcap" needs {key} = "..." (text)')
        batch_size = settings.get("batch_size", DEFAULT_BATCH_SIZE)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int):
            raise ConfigError("batch_size must be a whole number of at least 1")
        return cls(RedcapSettings(settings["url"], settings["token_env"], batch_size))

    def __repr__(self) -> str:
        return f"RedcapSource(host={self.settings.host!r})"

    @property
    def name(self) -> str:
        """How messages name the source."""
        return f"REDCap API at {self.settings.host}"

    @property
    def label(self) -> str:
        """The server's host name."""
        return self.settings.host

    def project(self) -> RedcapProject:
        """The project, fetched on first use (:func:`read_redcap`)."""
        if self._project is None:
            self._project = read_redcap(self.settings)
        return self._project

    def fingerprint(self) -> str:
        """SHA-256 of the records' canonical CSV (:meth:`RedcapProject.fingerprint`)."""
        return self.project().fingerprint()

    def describe(self) -> dict[str, Any]:
        """Kind, host, project id and shape of the project: never the token."""
        described = dict(self.project().describe())
        described.pop("sha256", None)  # the manifest adds the fingerprint itself
        return described

    def read_export(self, options: Any) -> pd.DataFrame:
        """The raw flat records under REDCap's own field names, for a mapping (the
        ``[source]`` reading options are those of files and do not apply)."""
        records = self.project().records.copy()
        records.attrs = {}
        return records

    def read(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Refused: a REDCap project is an export, read through a mapping file.

        Raises
        ------
        ConfigError
        """
        raise ConfigError(
            f"{self.name}: a REDCap project is read through a mapping file; "
            'set [input] mapping = "..." (draft one with draft-mapping)'
        )

    def batches(self, rows: int) -> Iterator[pd.DataFrame]:
        """Refused, as :meth:`read`."""
        return iter([self.read()])


SOURCES["redcap"] = RedcapSource.from_settings
