"""A strict stand-in for a REDCap server's API, for the tests of the REDCap source.

REDCap itself is licensed software and cannot be installed here. This server answers, on
127.0.0.1 and a free port, the API methods the source calls, in the formats REDCap's API
documentation gives them: ``exportProject`` (content=project), ``exportMetadata``
(content=metadata), ``exportEvents`` (content=event), ``exportInstrumentEventMappings``
(content=formEventMapping), ``exportRepeatingFormsEvents`` (content=repeatingFormsEvents)
and ``exportRecords`` (content=record, flat, raw, JSON; ``records[n]`` and ``fields[n]``
select records and fields). It is strict where REDCap is: POST only, form-encoded, the
token in the body, known parameters only; every refusal is an HTTP error with REDCap's
error JSON ``{"error": "..."}``, and a wrong token is HTTP 403 with ``You do not have
permissions to use the API``.

``fault`` makes it misbehave on purpose: ``"error"`` (REDCap's error JSON for the records),
``"garbled"`` (an HTML page with status 200), ``"slow"`` (answers after ``delay`` seconds),
``"echo"`` and ``"echo_long"`` (an error that repeats the token back), ``"drop"`` (closes
the connection without an answer), ``"redirect"`` (HTTP 302 to another address).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd

from imnm_cohort.synth_redcap import DICTIONARY_HEADERS

TOKEN = "5F2A9C3E7B1D4F6A8C0E2B4D6F8A1C3E"
NO_PERMISSION = "You do not have permissions to use the API"
#: REDCap's data dictionary headers (download) -> the API's metadata keys, in order.
API_METADATA = dict(
    zip(
        DICTIONARY_HEADERS,
        (
            "field_name",
            "form_name",
            "section_header",
            "field_type",
            "field_label",
            "select_choices_or_calculations",
            "field_note",
            "text_validation_type_or_show_slider_number",
            "text_validation_min",
            "text_validation_max",
            "identifier",
            "branching_logic",
            "required_field",
            "custom_alignment",
            "question_number",
            "matrix_group_name",
            "matrix_ranking",
            "field_annotation",
        ),
        strict=True,
    )
)
_COMMON = {"token", "content", "format", "returnFormat"}
_ALLOWED = {
    "project": _COMMON,
    "metadata": _COMMON | {"fields", "forms"},
    "event": _COMMON | {"arms"},
    "formEventMapping": _COMMON | {"arms"},
    "repeatingFormsEvents": _COMMON,
    "record": _COMMON
    | {
        "action",
        "type",
        "records",
        "fields",
        "forms",
        "events",
        "rawOrLabel",
        "rawOrLabelHeaders",
        "exportCheckboxLabel",
        "exportSurveyFields",
        "exportDataAccessGroups",
        "filterLogic",
        "csvDelimiter",
        "decimalCharacter",
    },
}
_ARRAYS = {"records", "fields", "forms", "events", "arms"}


@dataclass
class Project:
    """A REDCap project: its raw export (text cells, missing = empty) and its dictionary."""

    export: pd.DataFrame
    dictionary: pd.DataFrame
    project_id: str = "4711"
    events: list[dict[str, str]] = field(default_factory=list)
    form_events: list[dict[str, str]] = field(default_factory=list)
    repeating: list[dict[str, str]] = field(default_factory=list)

    def metadata(self) -> list[dict[str, str]]:
        frame = self.dictionary.rename(columns=API_METADATA).fillna("")
        return [{k: str(v) for k, v in row.items()} for row in frame.to_dict("records")]

    def rows(self) -> list[dict[str, str]]:
        frame = self.export.astype(object).where(self.export.notna(), "")
        return [{k: str(v) for k, v in row.items()} for row in frame.to_dict("records")]


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class FakeRedcap(ThreadingHTTPServer):
    """The server; ``url`` is its API endpoint, ``calls`` what it was asked (content and
    the number of records asked for)."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, project: Project) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.project = project
        self.rows = project.rows()
        self.fault: str | None = None
        self.delay = 2.0
        #: Give ``redcap_repeat_instance`` as a JSON number, as some REDCap versions do.
        self.numeric_instances = False
        self.calls: list[tuple[str, int]] = []
        #: Every request's line and headers, as received (the token must be in none).
        self.heads: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/"

    def answer(self, form: dict[str, object]) -> object:
        content = form.get("content")
        if form.get("token") != TOKEN:
            raise Refused(403, NO_PERMISSION)
        if content not in _ALLOWED:
            raise Refused(400, 'The value of the parameter "content" is not valid')
        unknown = sorted(set(form) - _ALLOWED[str(content)])
        if unknown:
            raise Refused(400, f"The parameter '{unknown[0]}' is not a valid parameter")
        if form.get("format", "xml") != "json":
            raise Refused(400, "This server answers format=json only")
        if form.get("returnFormat", "json") != "json":
            raise Refused(400, "This server answers returnFormat=json only")
        p = self.project
        if content == "project":
            return {
                "project_id": p.project_id,
                "project_title": "IMNM registry (synthetic)",
                "is_longitudinal": 1 if p.events else 0,
                "has_repeating_instruments_or_events": 1 if p.repeating else 0,
                "record_autonumbering_enabled": 0,
            }
        if content == "metadata":
            return p.metadata()
        if content in ("event", "formEventMapping"):
            if not p.events:
                what = "events" if content == "event" else "form-event mappings"
                raise Refused(400, f"You cannot export {what} for classic projects")
            return p.events if content == "event" else p.form_events
        if content == "repeatingFormsEvents":
            return p.repeating
        return self._records(form)

    def _records(self, form: dict[str, object]) -> list[dict[str, str]]:
        if form.get("type", "flat") != "flat" or form.get("rawOrLabel", "raw") != "raw":
            raise Refused(400, "This server answers type=flat and rawOrLabel=raw only")
        if self.fault == "error":
            raise Refused(400, "The 'records' export failed: the database is busy")
        wanted = form.get("records")
        rows = self.rows
        header = list(self.project.export.columns)
        id_field = header[0]
        if isinstance(wanted, list):
            known = {r[id_field] for r in rows}
            absent = [r for r in wanted if r not in known]
            if absent:
                raise Refused(400, f"The following records do not exist: {', '.join(absent)}")
            chosen = set(wanted)
            rows = [r for r in rows if r[id_field] in chosen]
        self.calls.append(("record", len(wanted) if isinstance(wanted, list) else 0))
        if self.numeric_instances:
            key = "redcap_repeat_instance"
            rows = [{**r, key: int(r[key])} if r.get(key) else r for r in rows]
        fields = form.get("fields")
        if isinstance(fields, list):
            names = [n for n in header if n in fields or n.startswith("redcap_")]
            unknown = [f for f in fields if f not in header]
            if unknown:
                raise Refused(
                    400,
                    f'The following values in the parameter "fields" are not valid: {unknown[0]}',
                )
            rows = [{n: r[n] for n in names} for r in rows]
        return rows


