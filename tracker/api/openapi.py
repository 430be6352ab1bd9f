"""The OpenAPI 3.1 description of /api/v1, written by hand; tests check it lists every route."""
from __future__ import annotations

from tracker.rag import Rag, Status


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json(_ref("Error"), description)


def _id(name: str, what: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": f"The {what}'s id.",
            "schema": {"type": "integer", "minimum": 0}}


COMMON_ERRORS = {
    "401": _error("No token, or a token that is unknown, revoked or belongs to a disabled account."),
}
NOT_FOUND = {"404": _error("No such record (an id beyond the database's range included), or it belongs to a "
                           "partnership you are not in.")}

NULLABLE_STRING = {"type": ["string", "null"]}
#: The longest narrative (tracker.plans.services.NARRATIVE_MAX, checked there for every door).
MAX_NARRATIVE = 20_000

SCHEMAS = {
    "Error": {"type": "object", "required": ["error"],
              "properties": {"error": {"type": "string"},
                             "field": {"type": "string", "description": "The field the refusal is about."}}},
    "Person": {
        "type": ["object", "null"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "job_title": NULLABLE_STRING,
                       "email": NULLABLE_STRING},
    },
    "Plan": {
        "type": "object",
        "required": ["id", "name", "kind", "partnership", "framework"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "kind": {"type": "string", "enum": ["action_plan", "delivery_plan"]},
            "description": NULLABLE_STRING,
            "partnership": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
            "framework": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
            "manager": _ref("Person"),
            "created_at": {"type": "string", "format": "date-time"},
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    "Action": {
        "type": "object",
        "required": ["id", "plan_id", "ref", "text", "status", "rag", "version"],
        "properties": {
            "id": {"type": "integer"},
            "plan_id": {"type": "integer"},
            "ref": {"type": "string"},
            "text": {"type": "string"},
            "status": {"type": "string", "enum": [s.value for s in Status]},
            "status_label": {"type": "string"},
            "rag": {
                "type": "object",
                "description": "Red, amber, green or blue, with the reason (the same rules as the pages).",
                "properties": {
                    "colour": {"type": "string", "enum": [r.value for r in Rag]},
                    "reason": {"type": "string"},
                    "text": {"type": "string", "examples": ["Red: 47 days past due 31 March 2023"]},
                    "days_overdue": {"type": "integer"},
                },
            },
            "timescale": {
                "type": "object",
                "properties": {"text": {"type": "string"}, "kind": {"type": "string"},
                               "start": {"type": ["string", "null"], "format": "date"},
                               "end": {"type": ["string", "null"], "format": "date"}},
            },
            "lead": _ref("Person"),
            "lead_text": NULLABLE_STRING,
            "organisations": {"type": "array", "items": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"type": "string"}}}},
            "items": {"type": "array", "description": "The framework items (proposals) the action answers.",
                      "items": {"type": "object", "properties": {
                          "id": {"type": "integer"}, "number": {"type": "string"}, "title": {"type": "string"}}}},
            "superseded_by_id": {"type": ["integer", "null"]},
            "last_update_at": {"type": ["string", "null"], "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "version": {"type": "integer", "description": "Send it back with a progress update."},
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    "ProgressUpdate": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "action_id": {"type": "integer"},
            "created_at": {"type": "string", "format": "date-time"},
            "author": _ref("Person"),
            "status": {"type": "string", "enum": [s.value for s in Status]},
            "narrative": {"type": "string", "description": "As its author last corrected it."},
            "corrected": {"type": "boolean", "description": "Whether its author corrected the narrative."},
            "corrected_at": {"type": ["string", "null"], "format": "date-time"},
            "original_narrative": {**NULLABLE_STRING, "description": "The narrative as first saved, when corrected."},
            "revised_timescale": NULLABLE_STRING,
            "revised_due_end": {"type": ["string", "null"], "format": "date"},
            "revision_reason": NULLABLE_STRING,
        },
    },
    "NewProgressUpdate": {
        "type": "object",
        "description": "Only a plan manager marks an action superseded, naming the replacing action in "
                       "superseded_by_id (an action of a current plan of the same partnership), or sending "
                       "no_longer_needed true instead. On an action past its due date, "
                       "on_track and not_started need a revised_timescale still to come (with its reason). "
                       "The same update sent again by its author within 30 minutes is refused with 409.",
        "required": ["status", "narrative", "version"],
        "additionalProperties": False,
        "dependentRequired": {"revised_timescale": ["revision_reason"]},
        "if": {"properties": {"status": {"const": "superseded"}}, "required": ["status"]},
        "then": {"anyOf": [{"required": ["superseded_by_id"]},
                           {"required": ["no_longer_needed"], "properties": {"no_longer_needed": {"const": True}}}]},
        "properties": {
            "status": {"type": "string", "enum": [s.value for s in Status]},
            "superseded_by_id": {"type": "integer", "minimum": 1,
                                 "description": "With status superseded: the action that replaces this one."},
            "no_longer_needed": {"type": "boolean",
                                 "description": "With status superseded and no superseded_by_id: the action is "
                                                "no longer needed, and nothing replaces it."},
            "narrative": {"type": "string", "minLength": 1, "maxLength": MAX_NARRATIVE,
                          "pattern": "\\S", "description": "What has happened since the last update. Line "
                          "endings are normalised to LF; control characters other than tab and newline are "
                          "refused."},
            "revised_timescale": {"type": "string", "maxLength": 200, "pattern": "\\S",
                                  "description": "Only if the date moves; it must be a date or period we can "
                                                 "read, between 1990 and 2100.",
                                  "examples": ["March 2025", "Q3 2024/25", "2025-03-31"]},
            "revision_reason": {"type": "string", "minLength": 1, "maxLength": 2000,
                                "description": "Required when revised_timescale is given."},
            "version": {"type": "integer", "minimum": 1, "description": "The action's version when you read it."},
        },
    },
    "UpdateCorrection": {
        "type": "object",
        "description": "The corrected narrative of your own latest update, within 24 hours of saving it.",
        "required": ["narrative"],
        "additionalProperties": False,
        "properties": {
            "narrative": {"type": "string", "minLength": 1, "maxLength": MAX_NARRATIVE, "pattern": "\\S"},
        },
    },
}


