"""Attention tab: every layer and head of a real transformer, rollout, head statistics, one head inside.

Layout and wiring only; the numbers come from core.attention / core.attention_models and the
figures from tabs.attention_view.
"""

from __future__ import annotations

import time

import gradio as gr
import torch

from core import assets, seeding
from core import attention as at
from core import attention_models as models
from core import next_token as next_tokens
from core.device import describe
from tabs import attention_view as view
from tabs import bertviz_view
from tabs.exports import export_path
from tabs.image_views import png_bytes, stamped

TITLE = "Attention"
TAB_ID = "attention"
SUGGESTED_HUB = ["openai-community/gpt2", "distilbert/distilgpt2", "google-bert/bert-base-uncased"]
DEFAULT_TEXT = "The cat sat on the mat because it was tired. The cat slept."

INTRO = """\
### Attention: what a real transformer looks at
Each head turns every token into a query, compares it with every token's key, and takes a softmax-weighted
mix of their values. Rows are the token doing the looking (query), columns the token looked at (key).
Tokens are exactly the ones the Tokenizer tab shows for the same model.
"""


def _payload_kb(*figures) -> float:
    return sum(len(f.to_json()) for f in figures) / 1024


def _position_choices(run: at.AttentionRun) -> list[tuple[str, int]]:
    return [(f"{i}: {label}", i) for i, label in enumerate(run.labels)]


def _run(text: str, model: str) -> at.AttentionRun:
    if text is not None and not isinstance(text, str):  # only the API can send this
        raise gr.Error("The text must be a string.")
    try:
        return models.cached_run(model, text or "")
    except ValueError as err:
        raise gr.Error(str(err)) from None


def _index(value) -> int:
    """A slider position from the UI (None, NaN or junk from the API: 0)."""
    try:
        return int(value or 0)
    except (TypeError, ValueError, OverflowError):
        return 0


def _clamp(run: at.AttentionRun, layer, head, query) -> tuple[int, int, int]:
    layer = min(max(_index(layer), 0), run.n_layers - 1)
    head = min(max(_index(head), 0), run.n_heads - 1)
    try:  # the dropdown sends a position; a typed "3: sat" or junk falls back gracefully
        query = int(str(query).split(":")[0]) if query not in (None, "") else 0
    except ValueError:
        query = 0
    query = min(max(query, 0), len(run.labels) - 1)
    return layer, head, query


def _head_views(run: at.AttentionRun, layer: int, head: int, query: int):
    enlarged = view.head_figure(run.attentions[layer, head], run.labels, f"Layer {layer}, head {head}")
    step = at.inside_head(
        run.queries[layer, head, query], run.keys[layer, head], run.values[layer, head], query, run.causal
    )
    label = run.labels[query]
    inside_title = f"Layer {layer}, head {head}, query {query}: {label!r}"
    model_row = run.attentions[layer, head, query]
    check = (step.weights - model_row).abs().max().item()
    summary = (
        f"**{inside_title}.** 1) scores = q·kⱼ / √{run.queries.shape[-1]} (scale {step.scale:.4f}); "
        f"2) {'future positions masked to −∞; ' if run.causal else 'no mask (the encoder sees both directions); '}"
        f"3) softmax → weights summing to {step.weights.sum():.4f}; 4) output = Σ weightⱼ vⱼ, a {step.output.shape[0]}-d vector "
        f"of norm {step.output.norm():.3f}. Largest weight: {step.weights.max():.3f} on position {int(step.weights.argmax())} "
        f"({run.labels[int(step.weights.argmax())]!r}). Our computation matches the model's own weights to {check:.1e}."
    )
    rows = view.inside_rows(step, run.values[layer, head], run.labels)
    return enlarged, rows, view.inside_figure(step, run.labels, inside_title), summary


def _rollout_views(run: at.AttentionRun, query: int):
    rolled = at.rollout(run.attentions)
    heat = view.head_figure(rolled, run.labels, "Attention rollout across all layers (Abnar & Zuidema 2020)")
    bars = view.bars_figure(
        rolled[query], run.labels, f"Rollout for query {query}: {run.labels[query]!r}", "share of the final state"
    )
    return heat, bars


def _notice(run: at.AttentionRun, stats_run: at.AttentionRun) -> str:
    parts = [run.notice] if run.notice else []
    if len(stats_run.labels) > len(run.labels):
        parts.append(f"Head statistics read the first {len(stats_run.labels)} tokens.")
    return f"**Note:** {' '.join(parts)}" if parts else ""