class _Handler(BaseHTTPRequestHandler):
    server: FakeRedcap
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def do_GET(self) -> None:
        self._send(405, {"error": "The REDCap API answers POST requests only"})

    def do_POST(self) -> None:
        server = self.server
        server.heads.append(f"{self.requestline}\n{self.headers}")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        try:
            if urllib.parse.urlsplit(self.path).query:
                raise Refused(400, "Parameters must be sent in the body of a POST request")
            if self.headers.get_content_type() != "application/x-www-form-urlencoded":
                raise Refused(400, "The request must be form-encoded")
            form = _form(body)
            if server.fault == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if server.fault == "redirect":
                self.send_response(302)
                self.send_header("Location", server.url.replace("/api/", "/elsewhere/"))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if server.fault == "slow":
                time.sleep(server.delay)
            if server.fault == "echo":
                raise Refused(400, f"Invalid token '{form.get('token')}' for this project")
            if server.fault == "echo_long":  # the token where a 300-character cut falls
                raise Refused(400, "x" * 270 + f" {form.get('token')} was not accepted")
            answer = server.answer(form)
        except Refused as refused:
            server.calls.append(("refused", refused.status))
            self._send(refused.status, {"error": str(refused)})
            return
        if server.fault == "garbled" and form.get("content") == "record":
            data = b"<html><body>Maintenance: REDCap is being upgraded</body></html>"
            self._raw(200, "text/html; charset=utf-8", data)
            return
        self._send(200, answer)

    def _send(self, status: int, payload: object) -> None:
        self._raw(status, "application/json; charset=utf-8", json.dumps(payload).encode())

    def _raw(self, status: int, kind: str, data: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (a timeout test)
            pass


def _form(body: str) -> dict[str, object]:
    """The form fields; ``name[n]`` fields become a list in index order from 0."""
    try:
        pairs = urllib.parse.parse_qsl(body, keep_blank_values=True, strict_parsing=bool(body))
    except ValueError:
        raise Refused(400, "The request body is not form-encoded") from None
    form: dict[str, object] = {}
    arrays: dict[str, dict[int, str]] = {}
    for key, value in pairs:
        name, bracket, rest = key.partition("[")
        if bracket:
            if name not in _ARRAYS or not rest.endswith("]") or not rest[:-1].isdigit():
                raise Refused(400, f"The parameter '{key}' is not a valid parameter")
            arrays.setdefault(name, {})[int(rest[:-1])] = value
        elif key in form:
            raise Refused(400, f"The parameter '{key}' was given twice")
        else:
            form[key] = value
    for name, items in arrays.items():
        if sorted(items) != list(range(len(items))):
            raise Refused(400, f"The parameter '{name}' is not a valid array")
        form[name] = [items[i] for i in range(len(items))]
    return form


@contextmanager
def serving(project: Project) -> Iterator[FakeRedcap]:
    """The server, answering in a thread until the block ends."""
    server = FakeRedcap(project)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def longitudinal_project(export: pd.DataFrame, dictionary: pd.DataFrame) -> Project:
    """The synthetic REDCap project (``imnm_cohort.synth_redcap``) with its events: a
    baseline event holding the baseline forms and the repeating instruments (malignancy,
    treatment, antibody_test), and follow-up events holding the visit form."""
    names = sorted(
        set(export["redcap_event_name"].dropna()), key=lambda e: (e != "baseline_arm_1", e)
    )
    forms = list(dict.fromkeys(dictionary["Form Name"]))
    events = [
        {
            "event_name": name.removesuffix("_arm_1").replace("_", " ").title(),
            "arm_num": "1",
            "unique_event_name": name,
            "custom_event_label": "",
            "event_id": str(40 + i),
            "days_offset": str(i * 180),
            "offset_min": "0",
            "offset_max": "0",
        }
        for i, name in enumerate(names)
    ]
    form_events = [
        {"arm_num": "1", "unique_event_name": name, "form": form}
        for name in names
        for form in forms
        if (form == "visit") != (name == "baseline_arm_1")
    ]
    instruments = export["redcap_repeat_instrument"].dropna().unique()
    repeating = [
        {"event_name": "baseline_arm_1", "form_name": form, "custom_form_label": ""}
        for form in sorted(instruments)
    ]
    return Project(export, dictionary, events=events, form_events=form_events, repeating=repeating)
