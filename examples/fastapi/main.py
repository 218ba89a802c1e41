"""A FastAPI app for a daemon group with interface=asgi (see the README's "ASGI apps")."""
import contextlib
import os

from fastapi import FastAPI, Request


@contextlib.asynccontextmanager
async def lifespan(app):
    # Runs once per daemon process, before its first request; the dict is every request's state.
    yield {"greeting": "hello", "started_in": os.getpid()}


application = FastAPI(lifespan=lifespan)


@application.get("/items/{item_id}")
async def item(item_id: int, request: Request):
    return {"item_id": item_id, "greeting": request.state.greeting, "started_in": request.state.started_in}
