"""gunicorn settings for the bare baseline: every plain setting of the project's
gunicorn.conf.py (workers, threads, timeouts, keep-alive, bind, ...), evaluated
with the same environment, without its server hooks (they start the embedded
Redis, migrate the database and set up Prometheus, which the bare app has none of).
"""
import os as _os
import runpy as _runpy
import types as _types

_main = _runpy.run_path(_os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "..", "gunicorn.conf.py"))
for _name, _value in _main.items():
    if not _name.startswith("_") and not callable(_value) and not isinstance(_value, _types.ModuleType):
        globals()[_name] = _value
