"""A Starlette app with WebSocket routes for the WebSocket tests (swsgi and uvicorn alike)."""
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import WebSocketRoute


async def chat(websocket):
    await websocket.accept(subprotocol="chat" if "chat" in websocket.scope["subprotocols"] else None)
    name = websocket.query_params.get("name", "?")
    async for text in websocket.iter_text():
        await websocket.send_json({"from": name, "text": text, "path": websocket.url.path})
    # iter_text ends at the client's close; the app learns its code.


async def members_only(websocket):
    await websocket.close(code=1008)


async def login_first(websocket):
    # An HTTP response instead of the handshake's 101 (the websocket.http.response extension).
    await websocket.send_denial_response(PlainTextResponse("log in first\n", status_code=401,
                                                           headers={"www-authenticate": 'Basic realm="chat"'}))


application = Starlette(routes=[WebSocketRoute("/chat", chat), WebSocketRoute("/members", members_only),
                                WebSocketRoute("/login-first", login_first)])
