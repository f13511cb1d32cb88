"""The trainers' part of the console API: the review inbox, the export to training data, and model reload.

Trainers and supervisors may use it; agents get 403. `POST /api/model/reload` also takes the Rasa token as a
bearer token, so `make reload` can call it from the command line (whoever has that token can already replace
Rasa's model directly).
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from pathlib import Path
from typing import TypeVar

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from bot.api.console import check_same_origin_json, current_agent, json_body, signed_in, text_field
from bot.core.model_reload import confined_model
from bot.core.review_items import ReviewQuery
from bot.domain.errors import RequestRefused
from bot.domain.vocabulary import TEACHERS
from bot.training.nlu_export import domain_intents, export_labelled

logger = logging.getLogger(__name__)

T = TypeVar("T")

review_api = Blueprint("review_api")
DEFAULT_MODEL = Path("models") / "frontline.tar.gz"


@review_api.get("/api/review")
@signed_in(*TEACHERS)
async def inbox(request: Request) -> HTTPResponse:
    """One page of one status, newest first: `status`, `q` (words of the message), `reason`, `kind`, `intent` (the
    bot's guess or the label), `min_confidence` and `max_confidence` (0-1), `since` and `until` (UTC days),
    `offset`, `limit` (at most 100). A bad value is a 400 that names it; `total` counts every page."""
    query = ReviewQuery.parse(request.args)
    review = request.app.ctx.review
    await review.refresh()
    page = await review.search(query)
    intents = sorted(domain_intents(request.app.ctx.settings.project_dir / "domain.yml") - {"nlu_fallback"})
    return json_response(
        {
            "items": [i.to_json() for i in page.items],
            "total": page.total,
            "offset": query.offset,
            "limit": query.limit,
            "filters": query.filters(),
            "counts": await review.counts(),
            "intents": intents,
        }
    )


@review_api.post("/api/review/<item_id:int>/label")
@signed_in(*TEACHERS)
async def label(request: Request, item_id: int) -> HTTPResponse:
    """`{"intent": name}` for an intent item, `{"label": "needs_person" | "fine"}` for an escalation item (either key
    is taken for either kind; the inbox refuses a label of the wrong kind with 422)."""
    body = json_body(request)
    label = text_field(body, "label" if "label" in body else "intent", 64)
    item = await request.app.ctx.review.label(item_id, label, request.ctx.agent.id)
    logger.info("review item=%s labelled %s trainer=%s", item_id, label, request.ctx.agent.username)
    return json_response({"item": item.to_json()})


@review_api.post("/api/review/<item_id:int>/dismiss")
@signed_in(*TEACHERS)
async def dismiss(request: Request, item_id: int) -> HTTPResponse:
    item = await request.app.ctx.review.dismiss(item_id, request.ctx.agent.id)
    return json_response({"item": item.to_json()})


@review_api.post("/api/review/export")
@signed_in(*TEACHERS)
async def export(request: Request) -> HTTPResponse:
    labelled = await request.app.ctx.review.labelled()
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    result = export_labelled(request.app.ctx.settings.project_dir, labelled, request.ctx.agent.display_name, now)
    logger.info("review export examples=%d by=%s", result.examples, request.ctx.agent.username)
    return json_response({"export": result.to_json()})


@review_api.post("/api/model/reload")
async def reload_model(request: Request) -> HTTPResponse:
    """Start loading a trained model into Rasa; 202 at once, then `GET` says when it is live. `model_file`
    (relative to the project, or absolute) must be a `.tar.gz` inside the project's models/ directory."""
    await _trainer_or_token(request)
    project = request.app.ctx.settings.project_dir
    body = json_body(request) if request.body else {}
    requested = body.get("model_file") or str(DEFAULT_MODEL)
    if not isinstance(requested, str):
        raise RequestRefused(422, "bad_model_file", "model_file must be a path, as text.")
    model_file = confined_model(requested, project, project / "models")
    status = request.app.ctx.reloader.start(str(model_file))
    return json_response({"reload": status.to_json()}, status=202)


@review_api.get("/api/model/reload")
async def reload_status(request: Request) -> HTTPResponse:
    await _trainer_or_token(request)
    return json_response({"reload": request.app.ctx.reloader.status.to_json()})


async def _trainer_or_token(request: Request) -> None:
    """A trainer's or supervisor's session, or the Rasa token as a bearer token (the command line)."""
    bearer = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if bearer and hmac.compare_digest(bearer.encode(), request.app.ctx.settings.rasa_token.encode()):
        return
    if request.method not in {"GET", "HEAD"}:
        check_same_origin_json(request)
    agent = await current_agent(request)
    if agent is None:
        raise RequestRefused(401, "unauthenticated", "Log in as a trainer, or send the Rasa token as a bearer token.")
    if agent.role not in TEACHERS:
        raise RequestRefused(403, "forbidden", "Only trainers and supervisors reload the model.")
