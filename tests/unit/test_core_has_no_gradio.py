"""core/ is the teaching code: it must run (and be read) without the UI library."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CORE_FILES = sorted((REPO_ROOT / "core").glob("*.py"))


def _is_gradio(name: object) -> bool:
    return isinstance(name, str) and name.split(".")[0] == "gradio"


def _gradio_imports(source: str) -> list[str]:
    """Every `import gradio...`, `from gradio... import`, `import_module("gradio...")` in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if _is_gradio(alias.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _is_gradio(node.module):
            found.append(node.module)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            called = getattr(node.func, "attr", getattr(node.func, "id", None))
            if called in ("import_module", "__import__") and _is_gradio(node.args[0].value):
                found.append(node.args[0].value)
    return found


def test_core_files_were_found():
    names = {path.name for path in CORE_FILES}
    assert {"device.py", "assets.py", "tokenizers.py", "bpe.py", "tokenizer_files.py"} <= names


@pytest.mark.parametrize("path", CORE_FILES, ids=[p.name for p in CORE_FILES])
def test_core_module_does_not_import_gradio(path):
    assert _gradio_imports(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "source",
    [
        "import gradio",
        "import gradio as gr",
        "import os, gradio.themes",
        "from gradio import Blocks",
        "from gradio.components import Textbox",
        "def f():\n    import gradio\n",
        "importlib.import_module('gradio')",
    ],
)
def test_the_checker_catches_gradio_imports(source):
    assert _gradio_imports(source)


@pytest.mark.parametrize(
    "source", ["import gradio_client", "from gradio_tools import x", "import grad", "x = 'gradio'"]
)
def test_the_checker_ignores_other_names(source):
    assert _gradio_imports(source) == []


def test_importing_core_does_not_load_gradio():
    code = (
        "import core.tokenizers, core.bpe, core.assets, core.device, core.tokenizer_files, core.tokenizer_samples; "
        "import sys; print('gradio' in sys.modules)"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
