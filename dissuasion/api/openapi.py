"""The OpenAPI 3.0 document of /api/v1, published at /api/v1/openapi.json (SPEC "Fixed points")."""
from __future__ import annotations

from flask import jsonify

from ..core import enums as e
from ..imports.models import COUNTERS
from .routes import bp


def _enum(cls, nullable: bool = False) -> dict:
    return {"type": "string", "enum": [m.value for m in cls], **({"nullable": True} if nullable else {})}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict, required: tuple = ()) -> dict:
    return {"type": "object", "properties": properties, **({"required": list(required)} if required else {})}


STR, INT, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
TIME = {"type": "string", "format": "date-time", "nullable": True, "description": "ISO 8601, Asia/Shanghai (+08:00)"}
MONEY = {"type": "string", "pattern": r"^\d+\.\d{2}$", "nullable": True, "description": "yuan, two decimals"}
NSTR = {"type": "string", "nullable": True}

_WATCH_MET_BY = {"type": "string", "enum": ["officer", "cadre", "both"]}
_WATCH_METHOD = {"type": "string", "enum": ["visit", "phone", "video"]}
_WATCH_FLAG = {"type": "string", "enum": ["new_number", "lost", "left_country", "fraud_again"],
               "description": "lost and left_country tell the precinct's leads and the center at once"}