def analyse(text: str, model: str, layer: float, head: float, query: float):
    started = time.perf_counter()
    run = _run(text, model)
    layer, head, query = _clamp(run, layer, head, query)
    grid = view.grid_figure(run.attentions, (layer, head))
    enlarged, inside_rows, inside_fig, summary = _head_views(run, layer, head, query)
    rollout_heat, rollout_bars = _rollout_views(run, query)
    stats_run = run
    if len(run.labels) >= at.MAX_VIEW_TOKENS:  # the views were cut: statistics may read further
        stats_run = models.cached_run(model, text or "", at.MAX_STATS_TOKENS)
    stats = view.stats_rows(at.head_statistics(stats_run, models.induction_for(model)))
    elapsed = 1000 * (time.perf_counter() - started)
    payload = _payload_kb(grid, enlarged, inside_fig, rollout_heat, rollout_bars)
    timing = f"{len(run.labels)} tokens · {elapsed:.0f} ms on {describe().summary} · figures {payload:.0f} kB"
    return (
        grid,
        enlarged,
        inside_rows,
        inside_fig,
        summary,
        rollout_heat,
        rollout_bars,
        stats,
        _notice(run, stats_run),
        timing,
        gr.update(maximum=run.n_layers - 1, value=layer),
        gr.update(maximum=run.n_heads - 1, value=head),
        gr.update(choices=_position_choices(run), value=query),
    )


def select_head(text: str, model: str, layer: float, head: float, query: float):
    run = _run(text, model)
    layer, head, query = _clamp(run, layer, head, query)
    return view.grid_figure(run.attentions, (layer, head)), *_head_views(run, layer, head, query)


def export_png(text: str, model: str, layer: float, head: float, query: float):
    """The grid and the chosen head as a PNG, stamped with the model, the text and the head."""
    run = _run(text, model)
    layer, head, _ = _clamp(run, layer, head, query)
    title = models.MODELS.get(model, model.removeprefix(models.HUB_PREFIX) if isinstance(model, str) else "?")
    excerpt = (text or "").strip().replace("\n", " ")
    excerpt = excerpt if len(excerpt) <= 300 else excerpt[:300] + "…"
    caption = f"{title}: layer {layer}, head {head}; {len(run.labels)} tokens\nText: {excerpt}"
    if run.notice:
        caption += f"\n{run.notice}"
    path = export_path(f"attention-{model.replace('/', '_').replace(':', '_')}-L{layer}H{head}.png")
    path.write_bytes(png_bytes(stamped(view.attention_picture(run.attentions, run.labels, layer, head), caption)))
    return str(path)


def select_query(text: str, model: str, layer: float, head: float, query: float):
    run = _run(text, model)
    layer, head, query = _clamp(run, layer, head, query)
    return (*_head_views(run, layer, head, query)[1:], *_rollout_views(run, query)[1:])


def bertviz(text: str, model: str, layer: float):
    """BertViz head view (the chosen layer) and model view, each kept under about 1 MB."""
    run = _run(text, model)
    layer = _clamp(run, layer, 0, 0)[0]
    head_view, model_view = bertviz_view.head_view(run, layer), bertviz_view.model_view(run)
    size = (head_view.payload_bytes + model_view.payload_bytes) / 1024
    caption = f"<p class='att-bertviz-size'>BertViz pages: {size:.0f} kB sent to the browser.</p>"
    return caption + head_view.html, model_view.html


def _filtered(run: at.AttentionRun, temperature: float, top_k: float, top_p: float) -> torch.Tensor:
    """The next-token distribution after the sampling filters, or a clear error for bad settings."""
    try:
        return next_tokens.distribution(run.logits[-1], float(temperature), int(top_k or 0), float(top_p))
    except ValueError as err:
        raise gr.Error(str(err)) from None


def next_token(text: str, model: str, temperature: float, top_k: float, top_p: float):
    """The next-token distribution after the whole text, before and after the sampling filters."""
    run = _run(text, model)
    if not run.causal:
        return (
            None,
            "Next-token prediction needs a causal model: pick the tiny GPT above (BERT-style encoders see both ways).",
        )
    probs = _filtered(run, temperature, top_k, top_p)
    raw = models.next_token_table(run, torch.softmax(run.logits[-1].double(), -1).float())
    kept = models.next_token_table(run, probs)
    figure = view.next_token_figure(raw, kept, f"After {run.labels[-1]!r}: the next token")
    survivors = int((probs > 0).sum())
    return (
        figure,
        f"{survivors:,} token(s) keep a chance after temperature {temperature:g}, top-k {int(top_k or 0) or 'off'}, top-p {top_p:g}.",
    )


