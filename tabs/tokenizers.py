"""Tokenizer explorer tab: compare real tokenizers, replay BPE merges, train your own BPE.

Layout and wiring only: handlers turn UI values into calls of `core.tokenizers` / `core.bpe`
and turn the results into HTML, tables and plotly figures (via `tabs.tokenizer_view`).
"""

from __future__ import annotations

import time

import gradio as gr

from core import assets, bpe
from core.device import describe
from core.tokenizer_samples import CORPORA, DEFAULT_SAMPLE, SAMPLES
from core.tokenizers import (
    HUB_PREFIX,
    TextTokenizer,
    clean_text,
    differing_tokens,
    embedded_keys,
    get_tokenizer,
    title_of,
    tokens_per_100_chars,
)
from tabs import tokenizer_view as view
from tabs.exports import export_path
from tabs.image_views import png_bytes, stamped

TITLE = "Tokenizers"
TAB_ID = "tokenizers"

# "Show me…" (tabs.links): each sets a few controls and says what to look for.
SHOW_ME = {
    "Numbers split oddly": (
        "GPT-2 cuts digit strings into irregular, frequency-made chunks; cl100k_base and o200k_base cut them "
        "into groups of at most three digits, left to right. Hover a number to compare.",
        {"text": "In 2024, 1,234,567 people paid $3.14159 each: 3876543.21 in total, or 12345678 cents."},
    ),
}
DEFAULT_KEYS = ["gpt2", "cl100k_base", "o200k_base", "sentencepiece"]
MAX_COMPARE = 4
TRAINED_KEY = "trained"
SOURCES = ["Embedded (offline)", "Hugging Face Hub when reachable"]
SESSION_TTL_S = 3600

INTRO = """\
### Tokenizers: how text becomes the numbers a model reads
Pick 2–4 real tokenizers and type anything. Each coloured box is one token; hover or click one and
the same characters light up in the other tokenizers. Spaces show as `·`, newlines as `↵`; two-digit
hex boxes are single bytes of a character split across tokens. Dashed underlines mark spans the
tokenizers split differently.
"""


# ---- adapters: UI values -> core calls -> displayable values ---------------------------------


def _tokenizers(keys: list[str], source: str, trained_json: str | None) -> tuple[list[TextTokenizer], list[str]]:
    """Resolve the selected keys to tokenizers; collect one notice per problem instead of failing."""
    prefer_hub = source == SOURCES[1]
    tokenizers, notices = [], []
    for key in keys:
        if not isinstance(key, str):  # only the API can send this; the dropdown sends names
            notices.append(f"Unknown tokenizer {str(key)[:40]!r}.")
            continue
        try:
            if key == TRAINED_KEY:
                if not trained_json:
                    notices.append("Train a BPE in 'Train your own BPE' first to compare it here.")
                    continue
                tokenizers.append(bpe.trained_tokenizer(trained_json))
                continue
            tokenizer, notice = get_tokenizer(key, prefer_hub=prefer_hub)
            tokenizers.append(tokenizer)
            if notice:
                notices.append(notice)
        except assets.AssetError as err:
            notices.append(str(err))
    return tokenizers, notices


def _notice_markdown(notices: list[str]) -> str:
    return "\n".join(f"**Note:** {n}" for n in dict.fromkeys(notices))  # dedupe, keep order


