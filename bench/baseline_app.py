"""The bare baseline: one Flask app, one JSON endpoint, nothing else.

Served by gunicorn with the same settings as the real app (see
baseline_gunicorn_conf.py), it is the ceiling a Flask endpoint can reach on
this machine; each scenario is reported as a fraction of it.
"""
from flask import Flask

app = Flask(__name__)


@app.get("/bare")
def bare():
    return {"ok": True}


@app.get("/readyz")
def readyz():
    return {"status": "ready"}
