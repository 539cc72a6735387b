"""The web console's routes, mounted by ``stepline serve`` beside the AWS wire protocol.

SDKs only ever ``POST /``; so ``GET /`` and ``/console/...`` serve the console while
``POST /`` stays the protocol. Pages are one static shell each (the page's name in
``data-page``); ``static/console.js`` fetches the page's data from ``/console/api/...``
and draws it, the graph laid out by the vendored elkjs. Every route checks the caller's
cookie (`engine._console.auth`); changes (start, stop, redrive) also need a key that may
write and the ``X-Stepline-Console`` header, which a cross-site form cannot send.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from html import escape
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from engine._api import Client
from engine._console import data
from engine._console.auth import COOKIE, SESSION_SECONDS, Caller, ConsoleAuth
from engine._errors import ClientError, ServiceUnavailable, StoreError
from engine._records import ExecutionQuery

Json = Any
STATIC = Path(str(files("engine._console") / "static"))
CSRF_HEADER = "x-stepline-console"
PAGES = ("machines", "machine", "executions", "execution", "validate")
MIN_SEARCH = 3
"""Shortest name search: shorter ones cannot use the trigram index (migration 0011)."""
STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")
Handler = Callable[[Request], Awaitable[Response]]


def console_routes(client: Client, auth: ConsoleAuth) -> list[BaseRoute]:
    """The console's routes over ``client``, with ``auth`` deciding who may do what."""
    console = _Console(client, auth)
    pages = [Route(f"/console/{page}", console.page(page)) for page in PAGES[1:]]
    return [
        Route("/", console.page("machines"), methods=["GET", "HEAD"]),
        Route("/console", console.page("machines")),
        Route("/console/", console.page("machines")),
        *pages,
        Route("/console/login", console.login_form, methods=["GET"]),
        Route("/console/login", console.log_in, methods=["POST"]),
        Route("/console/logout", console.log_out, methods=["POST"]),
        Route("/console/api/session", console.api(console.session)),
        Route("/console/api/machines", console.api(console.machines)),
        Route("/console/api/machine", console.api(console.machine)),
        Route("/console/api/executions", console.api(console.executions)),
        Route("/console/api/execution", console.api(console.execution)),
        Route("/console/api/validate", console.api(console.validate), methods=["POST"]),
        Route("/console/api/start", console.change(console.start), methods=["POST"]),
        Route("/console/api/stop", console.change(console.stop), methods=["POST"]),
        Route("/console/api/redrive", console.change(console.redrive), methods=["POST"]),
        Mount("/console/static", StaticFiles(directory=STATIC), name="console-static"),
    ]