SCHEMAS = {
    "Error": _obj({"error": _obj({"code": {**STR, "description": "invalid, unauthorized, forbidden, not_found, "
                                           "stale, conflict, refused, too_large, busy"},
                                  "message": STR, "fields": {"type": "object", "additionalProperties": STR}},
                                 ("code", "message", "fields"))}, ("error",)),
    "FollowUp": _obj({"id": INT, "kind": _enum(e.FollowUpKind), "method": _enum(e.Method), "due_at": TIME,
                      "status": _enum(e.FollowUpStatus), "note": STR, "done_at": TIME}),
    "Case": _obj({
        "id": INT, "status": _enum(e.CaseStatus), "tier": _enum(e.Tier), "method": _enum(e.Method),
        "precinct": {**NSTR, "description": "precinct code; null in the center's routing queue"},
        "community": NSTR,
        "assignee": {**_obj({"id": INT, "username": STR, "name": STR}), "nullable": True},
        "person": _obj({"name": STR, "id_number_masked": STR, "phone_masked": STR, "away_from_home": BOOL}),
        "sign_deadline": TIME, "contact_deadline": TIME, "due_at": TIME, "overdue": BOOL, "is_repeat": BOOL,
        "flags": {"type": "array", "items": STR}, "signed_at": TIME, "first_attempt_at": TIME, "first_reached_at": TIME,
        "outcome": _enum(e.Outcome, nullable=True), "amount_dissuaded": MONEY, "amount_defrauded": MONEY,
        "closed_at": TIME, "watch_until": TIME, "created_at": TIME,
        "followups": {"type": "array", "items": _ref("FollowUp")}, "version": INT},
        ("id", "status", "tier", "method", "precinct", "assignee", "person", "sign_deadline", "contact_deadline",
         "overdue", "outcome", "followups", "version")),
    "Contact": _obj({"id": INT, "method": _enum(e.Method), "reached": _enum(e.Reached),
                     "relative": {**_obj({"relation": STR, "phone_masked": STR}), "nullable": True},
                     "failure_reason": _enum(e.FailureReason, nullable=True), "contacted_at": TIME,
                     "outcome": _enum(e.Outcome, nullable=True), "amount_dissuaded": MONEY, "amount_defrauded": MONEY,
                     "defrauded_at": TIME, "fraud_type": _enum(e.FraudType, nullable=True),
                     "app": _enum(e.AppStatus, nullable=True), "note": STR, "officer": NSTR}),
    "Warning": _obj({"warning_id": STR, "pushed_at": TIME, "tier": _enum(e.Tier), "reason": STR,
                     "fraud_type": _enum(e.FraudType), "fraud_type_text": STR, "amount_at_risk": MONEY,
                     "precinct": STR, "community": STR, "away_from_home": BOOL, "notes": STR,
                     "flags": {"type": "array", "items": STR}}),
    "CaseDetail": {"allOf": [_ref("Case"), _obj({"contacts": {"type": "array", "items": _ref("Contact")},
                                                 "warnings": {"type": "array", "items": _ref("Warning")}})]},
    "CaseList": _obj({"items": {"type": "array", "items": _ref("Case")}, "total": INT, "page": INT,
                      "per_page": INT}, ("items", "total", "page", "per_page")),
    "ContactInput": _obj({
        "method": _enum(e.Method), "reached": _enum(e.Reached),
        "relative": _obj({"relation": STR, "phone": STR}),
        "failure_reason": _enum(e.FailureReason, nullable=True), "contacted_at": {**TIME, "description":
                                                                                "ISO 8601; default now"},
        "outcome": _enum(e.Outcome, nullable=True), "amount_dissuaded": MONEY, "amount_defrauded": MONEY,
        "defrauded_at": TIME, "fraud_type": _enum(e.FraudType, nullable=True), "app": _enum(e.AppStatus, nullable=True),
        "note": STR, "version": {**INT, "description": "the case's version as read; stale: 409"},
        "close": {**BOOL, "description": "true: 办结 with this contact's outcome"}},
        ("method", "reached", "version")),
    "CloseInput": _obj({"outcome": _enum(e.Outcome), "reason": STR, "version": INT}, ("outcome", "version")),
    "PushRow": _obj({"warning_id": STR, "pushed_at": STR, "name": STR, "sex": STR, "id_number": STR, "phone": STR,
                     "tier": _enum(e.Tier), "reason": STR, "fraud_type": STR, "amount_at_risk": STR,
                     "registered_address": STR, "current_address": STR, "precinct": STR, "community": STR,
                     "away_from_home": STR, "notes": STR}, ("warning_id", "tier"))
               | {"additionalProperties": False,
                  "description": "a field not named here refuses the push (a misspelt field would be lost)"},
    "PushSummary": _obj({"status": {"type": "string", "enum": ["committed", "duplicate_file"]}, "message": STR,
                         **dict.fromkeys(COUNTERS, INT), "push_id": INT,
                         "errors": {"type": "array", "items": _obj({"row": INT, "column": STR, "code": STR,
                                                                    "message": STR})}}),
    "PushJob": _obj({
        "job_id": INT, "state": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
        "status_url": STR, "attempts": INT,
        "progress": _obj({"stage": {"type": "string", "description": "read, judge, write, persons, cases, warnings"},
                          "done": INT, "total": {**INT, "description": "rows; bytes of the file while reading it"}}),
        "result": {**_ref("PushSummary"), "nullable": True, "description": "SPEC's summary, once done"},
        "error": {**_obj({"code": {"type": "string", "enum": ["refused", "interrupted", "error"],
                                   "description": "refused: the file or rows say what to fix (the same again fails "
                                                  "the same way); interrupted: its runs were cut short (workers "
                                                  "stopped, the database gone) several times: the same push again "
                                                  "may well succeed; error: every run failed on an error of the "
                                                  "server's (its logs say which): tell its administrators"},
                          "message": STR}), "nullable": True,
                  "description": "failed: nothing was written; the message (Chinese) says what to fix"}}),
    "WarningInput": _obj({
        "source": {"type": "string", "enum": [m.value for m in e.WarningSource.hand_entry()],
                   "description": "银行阻截 bank, 96110 hotline_96110, 110 police_110, 亲友报告 relative, "
                                  "本人来所 walk_in, 其他 other"},
        "reported_by": {**STR, "description": "who reported it and how to reach them (bank branch and teller, "
                                              "caller number)"},
        "reported_at": {**STR, "description": "ISO 8601 or 2026-11-16 09:30 (Asia/Shanghai without an offset); "
                                              "default now; the case's deadlines start here"},
        "name": STR, "id_number": {**STR, "description": "18 digits, GB 11643 check digit; invalid: 422"},
        "phone": STR, "address": STR, "tier": {**_enum(e.Tier), "description": "or 特高危/高/中/低"},
        "fraud_type": {**STR, "description": "a fraud_type key or its Chinese name; unknown: other, text kept; "
                                             "left out: other, text 未确定"},
        "reason": STR, "amount_at_risk": {**STR, "description": "yuan, e.g. 50000 or 50000.00"},
        "away_from_home": {"oneOf": [BOOL, STR]},
        "precinct_code": {**STR, "description": "center: the precinct (none: the routing queue); lead: own only"},
        "community": {**STR, "description": "a community of that precinct (optional)"}},
        ("source", "tier")),
    "WarningEntered": _obj({"warning_number": {**STR, "description": "SD-<precinct code or ZX>-<yyyymmdd>-<nnnn>"},
                            "case_id": {**INT, "nullable": True,
                                        "description": "null when the case is not in the caller's lists (the "
                                                       "person's open case in another precinct)"},
                            "attached": {**BOOL, "description": "joined the person's open case"}},
                           ("warning_number", "case_id", "attached")),
    "WeeklyReport": {"type": "object", "description": "the weekly report, as `report weekly --format json`; "
                     "`prevention` holds the publicity work (current, previous, by_precinct)"},
    "Activity": _obj({"id": INT, "kind": _enum(e.ActivityKind), "held_on": {"type": "string", "format": "date"},
                      "precinct": STR, "community": NSTR, "place": STR, "participants": STR,
                      **{c.value: {**INT, "minimum": 0, "maximum": c.maximum} for c in e.ActivityCount},
                      "note": STR, "created_by": NSTR, "created_at": TIME}),
    "ActivityInput": _obj({"kind": _enum(e.ActivityKind), "held_on": {"type": "string", "format": "date",
                                                                      "description": "not in the future"},
                           "community": {**STR, "description": "a community of the precinct's directory"},
                           "place": {**STR, "description": "required when no community is given"},
                           "participants": STR,
                           **{c.value: {**INT, "minimum": 0, "maximum": c.maximum,
                                        "description": "only for the types that record it"}
                              for c in e.ActivityCount},
                           "note": STR}, ("kind", "held_on")),
    "ActivityList": _obj({"items": {"type": "array", "items": _ref("Activity")}, "total": INT}),
    "WatchEntry": _obj({
        "id": INT, "kind": STR, "status": {"type": "string", "enum": ["active", "ended"]},
        "person": _obj({"name": STR, "id_number_masked": STR, "phone_masked": STR}), "precinct": STR,
        "community": NSTR, "officer": _obj({"id": INT, "username": STR, "name": STR}),
        "cadre": _obj({"name": STR, "phone": STR}), "interval_days": INT, "starts_on": STR, "ends_on": NSTR,
        "next_due_at": TIME, "overdue": BOOL, "last_met_at": TIME, "case_id": {**INT, "nullable": True},
        "meetings": {"type": "array", "items": _ref("WatchMeeting"), "description": "GET /watch/{id} only"}},
        ("id", "kind", "status", "person", "precinct", "officer", "cadre", "next_due_at", "overdue")),
    "WatchMeeting": _obj({"id": INT, "met_at": TIME, "met_by": _WATCH_MET_BY, "method": _WATCH_METHOD,
                          "place": STR, "observed": STR, "flags": {"type": "array", "items": _WATCH_FLAG},
                          "due_at": TIME, "on_time": BOOL, "recorded_by": NSTR}),
    "MeetingInput": _obj({"met_at": {**TIME, "nullable": False}, "met_by": _WATCH_MET_BY, "method": _WATCH_METHOD,
                          "place": STR, "observed": STR, "flags": {"type": "array", "items": _WATCH_FLAG}},
                         ("met_at", "met_by", "method")),
    "Assessment": {"type": "object", "description": "the month's 考评: weights, indicators with their definitions, "
                   "and rows per community and per precinct (values, parts 0-100, score, rank)"},
    "Feedback": _obj({"from": STR, "to": STR, "items": {"type": "array", "items": {"type": "object"}}}),
}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _errors(*statuses: int) -> dict:
    words = {400: "invalid input", 401: "no valid token", 403: "not for this role", 404: "no such case in reach",
             409: "stale version or refused by the case's state", 413: "body too large",
             422: "a field is wrong: error.fields says what to fix in each, in Chinese",
             503: "busy: a push is writing what this request needs (PostgreSQL); nothing was saved, send it again "
                  "after Retry-After seconds"}
    return {str(s): {"description": words[s], "content": _json(_ref("Error"))} for s in statuses}