def generate_one(text: str, model: str, temperature: float, top_k: float, top_p: float, seed: float, greedy: bool):
    """Append one chosen token to the text (seeded), and point the views at it."""
    run = _run(text, model)
    if not run.causal:
        raise gr.Error("Generating needs a causal model: pick the tiny GPT.")
    probs = _filtered(run, temperature, top_k, top_p)
    try:
        generator = seeding.generator(seeding.check_seed(seed))
    except ValueError as err:
        raise gr.Error(str(err)) from None
    chosen = next_tokens.choose(probs, greedy=bool(greedy), generator=generator)
    return text + models.decode(model, [chosen]), 10**6  # the query moves to the new, last token


def _model_choices(hub_ids: list[str]) -> list[tuple[str, str]]:
    return [(title, key) for key, title in models.MODELS.items()] + [
        (f"{h} (Hub)", models.HUB_PREFIX + h) for h in hub_ids
    ]


def add_hub_model(hub_id: str, hub_ids: list[str]):
    """Load a Hub model (BERT or GPT-2 style) and select it; a plain sentence when that cannot be done."""
    from core import attention_hub

    hub_id = (hub_id or "").strip()
    try:
        attention_hub.load(hub_id)
    except assets.AssetError as err:
        return gr.update(), hub_ids, f"**Note:** {err}"
    hub_ids = hub_ids if hub_id in hub_ids else [*hub_ids, hub_id]
    return gr.update(choices=_model_choices(hub_ids), value=models.HUB_PREFIX + hub_id), hub_ids, f"Added {hub_id}."