def compare(text: str, keys: list[str], source: str, show_whitespace: bool, trained_json: str | None):
    keys = list(keys or [])
    if not keys:
        raise gr.Error("Pick at least one tokenizer to compare.")
    notices = []
    if len(keys) > MAX_COMPARE:
        notices.append(f"At most {MAX_COMPARE} tokenizers fit side by side; showing the first {MAX_COMPARE}.")
        keys = keys[:MAX_COMPARE]
    text, text_notices = clean_text(text)
    notices += text_notices
    if not text:
        notices.append("The text is empty: type something or pick a sample.")
    started = time.perf_counter()
    tokenizers, load_notices = _tokenizers(keys, source, trained_json)
    notices += load_notices
    encodings = [tok.run(text) for tok in tokenizers]
    markup = view.comparison_html(encodings, differing_tokens(encodings), bool(show_whitespace))
    elapsed_ms = 1000 * (time.perf_counter() - started)
    stats = view.stats_rows(encodings, [tok.vocab_size() for tok in tokenizers])
    timing = f"{len(text):,} characters, {len(encodings)} tokenizers, {elapsed_ms:.0f} ms on {describe().summary}."
    table_choices = [(e.title, e.key) for e in encodings]
    table_key = table_choices[0][1] if table_choices else None
    return (
        markup,
        stats,
        _notice_markdown(notices),
        timing,
        gr.update(choices=table_choices, value=table_key),
    )


def export_png(text: str, keys: list[str], source: str, show_whitespace: bool, trained_json: str | None):
    """The comparison as a PNG, stamped with the tokenizers and the text's length."""
    keys = [k for k in keys if isinstance(k, str)][:MAX_COMPARE] if isinstance(keys, list) else []
    if not keys:
        raise gr.Error("Pick at least one tokenizer to compare.")
    text, _ = clean_text(text)
    tokenizers, _ = _tokenizers(keys, source, trained_json)
    if not tokenizers:
        raise gr.Error("None of the chosen tokenizers is available.")
    encodings = [tok.run(text) for tok in tokenizers]
    drawn = " (the first 600 characters drawn)" if len(text) > view.PICTURE_CHARS else ""
    caption = (
        f"Tokenizers: {', '.join(e.title for e in encodings)}; {len(text):,} characters of text{drawn}. "
        "Each box is one token; a middle dot marks a space, an arrow a newline, <E4> a single byte."
    )
    path = export_path("tokenizers-" + "-".join(e.key.replace("/", "_").replace(":", "_") for e in encodings) + ".png")
    path.write_bytes(png_bytes(stamped(view.comparison_picture(encodings, bool(show_whitespace)), caption)))
    return str(path)


def token_table(text: str, key: str | None, source: str, trained_json: str | None):
    if not key:
        return []
    text, _ = clean_text(text)
    tokenizers, notices = _tokenizers([key], source, trained_json)
    if not tokenizers:
        raise gr.Error(notices[0] if notices else "That tokenizer is not available.")
    return view.token_rows(tokenizers[0].run(text))


def _choices(hub_ids: list[str], has_trained: bool) -> list[tuple[str, str]]:
    choices = [(title_of(k), k) for k in embedded_keys()]
    choices += [(title_of(HUB_PREFIX + h), HUB_PREFIX + h) for h in hub_ids]
    if has_trained:
        choices.append(("Your BPE (trained here)", TRAINED_KEY))
    return choices


def add_hub_tokenizer(hub_id: str, keys: list[str], hub_ids: list[str], trained_json: str | None):
    hub_id = (hub_id or "").strip()
    try:
        assets.load_hub("tokenizer", hub_id)  # validates, checks reachability, caches
    except assets.AssetError as err:
        return gr.update(), hub_ids, f"**Note:** {err}"
    hub_ids = [*hub_ids, hub_id] if hub_id not in hub_ids else hub_ids
    keys = [*keys, HUB_PREFIX + hub_id][-MAX_COMPARE:]
    return (
        gr.update(choices=_choices(hub_ids, bool(trained_json)), value=keys),
        hub_ids,
        f"Added {hub_id} from the Hub.",
    )


def replay_word(word: str, key: str, trained_json: str | None):
    tokenizers, notices = _tokenizers([key], SOURCES[0], trained_json)
    if not tokenizers:
        raise gr.Error(notices[0] if notices else "That tokenizer is not available.")
    tokenizer = tokenizers[0]
    word, _ = clean_text(word)
    try:
        replays = bpe.replay(tokenizer, word)
    except ValueError as err:
        raise gr.Error(str(err)) from None
    return view.replay_html(tokenizer.title, replays)


