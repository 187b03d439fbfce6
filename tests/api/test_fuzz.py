"""Bad input at every public endpoint: wrong types, NaN and infinities, huge and tiny numbers, empty and
100,000-character strings, values outside the choices, file payloads pointing outside the app.

For every endpoint the server lists, each parameter in turn gets each bad value of its kind while the
others keep their defaults. Every call must end in a result or in a message a person can act on: never
an unhandled exception (which Gradio reports without a message), never a dead connection, and the
server must answer the next normal request. Live trainings a bad value happens not to stop are
cancelled after their first frame, and stopped.
"""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path

import httpx._content
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from tests.conftest import local_client

LONG = "x" * 100_000
NUMBER_VALUES = [math.nan, math.inf, -math.inf, 1e308, -1e308, -1, "abc", None]
TEXT_VALUES = ["", LONG, None, 12345, ["a", "list"]]
CHOICE_VALUES = ["not-one-of-the-choices", None, 7, LONG]
LIST_VALUES = [["not-one-of-the-choices"], "a string", None]
BOOL_VALUES = ["maybe", None]
FILE_VALUES = [
    "not a file",
    {"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}},  # outside everything the app serves
    {"background": {"path": "../../../../etc/passwd", "meta": {"_type": "gradio.FileData"}}, "layers": []},
    None,
]
UNHANDLED = "has not enabled verbose error reporting"  # what Gradio says for an exception nobody caught
FIRST_FRAME_SECONDS = 10  # a streaming call that has not ended by then is cancelled (it was accepted)
STOPS = ["/vae_stop_live", "/gan_pause", "/dcgan_pause", "/diffusion2d_stop", "/flow_stop"]


def bad_values(parameter: dict) -> list:
    kind = parameter["python_type"]["type"]
    if kind.startswith("list"):
        return LIST_VALUES
    if kind.startswith("Literal"):
        return CHOICE_VALUES
    if kind in ("float", "int"):
        return NUMBER_VALUES
    if kind == "bool":
        return BOOL_VALUES
    if kind.startswith("dict") or "filepath" in kind:
        return FILE_VALUES
    return TEXT_VALUES


def fuzzing_client(app_url: str) -> Client:
    # generous network timeouts: a 2-core server busy with a training a bad value started is slow, not broken
    return local_client(app_url, httpx_kwargs={"timeout": 60})


def defaults(parameters: list[dict]) -> list:
    return [p.get("parameter_default") if p.get("parameter_has_default") else None for p in parameters]


def call(client: Client, endpoint: str, args: list) -> str:
    """'ok', 'refused: <message>' or 'streaming' (cancelled after its first frame or the time limit)."""
    job = client.submit(*args, api_name=endpoint)
    deadline = time.monotonic() + FIRST_FRAME_SECONDS
    while not job.done() and time.monotonic() < deadline and not job.outputs():
        time.sleep(0.05)
    if not job.done():
        job.cancel()
        return "streaming"
    try:
        job.result()
    except AppError as err:
        return f"refused: {err}"
    return "ok"


@pytest.fixture
def nan_on_the_wire(monkeypatch):
    """Let the client send NaN and infinities as JSON literals (httpx refuses them), as a hand-made request can."""

    def dumps(obj, **kwargs):
        return json.dumps(obj, **{**kwargs, "allow_nan": True})

    monkeypatch.setattr(httpx._content, "json_dumps", dumps)


CHAINED = ("The above exception was the direct cause", "During handling of the above exception")


def escaped_from_our_code(log: str) -> list[str]:
    """Tracebacks in the server log whose exception came out of this project's code without being turned
    into a message (a gr.Error): the bugs this test is after. Gradio's own input checks do not count."""
    chains, pieces = [], re.split(r"\n(?=Traceback \(most recent call last\):)", log)
    for piece in pieces:
        if not piece.startswith("Traceback"):
            continue
        if chains and chains[-1].rstrip().endswith(tuple(f"{c} of the following exception:" for c in CHAINED)):
            chains[-1] += "\n" + piece  # "raise ... from err": one failure told in two tracebacks
        else:
            chains.append(piece)
    found = []
    for chain in chains:
        lines = [line for line in chain.strip().splitlines() if line and not line.startswith(" ")]
        # the exception's own line (other output, e.g. a progress bar, may have landed in between)
        final = next((line for line in reversed(lines) if re.match(r"[A-Za-z_][\w.]*(Error|Exception)\b", line)), "")
        if final.startswith(("gradio.exceptions.Error", "gradio.exceptions.ComponentProcessingError")):
            continue
        ours = re.findall(r'File "([^"]*/(?:core|tabs)/[^"]+)", line (\d+), in (\w+)', chain)
        ours = [frame for frame in ours if "site-packages" not in frame[0]]
        if ours:
            path, line, function = ours[-1]
            found.append(f"{Path(path).parent.name}/{Path(path).name}:{line} in {function}: {final[:160]}")
    return found


def test_every_endpoint_survives_bad_input_with_a_clear_message(app_url, artifacts_dir, nan_on_the_wire):
    server_log = artifacts_dir / "app-server.log"
    log_start = server_log.stat().st_size
    client = fuzzing_client(app_url)
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert len(endpoints) >= 50  # every tab's endpoints are listed (a regression guard for the fuzzing itself)
    problems, calls = [], 0
    for endpoint, spec in endpoints.items():
        parameters = spec["parameters"]
        normal = defaults(parameters)
        for index, parameter in enumerate(parameters):
            for value in bad_values(parameter):
                args = list(normal)
                args[index] = value
                shown = f"{endpoint}({parameter.get('parameter_name')}={str(value)[:40]!r})"
                try:
                    outcome = call(client, endpoint, args)
                except Exception as err:  # a dead connection, a 5xx, a protocol error
                    problems.append(f"{shown}: {type(err).__name__}: {str(err)[:200]}")
                    client = fuzzing_client(app_url)
                    continue
                calls += 1
                if outcome.startswith("refused") and (UNHANDLED in outcome or outcome.strip() == "refused:"):
                    problems.append(f"{shown}: refused without a message ({outcome[:200]})")
        for stop in STOPS:  # whatever a bad value started in this session ends here
            client.predict(api_name=stop)
        # the server still answers a normal request
        assert client.predict("English prose", api_name="/sample_text"), f"no answer after fuzzing {endpoint}"
    assert calls > 500
    with open(server_log, errors="replace") as log:
        log.seek(log_start)
        problems += sorted(set(escaped_from_our_code(log.read())))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("value", [math.nan, math.inf, -1e308])
def test_a_numeric_slider_given_nonsense_says_so(app_url, value, nan_on_the_wire):
    """Spot check of the messages themselves (the sweep above only checks that there is one)."""
    client = local_client(app_url)
    with pytest.raises(AppError, match=r"(?i)number|finite|between|from|must|choose|pick|range|minimum|maximum"):
        client.predict("mnist", value, 250, api_name="/diffusion_forward")
