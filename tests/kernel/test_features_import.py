"""Each feature imports on its own in a fresh interpreter, whatever the order (issue 17: the wallet and
the issuer registry import each other's service; a package that imported its rooms too early made
`import wallet` fail while the app, which loads issuers first, still worked)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.features import FEATURES

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize("name", FEATURES)
def test_a_feature_imports_alone(name):
    for module in (name, f"{name}.service"):
        done = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, f"import {module}: {done.stderr.strip().splitlines()[-1:]}"