class _Console:
    def __init__(self, client: Client, auth: ConsoleAuth) -> None:
        self.client = client
        self.auth = auth

    def _caller(self, request: Request) -> Caller | None:
        return self.auth.caller(request.cookies.get(COOKIE))

    # --- pages ---------------------------------------------------------------------------

    def page(self, name: str) -> Handler:
        async def answer(request: Request) -> Response:
            if self._caller(request) is None:
                target = quote(str(request.url.path) + "?" + str(request.url.query), safe="")
                return RedirectResponse(f"/console/login?next={target}", status_code=303)
            return HTMLResponse(_shell(name))

        return answer

    async def login_form(self, request: Request) -> Response:
        return HTMLResponse(_login_page(request.query_params.get("next", "/console/"), ""))

    async def log_in(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        target = form.get("next", "/console/")
        target = target if target.startswith("/") and not target.startswith("//") else "/"
        cookie = self.auth.log_in(form.get("key_id", ""), form.get("secret", ""))
        if cookie is None:
            page = _login_page(target, "That access key id and secret do not match a key.")
            return HTMLResponse(page, status_code=401)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE, cookie, max_age=SESSION_SECONDS, httponly=True, samesite="strict"
        )
        return response

    async def log_out(self, request: Request) -> Response:
        response = RedirectResponse("/console/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    # --- JSON ------------------------------------------------------------------------

    def api(self, work: Callable[[Request, Caller], Json]) -> Handler:
        async def answer(request: Request) -> Response:
            caller = self._caller(request)
            if caller is None:
                return _error(401, "NotLoggedIn", "Log in at /console/login first")
            return await _run(work, request, caller)

        return answer

    def change(self, work: Callable[[Request, Caller], Json]) -> Handler:
        async def answer(request: Request) -> Response:
            caller = self._caller(request)
            if caller is None:
                return _error(401, "NotLoggedIn", "Log in at /console/login first")
            if request.headers.get(CSRF_HEADER) != "1":
                return _error(403, "Forbidden", f"expected the {CSRF_HEADER}: 1 header")
            if not caller.can_write:
                return _error(403, "AccessDeniedException", f"the key {caller.key_id} is read-only")
            return await _run(work, request, caller)

        return answer

    def session(self, request: Request, caller: Caller) -> Json:
        return {
            "user": caller.key_id,
            "canWrite": caller.can_write,
            "authenticated": self.auth.required,
            "statuses": list(STATUSES),
        }

    def machines(self, request: Request, caller: Caller) -> Json:
        return data.machines(self.client, request.query_params.get("token") or None)

    def machine(self, request: Request, caller: Caller) -> Json:
        return data.machine(self.client, _required(request, "arn"))

    def executions(self, request: Request, caller: Caller) -> Json:
        params = request.query_params
        status = params.get("status") or None
        if status is not None and status not in STATUSES:
            raise ValueError(f"status: expected one of {', '.join(STATUSES)}, got {status!r}")
        name = (params.get("q") or "").strip() or None
        if name is not None and len(name) < MIN_SEARCH:
            raise ValueError(
                f"q: expected at least {MIN_SEARCH} characters of an execution name "
                f"(a trigram index answers the search), got {name!r}"
            )
        query = ExecutionQuery(machine_arn=params.get("machine") or None, status=status, name=name)
        return data.executions(self.client, query, params.get("token") or None)

    def execution(self, request: Request, caller: Caller) -> Json:
        return data.execution(self.client, _required(request, "arn"))

    def validate(self, request: Request, caller: Caller) -> Json:
        body = request.state.body
        return data.validation(
            self.client, str(body.get("definition", "")), str(body.get("type", "STANDARD"))
        )

    def start(self, request: Request, caller: Caller) -> Json:
        body = request.state.body
        fields = {"name": body["name"]} if body.get("name") else {}
        return self.client.start_execution(
            stateMachineArn=str(body.get("stateMachineArn", "")),
            input=str(body.get("input") or "{}"),
            **fields,
        )

    def stop(self, request: Request, caller: Caller) -> Json:
        body = request.state.body
        return self.client.stop_execution(
            executionArn=str(body.get("executionArn", "")),
            error="Console.Stopped",
            cause=f"Stopped from the console by {caller.key_id}",
        )

    def redrive(self, request: Request, caller: Caller) -> Json:
        body = request.state.body
        return self.client.redrive_execution(executionArn=str(body.get("executionArn", "")))


async def _run(
    work: Callable[[Request, Caller], Json], request: Request, caller: Caller
) -> Response:
    """Run ``work`` in the thread pool (the client blocks on SQL); refusals as JSON errors."""
    if request.method == "POST":
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return _error(400, "SerializationException", "expected a JSON object as the body")
        if not isinstance(body, dict):
            return _error(400, "SerializationException", "expected a JSON object as the body")
        request.state.body = body
    try:
        result = await run_in_threadpool(work, request, caller)
    except ServiceUnavailable as error:
        return _error(503, "ServiceUnavailable", str(error))
    except StoreError as error:
        return _error(503, "ServiceUnavailable", str(error))
    except ClientError as error:
        details = error.response.get("Error", {})
        return _error(400, details.get("Code", type(error).__name__), details.get("Message", ""))
    except ValueError as error:
        return _error(400, "ValidationException", str(error))
    text = json.dumps(result, default=data.json_default)
    return Response(text, media_type="application/json", headers={"cache-control": "no-store"})


def _required(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        raise ValueError(f"query parameter {name!r}: expected an ARN, got nothing")
    return value


def _error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def _shell(page: str) -> str:
    return _SHELL.replace("{page}", page)


def _login_page(target: str, problem: str) -> str:
    notice = f'<p class="notice error">{escape(problem)}</p>' if problem else ""
    return _LOGIN.replace("{next}", escape(target, quote=True)).replace("{notice}", notice)


_SHELL = (STATIC / "shell.html").read_text(encoding="utf-8")
_LOGIN = (STATIC / "login.html").read_text(encoding="utf-8")