def _op(summary: str, ok: int, schema: dict, *errors: int, body: dict | None = None, params=()) -> dict:
    op = {"summary": summary, "parameters": list(params),
          "responses": {str(ok): {"description": "OK", "content": _json(schema)}, **_errors(401, *errors)}}
    if body:
        op["requestBody"] = {"required": True, "content": body}
    return op


def _query(name: str, schema: dict, description: str = "") -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


CASE_ID = {"name": "case_id", "in": "path", "required": True, "schema": INT}
ENTRY_ID = {"name": "entry_id", "in": "path", "required": True, "schema": INT}

DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "预警劝阻 API", "version": "1",
             "description": "Cases scoped like the pages; every time in +08:00; numbers masked."},
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                  "description": "flask --app app api-token create NAME"}},
                   "schemas": SCHEMAS},
    "paths": {
        "/cases": {"get": _op("The worklist (open cases unless a status is given), overdue first", 200,
                              _ref("CaseList"), 400, 403, params=[
                                  _query("status", _enum(e.CaseStatus)), _query("tier", _enum(e.Tier)),
                                  _query("overdue", {"type": "string", "enum": ["true", "false"]}),
                                  _query("assignee", {"type": "string", "enum": ["me"]}),
                                  _query("page", INT), _query("per_page", {**INT, "maximum": 100})])},
        "/cases/{case_id}": {"get": _op("One case with contacts, follow-ups and warnings", 200, _ref("CaseDetail"),
                                        403, 404, 409, params=[CASE_ID])},
        "/cases/{case_id}/sign": {"post": _op("签收 (sign for)", 200, _ref("Case"), 403, 404, 409, 503,
                                              params=[CASE_ID])},
        "/cases/{case_id}/contacts": {"post": _op(
            "Log a contact", 201, _obj({"contact": _ref("Contact"), "case": _ref("CaseDetail")}), 400, 403, 404, 409,
            503, body=_json(_ref("ContactInput")), params=[CASE_ID])},
        "/cases/{case_id}/close": {"post": _op("办结 (close) with an outcome", 200, _ref("CaseDetail"), 400, 403,
                                               404, 409, 503, body=_json(_ref("CloseInput")), params=[CASE_ID])},
        "/pushes": {"post": {**_op("Push a warning list (center tokens): 201 committed, 200 duplicate_file", 201,
                                   _ref("PushSummary"), 400, 403, 413, 503, body={
                                       "multipart/form-data": {"schema": _obj({"file": {"type": "string",
                                                                                        "format": "binary"}})},
                                       "application/json": {"schema": {"oneOf": [
                                           _obj({"rows": {"type": "array", "items": _ref("PushRow")}}, ("rows",)),
                                           {"type": "array", "items": _ref("PushRow")}]}}},
                                   params=[{"name": "Prefer", "in": "header", "required": False, "schema": STR,
                                            "description": "respond-async: commit it as a job (202) whatever its "
                                                           "size"}]),
                             "description": "A push of more than IMPORT_ASYNC_ROWS rows (5,000) or a body over "
                                            "IMPORT_ASYNC_BYTES (1 MiB), or sent with Prefer: respond-async, is "
                                            "committed by a worker: 202, Location: its status URL.",
                             }},
        "/pushes/jobs/{job_id}": {"get": _op("A push committed by a worker: state, progress, the summary once done",
                                             200, _ref("PushJob"), 403, 404, params=[
                                                 {"name": "job_id", "in": "path", "required": True,
                                                  "schema": INT}])},
        "/warnings": {"post": _op("录入预警: a warning entered by hand (center, lead); the same rules as a pushed row",
                                  201, _ref("WarningEntered"), 400, 403, 422, 503,
                                  body=_json(_ref("WarningInput")))},
        "/reports/weekly": {"get": _op("The weekly report (center: any precinct or the county; lead: own)", 200,
                                       _ref("WeeklyReport"), 400, 404, params=[
                                           _query("week", STR, "2026-W47; default the last full week"),
                                           _query("precinct", STR, "precinct code; none: the county")])},
        "/feedback": {"get": _op("Feedback to the center, one item per warning pushed in the period", 200,
                                 _ref("Feedback"), 400, 403, params=[_query("from", STR, "2026-11-16"),
                                                                     _query("to", STR, "2026-11-22")])},
        "/activities": {
            "get": _op("Publicity work (宣传工作) in reach, newest day first", 200, _ref("ActivityList"), 400, 403,
                       params=[_query("kind", _enum(e.ActivityKind)), _query("from", STR, "2026-11-16"),
                               _query("to", STR, "2026-11-22"), _query("precinct", STR, "precinct code")]),
            "post": _op("Record publicity work for the token user's precinct (officer, lead)", 201, _ref("Activity"),
                        400, 403, 422, body=_json(_ref("ActivityInput")))},
        "/watch": {"get": _op("The watch register (台账) within reach, one item per entry", 200,
                              _obj({"items": {"type": "array", "items": _ref("WatchEntry")}, "total": INT}), 400,
                              403, params=[_query("precinct_id", INT), _query("community_id", INT),
                                           _query("kind_id", INT),
                                           _query("status", {"type": "string", "enum": ["active", "ended", "all"]}),
                                           _query("overdue", {"type": "string", "enum": ["true", "false"]})])},
        "/watch/{entry_id}": {"get": _op("One watch entry with its meetings", 200, _ref("WatchEntry"), 403, 404,
                                         params=[ENTRY_ID])},
        "/watch/{entry_id}/meetings": {"post": _op(
            "Record a meeting with a watched person", 201,
            _obj({"meeting": _ref("WatchMeeting"), "entry": _ref("WatchEntry")}), 400, 403, 404,
            body=_json(_ref("MeetingInput")), params=[ENTRY_ID])},
        "/assessment": {"get": _op("The month's 考评 table (center: county; lead: own precinct's rows)", 200,
                                   _ref("Assessment"), 400, 403, params=[_query("month", STR,
                                                                                "2026-11; default last month")])},
        "/openapi.json": {"get": {"summary": "This document", "security": [],
                                  "responses": {"200": {"description": "OK", "content": _json({"type": "object"})}}}},
    },
}

DOCUMENT["paths"]["/pushes"]["post"]["responses"]["202"] = {
    "description": "Accepted: committed by a worker; poll the URL in Location (and status_url)",
    "headers": {"Location": {"schema": STR}}, "content": _json(_ref("PushJob"))}


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document; public, like any API's description."""
    return jsonify(DOCUMENT)