def train(corpus_name: str, own_text: str, vocab_size: float, sample_text: str, keys: list[str], hub_ids: list[str]):
    if corpus_name == OWN_TEXT:
        corpus, _ = clean_text(own_text)
    elif corpus_name in CORPORA:
        corpus = CORPORA[corpus_name]()
    else:
        raise gr.Error(f"Unknown corpus {corpus_name!r}.")
    try:
        trained = bpe.train_bpe(corpus, int(vocab_size))
    except ValueError as err:
        raise gr.Error(str(err)) from None
    tokenizer = bpe.trained_tokenizer(trained.tokenizer_json)
    text, _ = clean_text(sample_text)
    encoding = tokenizer.run(text)
    status = (
        f"Learned {len(trained.merges):,} merges (vocabulary {trained.vocab_size:,}) from "
        f"{trained.corpus_chars:,} characters in {trained.seconds * 1000:.0f} ms. "
        f"The text above becomes {encoding.n_tokens:,} tokens ({encoding.chars_per_token:.2f} chars/token)."
    )
    keys = list(keys or [])
    if TRAINED_KEY not in keys:
        keys = [*keys[: MAX_COMPARE - 1], TRAINED_KEY]
    return (
        view.merge_rows(trained),
        view.comparison_html([encoding], [set()], True),
        status,
        trained.tokenizer_json,
        gr.update(choices=_choices(hub_ids, True), value=keys),
        gr.update(choices=_replay_choices(True), value=TRAINED_KEY),
    )


OWN_TEXT = "My own text (below)"


def _replay_choices(has_trained: bool) -> list[tuple[str, str]]:
    choices = [(title_of(k), k) for k in ("gpt2", "cl100k_base", "o200k_base", "clip")]
    return choices + ([("Your BPE (trained here)", TRAINED_KEY)] if has_trained else [])


def density_chart(trained_json: str | None):
    keys = embedded_keys() + ([TRAINED_KEY] if trained_json else [])
    tokenizers, _ = _tokenizers(keys, SOURCES[0], trained_json)
    return view.density_figure(tokens_per_100_chars(tokenizers, SAMPLES))


# ---- layout and wiring -----------------------------------------------------------------------


