"""The BFF's use cases, as its routes call them (no other feature imports the BFF).

- `home.py`: the home screen (parts fetched in parallel, each within its budget) and the citizen's
  display preferences (大字版, language);
- `conventions.py`: the apps' launch configuration (and, installed by `init_app`, the version gate,
  ETag/304 and gzip on the BFF's answers).
"""
from __future__ import annotations

from bff.conventions import app_config
from bff.home import KEEP, home, preferences, set_preferences

__all__ = ["KEEP", "app_config", "home", "preferences", "set_preferences"]
