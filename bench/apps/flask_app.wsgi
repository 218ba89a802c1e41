# flask: the JSON endpoint (/api) of a small Flask application. The benchmark requests
# /flask/api; the response is deterministic so the floor can serve the same bytes.
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/")
def index():
    return "<!doctype html><title>bench</title><p>See <a href='api'>api</a>.</p>"


@app.route("/api")
def api():
    return jsonify(message="Hello from Flask", method=request.method,
                   items=[{"id": i, "name": "item %d" % i} for i in range(5)], ok=True)


@app.route("/api/<int:item_id>")
def item(item_id):
    return jsonify(id=item_id, name="item %d" % item_id)


application = app