def render(demo: gr.Blocks, tab: gr.Tab) -> dict:
    # Per-session state, dropped an hour after last use (and when the session closes).
    hub_ids = gr.State([], time_to_live=SESSION_TTL_S)  # this session's added Hub tokenizers
    trained_json = gr.State(None, time_to_live=SESSION_TTL_S)  # this session's trained BPE, serialised
    gr.Markdown(INTRO)
    with gr.Tabs():
        with gr.Tab("Compare", id="tok-compare"):
            with gr.Row():
                text = gr.Textbox(
                    SAMPLES[DEFAULT_SAMPLE], label="Text", lines=7, max_lines=20, scale=3, elem_id="tok-text"
                )
                with gr.Column(scale=2):
                    sample = gr.Dropdown(list(SAMPLES), value=DEFAULT_SAMPLE, label="Sample text", elem_id="tok-sample")
                    keys = gr.CheckboxGroup(
                        _choices([], False),
                        value=DEFAULT_KEYS,
                        label=f"Tokenizers (up to {MAX_COMPARE})",
                        elem_id="tok-keys",
                    )
                    with gr.Row():
                        show_ws = gr.Checkbox(True, label="Show spaces and newlines", elem_id="tok-ws")
                        source = gr.Radio(
                            SOURCES,
                            value=SOURCES[0],
                            label="Where GPT-2, BERT and CLIP come from",
                            elem_id="tok-source",
                        )
            with gr.Row():
                hub_id = gr.Textbox(
                    label="Add any Hub tokenizer (needs the Hub)",
                    placeholder="owner/name, e.g. Qwen/Qwen2.5-0.5B",
                    scale=3,
                    elem_id="tok-hub-id",
                )
                hub_add = gr.Button("Add from Hub", scale=1, elem_id="tok-hub-add")
            hub_notice = gr.Markdown(elem_id="tok-hub-notice")  # its own line: redraws never overwrite it
            notice = gr.Markdown(elem_id="tok-notice")
            comparison = gr.HTML(elem_id="tok-compare-view", js_on_load=view.COMPARE_JS)
            timing = gr.Markdown(elem_id="tok-timing")
            with gr.Row():
                export_btn = gr.Button("Export PNG", size="sm", scale=0, elem_id="tok-export")
                export_file = gr.File(label="The comparison, stamped", scale=3, elem_id="tok-export-file")
            stats = gr.Dataframe(headers=view.STATS_HEADERS, label="Statistics", interactive=False, elem_id="tok-stats")
            with gr.Accordion("Per-token table (ids, bytes, character spans)", open=False):
                table_key = gr.Dropdown(label="Tokenizer", choices=[], elem_id="tok-table-key")
                table = gr.Dataframe(
                    headers=view.TOKEN_TABLE_HEADERS, interactive=False, max_height=420, elem_id="tok-table"
                )
        with gr.Tab("How BPE got here", id="tok-replay"):
            gr.Markdown(
                "Byte-level BPE starts from single bytes and merges pairs in the order training learned them. Type a word (a leading space matters!) and replay every merge."
            )
            with gr.Row():
                word = gr.Textbox(" tokenization", label="Word or short phrase", scale=3, elem_id="tok-word")
                replay_key = gr.Dropdown(
                    _replay_choices(False), value="gpt2", label="Tokenizer", scale=2, elem_id="tok-replay-key"
                )
                replay_btn = gr.Button("Replay merges", variant="primary", scale=1, elem_id="tok-replay-btn")
            replay_view = gr.HTML(elem_id="tok-replay-view")
        with gr.Tab("Train your own BPE", id="tok-train"):
            gr.Markdown(
                "Train a byte-level BPE with the same Rust trainer real models use, then compare it with the others."
            )
            with gr.Row():
                corpus = gr.Dropdown(
                    [*CORPORA, OWN_TEXT],
                    value=next(iter(CORPORA)),
                    label="Training text",
                    scale=2,
                    elem_id="tok-corpus",
                )
                vocab = gr.Slider(
                    bpe.MIN_VOCAB, 8000, value=1000, step=1, label="Vocabulary size", scale=2, elem_id="tok-vocab"
                )
                train_btn = gr.Button("Train BPE", variant="primary", scale=1, elem_id="tok-train-btn")
            own_text = gr.Textbox(
                label="Your training text (used when 'My own text' is picked)", lines=4, elem_id="tok-own-text"
            )
            train_status = gr.Markdown(elem_id="tok-train-status")
            with gr.Row():
                merges = gr.Dataframe(
                    headers=view.MERGE_HEADERS,
                    label="Learned merges, in order (first 500)",
                    interactive=False,
                    max_height=420,
                    scale=1,
                    elem_id="tok-merges",
                )
                trained_view = gr.HTML(elem_id="tok-trained-view", js_on_load=view.COMPARE_JS)
        with gr.Tab("Tokens per language", id="tok-langs") as langs_tab:
            gr.Markdown("The same meaning costs very different numbers of tokens across languages and scripts.")
            chart_btn = gr.Button("Redraw chart", elem_id="tok-chart-btn")
            chart = gr.Plot(elem_id="tok-chart")

    compare_inputs = [text, keys, source, show_ws, trained_json]
    compare_outputs = [comparison, stats, notice, timing, table_key]
    compare_event = dict(fn=compare, inputs=compare_inputs, outputs=compare_outputs, api_name="tokenize")
    # .change (not .input) so that a sample picked from the list and a text emptied by the user also redraw
    gr.on([text.change, keys.input, show_ws.input, source.input], **compare_event, trigger_mode="always_last")
    demo.load(compare, compare_inputs, compare_outputs, api_visibility="private")
    export_btn.click(export_png, compare_inputs, export_file, api_name="tokenizers_export")
    sample.input(lambda name: SAMPLES.get(name, ""), sample, text, api_name="sample_text")
    table_key.change(token_table, [text, table_key, source, trained_json], table, api_name="token_table")
    hub_add.click(
        add_hub_tokenizer,
        [hub_id, keys, hub_ids, trained_json],
        [keys, hub_ids, hub_notice],
        api_name="add_hub_tokenizer",
    ).then(compare, compare_inputs, compare_outputs, api_visibility="private")
    gr.on(
        [replay_btn.click, word.submit],
        replay_word,
        [word, replay_key, trained_json],
        replay_view,
        api_name="replay_bpe",
    )
    train_btn.click(
        train,
        [corpus, own_text, vocab, text, keys, hub_ids],
        [merges, trained_view, train_status, trained_json, keys, replay_key],
        api_name="train_bpe",
        concurrency_limit=1,
    ).then(compare, compare_inputs, compare_outputs, api_visibility="private")
    gr.on([chart_btn.click, langs_tab.select], density_chart, trained_json, chart, api_name="tokens_per_language")

    # Cross-highlighting in the browser: hover or click a token (or its id) and every token in every
    # column whose character span overlaps lights up; a click also fills the detail line.
    return {"text": text, "whitespace": show_ws}