def _list_of(name: str) -> dict:
    return {"type": "object", "properties": {"items": {"type": "array", "items": _ref(name)}}}


PATHS = {
    "/api/v1/openapi.json": {
        "get": {"summary": "This document", "operationId": "openapi", "security": [],
                "responses": {"200": {"description": "The OpenAPI document.",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}}},
    },
    "/api/v1/plans": {
        "get": {"summary": "The plans you can see", "operationId": "listPlans",
                "responses": {"200": _json(_list_of("Plan"), "Plans, by name."), **COMMON_ERRORS}},
    },
    "/api/v1/plans/{plan_id}": {
        "get": {"summary": "One plan", "operationId": "getPlan", "parameters": [_id("plan_id", "plan")],
                "responses": {"200": _json(_ref("Plan"), "The plan."), **COMMON_ERRORS, **NOT_FOUND}},
    },
    "/api/v1/plans/{plan_id}/actions": {
        "get": {
            "summary": "A plan's actions, a page at a time, optionally filtered",
            "operationId": "listPlanActions",
            "parameters": [
                _id("plan_id", "plan"),
                {"name": "status", "in": "query", "description": "Comma-separated statuses.",
                 "schema": {"type": "string"}, "examples": {"open": {"value": "not_started,on_track,at_risk"}}},
                {"name": "rag", "in": "query", "description": "Comma-separated RAG colours.",
                 "schema": {"type": "string"}, "examples": {"red": {"value": "red"}}},
                {"name": "overdue", "in": "query", "description": "Only actions past their due date (true) "
                 "or not (false).", "schema": {"type": "boolean"}},
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                {"name": "per_page", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}},
            ],
            "responses": {
                "200": _json({"type": "object", "properties": {
                    "items": {"type": "array", "items": _ref("Action")},
                    "page": {"type": "integer"}, "per_page": {"type": "integer"},
                    "total": {"type": "integer"}, "pages": {"type": "integer"},
                    "links": {"type": "object", "properties": {"next": NULLABLE_STRING, "prev": NULLABLE_STRING}},
                }}, "A page of actions, in the order they were created."),
                "400": _error("An unknown filter value or a bad page number."),
                **COMMON_ERRORS, **NOT_FOUND,
            },
        },
    },
    "/api/v1/actions/{action_id}": {
        "get": {"summary": "One action, with its RAG and reason", "operationId": "getAction",
                "parameters": [_id("action_id", "action")],
                "responses": {"200": _json(_ref("Action"), "The action."), **COMMON_ERRORS, **NOT_FOUND}},
    },
    "/api/v1/actions/{action_id}/updates": {
        "get": {"summary": "An action's progress updates, oldest first", "operationId": "listUpdates",
                "parameters": [_id("action_id", "action")],
                "responses": {"200": _json(_list_of("ProgressUpdate"), "The history."),
                              **COMMON_ERRORS, **NOT_FOUND}},
        "post": {
            "summary": "Record a progress update",
            "description": "Lead officers update the actions they lead; plan managers any action in their "
                           "partnership. Send the version you read: a stale version is refused with 409.",
            "operationId": "addUpdate",
            "parameters": [_id("action_id", "action")],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewProgressUpdate")}}},
            "responses": {
                "201": _json({"type": "object", "properties": {"update": _ref("ProgressUpdate"),
                                                               "action": _ref("Action")}},
                             "Recorded; the action as it now stands."),
                "400": _error("A missing or wrong field; the message says which."),
                **COMMON_ERRORS,
                "403": _error("You can see this action but may not update it."),
                **NOT_FOUND,
                "409": _json({"allOf": [_ref("Error"), {"type": "object", "properties": {
                    "current_version": {"type": "integer"}}}]}, "The action changed since you read it."),
            },
        },
    },
    "/api/v1/updates/{update_id}": {
        "patch": {
            "summary": "Correct the narrative of your own latest update",
            "description": "Only its author, only the action's latest update, within 24 hours of saving it. "
                           "The original stays in the history; pages, e-mails and workbooks show the correction.",
            "operationId": "correctUpdate",
            "parameters": [_id("update_id", "progress update")],
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": _ref("UpdateCorrection")}}},
            "responses": {
                "200": _json(_ref("ProgressUpdate"), "Corrected: the update as it now reads."),
                "400": _error("A missing or wrong field, or the same text as saved; the message says which."),
                **COMMON_ERRORS,
                "403": _error("Not your update, not the latest, or more than 24 hours old."),
                **NOT_FOUND,
            },
        },
    },
}


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Improvement action tracker API",
            "version": "1",
            "description": "Plans, actions and progress updates, with the same permissions as the web pages. "
                           "Create a token on the 'API tokens' page and send it as 'Authorization: Bearer <token>'.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": PATHS,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
    }


def _feature_parts() -> None:
    """Features' endpoints on the API blueprint add their paths and schemas here."""
    from tracker.risks.openapi import openapi_parts

    paths, schemas = openapi_parts(_ref, _json, _error, _id, COMMON_ERRORS, NOT_FOUND)
    PATHS.update(paths)
    SCHEMAS.update(schemas)
    from tracker.scrutiny.openapi import openapi_parts as audit_parts

    paths, schemas = audit_parts(_ref, _json, _error, _id, COMMON_ERRORS, NOT_FOUND)
    PATHS.update(paths)
    SCHEMAS.update(schemas)


_feature_parts()