def render(demo: gr.Blocks, tab: gr.Tab) -> dict:
    gr.Markdown(INTRO)
    with gr.Row():
        text = gr.Textbox(DEFAULT_TEXT, label="Text", lines=3, scale=4, elem_id="att-text")
        with gr.Column(scale=2):
            # custom values let API callers name "hub:<id>" directly; unknown names get a clear error
            model = gr.Dropdown(
                _model_choices([]), value="minilm", label="Model", allow_custom_value=True, elem_id="att-model"
            )
            go_btn = gr.Button("Show attention", variant="primary", elem_id="att-run")
    with gr.Row():
        hub_id = gr.Textbox(
            label="Add a Hub model (BERT- or GPT-2-style; needs the Hub)",
            placeholder=", ".join(SUGGESTED_HUB),
            scale=3,
            elem_id="att-hub-id",
        )
        hub_add = gr.Button("Add from Hub", scale=1, elem_id="att-hub-add")
    hub_notice = gr.Markdown(elem_id="att-hub-notice")
    hub_models = gr.State([], time_to_live=3600)  # this session's added Hub models
    notice = gr.Markdown(elem_id="att-notice")
    timing = gr.Markdown(elem_id="att-timing")
    with gr.Row():
        layer = gr.Slider(0, 5, value=0, step=1, label="Layer", elem_id="att-layer")
        head = gr.Slider(0, 11, value=2, step=1, label="Head", elem_id="att-head")
        # choices follow the current text; custom values let API callers pass a position directly
        query = gr.Dropdown(choices=[], value=None, label="Query token", allow_custom_value=True, elem_id="att-query")
    with gr.Tabs():
        with gr.Tab("All heads", id="att-grid-tab"):
            grid = gr.Plot(elem_id="att-grid")
            enlarged = gr.Plot(elem_id="att-head-plot")
            with gr.Row():
                export_btn = gr.Button("Export PNG", size="sm", scale=0, elem_id="att-export")
                export_file = gr.File(label="All heads and the chosen one, stamped", scale=3, elem_id="att-export-file")
        with gr.Tab("BertViz", id="att-bertviz-tab"):
            gr.Markdown(
                "BertViz's own views (Vig 2019), running offline. **Head view**: hover a token to see where every head of the "
                "chosen layer sends its attention. **Model view**: every layer x head at once; click one to enlarge it."
            )
            bertviz_head = gr.HTML(elem_id="att-bertviz-head")
            bertviz_model = gr.HTML(elem_id="att-bertviz-model")
        with gr.Tab("Inside one head", id="att-inside-tab"):
            inside_md = gr.Markdown(elem_id="att-inside-summary")
            inside_fig = gr.Plot(elem_id="att-inside-plot")
            inside_table = gr.Dataframe(
                headers=view.INSIDE_HEADERS, interactive=False, max_height=420, elem_id="att-inside-table"
            )
        with gr.Tab("Rollout", id="att-rollout-tab"):
            rollout_bars = gr.Plot(elem_id="att-rollout-bars")
            rollout_heat = gr.Plot(elem_id="att-rollout-heat")
        with gr.Tab("Next token", id="att-next-tab"):
            gr.Markdown(
                "A causal model reads left to right and scores every possible next token. **Temperature** divides the "
                "scores (0 = always the top token), **top-k** keeps the k best, **top-p** keeps the smallest set of best "
                "tokens whose probabilities add up to p. *Generate one token* appends the choice and shows where it attends."
            )
            with gr.Row():
                temperature = gr.Slider(0, 2, value=1.0, step=0.05, label="Temperature", elem_id="att-temperature")
                top_k = gr.Slider(
                    0, 200, value=0, step=1, label="Top-k (0 = off)", elem_id="att-topk", elem_classes=["pg-advanced"]
                )
                top_p = gr.Slider(
                    0.05,
                    1.0,
                    value=1.0,
                    step=0.05,
                    label="Top-p (1 = off)",
                    elem_id="att-topp",
                    elem_classes=["pg-advanced"],
                )
            with gr.Row():
                seed = gr.Number(seeding.DEFAULT_SEED, label="Seed", precision=0, elem_id="att-seed")
                greedy = gr.Checkbox(False, label="Greedy (ignore the dice)", elem_id="att-greedy")
                generate_btn = gr.Button("Generate one token", variant="primary", elem_id="att-generate")
            next_md = gr.Markdown(elem_id="att-next-summary")
            next_fig = gr.Plot(elem_id="att-next-plot")
        with gr.Tab("Head statistics", id="att-stats-tab"):
            gr.Markdown(
                "Click a column header to sort. **Entropy**: 0 bits = the head looks at one token. **Mean distance**: how far "
                "back/forward it looks. **Previous-token**: attention to the token just before. **Sink**: attention parked on "
                "[CLS]/[SEP] or the first token, a head's way of doing nothing."
            )
            stats = gr.Dataframe(headers=view.STATS_HEADERS, interactive=False, max_height=520, elem_id="att-stats")

    inputs = [text, model, layer, head, query]
    outputs = [
        grid,
        enlarged,
        inside_table,
        inside_fig,
        inside_md,
        rollout_heat,
        rollout_bars,
        stats,
        notice,
        timing,
        layer,
        head,
        query,
    ]
    export_btn.click(export_png, inputs, export_file, api_name="attention_export")
    hub_add.click(add_hub_model, [hub_id, hub_models], [model, hub_models, hub_notice], api_name="add_hub_model").then(
        analyse, inputs, outputs, api_visibility="private"
    )
    # computed when the tab is first opened (loading the model takes seconds), then on demand
    gr.on(
        [tab.select, go_btn.click, text.submit, model.input],
        analyse,
        inputs,
        outputs,
        api_name="attention",
        concurrency_limit=2,
    )
    gr.on(
        [layer.release, head.release],
        select_head,
        inputs,
        [grid, enlarged, inside_table, inside_fig, inside_md],
        api_name="attention_head",
    )
    query.input(select_query, inputs, [inside_table, inside_fig, inside_md, rollout_bars], api_name="attention_query")
    gr.on(
        [tab.select, go_btn.click, text.submit, model.input, layer.release],
        bertviz,
        [text, model, layer],
        [bertviz_head, bertviz_model],
        api_name="bertviz",
    )
    sampling = [text, model, temperature, top_k, top_p]
    gr.on(
        [tab.select, go_btn.click, text.submit, model.input, temperature.release, top_k.release, top_p.release],
        next_token,
        sampling,
        [next_fig, next_md],
        api_name="next_token",
    )
    generate_btn.click(generate_one, [*sampling, seed, greedy], [text, query], api_name="generate_one").then(
        analyse, inputs, outputs, api_visibility="private"
    ).then(next_token, sampling, [next_fig, next_md], api_visibility="private")
    return {
        "text": text,
        "model": model,
        "layer": layer,
        "head": head,
        "temperature": temperature,
        "top_k": top_k,
        "top_p": top_p,
        "seed": seed,
        "greedy": greedy,
    }


CSS = ""