CSS = """
.tokx-grid { display: grid; gap: 12px; }
.tokx-col { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px; min-width: 0; }
.tokx-head { margin-bottom: 6px; }
.tokx-stats { font-size: 0.85em; opacity: 0.8; }
.tokx-text { font-family: var(--font-mono); font-size: 15px; line-height: 2.1; white-space: pre-wrap; overflow-wrap: anywhere; }
.tokx-ids-label { font-size: 0.8em; opacity: 0.7; margin-top: 8px; }
.tokx-ids { font-family: var(--font-mono); font-size: 12px; line-height: 1.9; max-height: 160px; overflow-y: auto; }
.tokx-detail { font-family: var(--font-mono); font-size: 13px; padding: 6px 8px; margin-bottom: 8px; border-radius: 6px; background: var(--background-fill-secondary); min-height: 1.6em; }
.tok, .tid { border-radius: 3px; padding: 1px 0; margin-right: 1px; cursor: pointer; color: #111; }
.tid { padding: 1px 3px; }
.c0 { background: #c7dcf7; } .c1 { background: #fbd3b0; } .c2 { background: #c9ecc2; } .c3 { background: #f6c3cd; }
.c4 { background: #ddd0f3; } .c5 { background: #f5e6a3; } .c6 { background: #bfe9e6; } .c7 { background: #e6d3c3; }
.tok.diff { border-bottom: 2px dashed #c0392b; }
.tok.partial, .tok.byte_fallback { outline: 1px dotted #555; }
.tok.unknown { outline: 2px solid #c0392b; }
.hovered { box-shadow: 0 0 0 2px #444; }
.linked { box-shadow: 0 0 0 3px #e67e22; }
.selected { box-shadow: 0 0 0 3px #d35400; }
.ws, .ctl { opacity: 0.55; }
.byte { font-size: 0.75em; border: 1px solid #777; border-radius: 3px; padding: 0 2px; margin: 0 1px; }
.gap { opacity: 0.45; }
.bpe-summary { margin-bottom: 8px; }
.bpe-block { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px; margin-bottom: 10px; }
.bpe-title { font-weight: 600; margin-bottom: 4px; font-family: var(--font-mono); }
.bpe-row { font-family: var(--font-mono); margin: 3px 0; }
.bpe-step { display: inline-block; width: 6.5em; opacity: 0.7; }
.bpe-rank { margin-left: 10px; opacity: 0.75; font-size: 0.9em; }
.chip { display: inline-block; background: #e3e8ef; color: #111; border-radius: 3px; padding: 0 4px; margin: 1px; }
.chip.final { background: #c9ecc2; }
.pair .chip { background: #f5c26b; }
.pair { outline: 2px solid #d35400; border-radius: 4px; margin: 0 2px; }
"""
