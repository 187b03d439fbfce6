"""HTML and table adapters for the tokenizer tab: encodings in, markup and rows out. No compute.

The comparison markup carries each token's character span in `data-s` / `data-e`; the tab's
`COMPARE_JS` uses them to light up the same characters in every column when a token is hovered
or clicked, and to fill the detail line with the token's id, piece and bytes.
"""

from __future__ import annotations

import html
import json
import re

from core.bpe import PretokenReplay, TrainedBPE
from core.tokenizers import Encoding, Token

RENDER_CHARS = 3_000  # tokens starting past this character are counted but not drawn
PALETTE_SIZE = 8
_ESCAPED_BYTE = range(0xDC80, 0xDD00)  # 'surrogateescape' maps an undecodable byte b to U+DC00+b


_NEEDS_DRAWING = re.compile("[\x00-\x20\x7f-\x9f\udc80-\udcff]")  # controls, whitespace, lone bytes


def _draw(char: str, show_whitespace: bool) -> str:
    code = ord(char)
    if code in _ESCAPED_BYTE:  # a lone byte of a character split across tokens
        return f'<span class="byte">{code - 0xDC00:02X}</span>'
    if char == "\n":
        return '<span class="ws">↵</span><br>' if show_whitespace else "<br>"
    if char == "\t":
        return '<span class="ws">→</span>\t' if show_whitespace else "\t"
    if char == " ":
        return '<span class="ws">·</span>' if show_whitespace else " "
    # other control characters: their Unicode control picture
    picture = chr(0x2400 + code) if code < 0x20 else "␡" if code == 0x7F else f"U+{code:04X}"
    return f'<span class="ctl">{picture}</span>'


def visible(text: str, show_whitespace: bool) -> str:
    """Escape `text` for HTML, drawing control characters (and optionally whitespace) visibly."""
    escaped = html.escape(text, quote=False)  # touches only & < >, none of which _draw handles
    return _NEEDS_DRAWING.sub(lambda m: _draw(m.group(), show_whitespace), escaped)


def _token_spans(index: int, token: Token, differs: bool, show_ws: bool) -> tuple[str, str]:
    """The token's coloured box in the text, and its id box; both carry the same span and index."""
    classes = (
        f"c{index % PALETTE_SIZE}" + (" diff" if differs else "") + ("" if token.kind == "normal" else f" {token.kind}")
    )
    attrs = f'data-s="{token.start}" data-e="{token.end}" data-i="{index}"'
    body = visible(token.raw.decode("utf-8", "surrogateescape"), show_ws) or "∅"
    return (
        f'<span class="tok {classes}" {attrs}>{body}</span>',
        f'<span class="tid {classes}" {attrs}>{token.id}</span>',
    )


def _token_details(tokens: list[Token]) -> str:
    """[id, piece, hex bytes, kind] per token as escaped JSON: the browser builds the detail line."""
    rows = [[t.id, t.piece, t.raw.hex(" ").upper(), t.kind.replace("_", " ")] for t in tokens]
    return html.escape(json.dumps(rows, ensure_ascii=False), quote=True)


def stats_line(encoding: Encoding) -> str:
    return (
        f"{encoding.n_tokens:,} tokens · {encoding.chars_per_token:.2f} chars/token · "
        f"{encoding.bytes_per_token:.2f} bytes/token · {encoding.n_byte_fallback} byte-fallback · "
        f"{encoding.n_unknown} unknown"
    )


def comparison_html(encodings: list[Encoding], differing: list[set[int]], show_whitespace: bool) -> str:
    """Side-by-side columns of colour-coded tokens, their ids, and a stats line per tokenizer."""
    columns = []
    for encoding, diff in zip(encodings, differing, strict=True):
        text, cursor, spans, ids = encoding.text, 0, [], []
        for index, token in enumerate(encoding.tokens):
            if token.start >= RENDER_CHARS:
                break
            if token.start > cursor:  # characters no token stands for (BERT and CLIP drop spaces)
                spans.append(f'<span class="gap">{visible(text[cursor : token.start], show_whitespace)}</span>')
            token_box, id_box = _token_spans(index, token, index in diff, show_whitespace)
            spans.append(token_box)
            ids.append(id_box)
            cursor = max(cursor, token.end)
        if cursor < min(len(text), RENDER_CHARS):
            spans.append(f'<span class="gap">{visible(text[cursor:RENDER_CHARS], show_whitespace)}</span>')
        columns.append(
            f'<div class="tokx-col" data-key="{html.escape(encoding.key)}" data-title="{html.escape(encoding.title)}" data-n="{encoding.n_tokens}" '
            f'data-tokens="{_token_details(encoding.tokens[: len(ids)])}">'
            f'<div class="tokx-head"><b>{html.escape(encoding.title)}</b><br>'
            f'<span class="tokx-stats">{stats_line(encoding)}</span></div>'
            f'<div class="tokx-text">{"".join(spans)}</div>'
            f'<div class="tokx-ids-label">token ids</div><div class="tokx-ids">{" ".join(ids)}</div></div>'
        )
    cut = max((e.n_chars for e in encodings), default=0) > RENDER_CHARS
    note = f" Only the first {RENDER_CHARS:,} characters are drawn; the counts cover the whole text." if cut else ""
    return (
        '<div class="tokx">'
        '<div class="tokx-detail">Hover or click a token: the same characters light up in every tokenizer. '
        f"Dashed underline: this tokenizer splits that span differently from another one.{note}</div>"
        f'<div class="tokx-grid" style="grid-template-columns: repeat({len(columns)}, minmax(0, 1fr))">'
        f"{''.join(columns)}</div></div>"
    )


def density_figure(table: dict[str, dict[str, float]]):
    """Grouped bars: tokens per 100 characters of each sample text ({tokenizer title: {sample: value}})."""
    import plotly.graph_objects as go

    figure = go.Figure(
        [
            go.Bar(name=title, x=list(row), y=list(row.values()), hovertemplate="%{y:.1f} tokens / 100 chars")
            for title, row in table.items()
        ]
    )
    figure.update_layout(
        barmode="group",
        title="Tokens per 100 characters (lower = fewer tokens for the same text)",
        yaxis_title="tokens per 100 characters",
        font={"size": 15},
        height=520,
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 60, "l": 60, "r": 20, "b": 40},
    )
    return figure


STATS_HEADERS = ["tokenizer", "tokens", "chars/token", "bytes/token", "byte-fallback", "unknown", "vocab size"]


def stats_rows(encodings: list[Encoding], vocab_sizes: list[int]) -> list[list]:
    return [
        [
            e.title,
            e.n_tokens,
            round(e.chars_per_token, 3),
            round(e.bytes_per_token, 3),
            e.n_byte_fallback,
            e.n_unknown,
            v,
        ]
        for e, v in zip(encodings, vocab_sizes, strict=True)
    ]


TOKEN_TABLE_HEADERS = ["#", "token", "id", "bytes (hex)", "characters", "kind"]
TOKEN_TABLE_ROWS = 2_000


def token_rows(encoding: Encoding) -> list[list]:
    return [
        [i + 1, t.piece, t.id, " ".join(f"{b:02X}" for b in t.raw), f"{t.start}–{t.end}", t.kind.replace("_", " ")]
        for i, t in enumerate(encoding.tokens[:TOKEN_TABLE_ROWS])
    ]


def _chip(symbol: str, extra: str = "") -> str:
    return f'<span class="chip{extra}">{visible(symbol, True)}</span>'


def replay_html(title: str, replays: list[PretokenReplay]) -> str:
    """Each pre-token's merges, one row per step, the merging pair highlighted."""
    blocks = []
    for replay in replays:
        rows = [
            f'<div class="bpe-row"><span class="bpe-step">start</span>{"".join(_chip(s) for s in replay.start)}</div>'
        ]
        for n, step in enumerate(replay.steps, 1):
            chips = []
            for i, symbol in enumerate(step.parts):
                if i == step.index:
                    chips.append(f'<span class="pair">{_chip(symbol)}{_chip(step.parts[i + 1])}</span>')
                elif i != step.index + 1:
                    chips.append(_chip(symbol))
            rows.append(
                f'<div class="bpe-row"><span class="bpe-step">merge {n}</span>{"".join(chips)}'
                f'<span class="bpe-rank">→ {visible(step.merged, True)} · rank {step.rank:,}</span></div>'
            )
        final = "".join(_chip(s, " final") + f"<sub>{i}</sub>" for s, i in zip(replay.final, replay.ids, strict=True))
        rows.append(f'<div class="bpe-row"><span class="bpe-step">tokens</span>{final}</div>')
        blocks.append(
            f'<div class="bpe-block"><div class="bpe-title">pre-token {visible(replay.pretoken, True)}: '
            f"{len(replay.steps)} merges → {len(replay.final)} token(s)</div>{''.join(rows)}</div>"
        )
    total = sum(len(r.final) for r in replays)
    return (
        f'<div class="bpe"><div class="bpe-summary">{html.escape(title)}: {len(replays)} pre-token(s), '
        f"{sum(len(r.steps) for r in replays)} merges, {total} token(s). Each step merges the adjacent pair "
        "learned earliest in training (lowest rank).</div>" + "".join(blocks) + "</div>"
    )


MERGE_HEADERS = ["rank", "left", "right", "merged"]


def merge_rows(trained: TrainedBPE, limit: int = 500) -> list[list]:
    return [[rank, left, right, left + right] for rank, (left, right) in enumerate(trained.merges[:limit])]


# Runs in the browser on every comparison (gr.HTML js_on_load): hover and click highlighting across columns.
COMPARE_JS = """
const mark = (event, cls) => {
  const hit = event.target.closest('.tok, .tid');
  if (!hit) return;
  const s = +hit.dataset.s, e = +hit.dataset.e;
  element.querySelectorAll('.' + cls).forEach(x => x.classList.remove(cls));
  element.querySelectorAll('.tok, .tid').forEach(x => {
    const xs = +x.dataset.s, xe = +x.dataset.e;
    if ((xs < e && s < xe) || (xs === s && xe === e)) x.classList.add(cls);
  });
  if (cls === 'linked') {
    element.querySelectorAll('.selected').forEach(x => x.classList.remove('selected'));
    hit.classList.add('selected');
    const column = hit.closest('.tokx-col');
    column._tokens = column._tokens || JSON.parse(column.dataset.tokens);
    const [id, piece, hex, kind] = column._tokens[+hit.dataset.i];
    const detail = element.querySelector('.tokx-detail');
    if (detail) detail.textContent = `${column.dataset.title} · token ${+hit.dataset.i + 1} of ${column.dataset.n}`
      + ` · id ${id} · piece ${JSON.stringify(piece)} · bytes ${hex || 'none'} · characters ${s}–${e}`
      + (kind === 'normal' ? '' : ` · ${kind}`);
  }
};
element.addEventListener('click', event => mark(event, 'linked'));
element.addEventListener('mouseover', event => mark(event, 'hovered'));
"""


# --- the exported picture (PNG) of the comparison ---

PICTURE_CHARS = 600  # characters drawn per tokenizer in the PNG (the counts cover the whole text)
PICTURE_COLUMN = 380  # pixels per tokenizer column
_PALETTE_RGB = ("#c7dcf7", "#fbd3b0", "#c9ecc2", "#f6c3cd", "#ddd0f3", "#f5e6a3", "#bfe9e6", "#e6d3c3")  # = CSS .c0-.c7


def _font(size: int):
    """DejaVu Sans where the system has it (wide Unicode coverage), else Pillow's built-in font."""
    from PIL import ImageFont

    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size)


def _picture_text(raw: bytes, show_whitespace: bool) -> str:
    """A token's characters as the PNG draws them: like the HTML, with lone bytes as hex."""
    out = []
    for char in raw.decode("utf-8", "surrogateescape"):
        code = ord(char)
        if code in _ESCAPED_BYTE:
            out.append(f"<{code - 0xDC00:02X}>")
        elif char == " ":
            out.append("·" if show_whitespace else " ")
        elif char == "\n":
            out.append("↵" if show_whitespace else "")
        elif char == "\t":
            out.append("→" if show_whitespace else " ")
        elif code < 0x20 or 0x7F <= code <= 0x9F:
            out.append(f"U+{code:04X}")
        else:
            out.append(char)
    return "".join(out) or "∅"


def comparison_picture(encodings: list[Encoding], show_whitespace: bool):
    """The comparison as an RGB array: one column per tokenizer, its title and counts, its tokens as
    coloured boxes in text order (a newline in the text starts a new line)."""
    import numpy as np
    from PIL import Image, ImageDraw

    font, bold = _font(14), _font(15)
    line, pad = 22, 8
    columns = []
    for encoding in encodings:
        canvas = Image.new("RGB", (PICTURE_COLUMN, 4000), (255, 255, 255))
        draw = ImageDraw.Draw(canvas)
        draw.text((pad, 4), encoding.title, fill=(0, 0, 0), font=bold)
        draw.text((pad, 24), stats_line(encoding), fill=(90, 90, 90), font=_font(11))
        x, y = pad, 48
        for index, token in enumerate(encoding.tokens):
            if token.start >= PICTURE_CHARS or y > 4000 - 2 * line:
                draw.text((pad, y + line), f"… {encoding.n_tokens - index:,} more tokens", fill=(90, 90, 90), font=font)
                y += line
                break
            label = _picture_text(token.raw, show_whitespace)
            width = int(draw.textlength(label, font=font)) + 6
            if x + width > PICTURE_COLUMN - pad and x > pad:
                x, y = pad, y + line
            draw.rectangle((x, y, x + width - 1, y + line - 4), fill=_PALETTE_RGB[index % PALETTE_SIZE])
            draw.text((x + 3, y + 2), label, fill=(0, 0, 0), font=font)
            x += width + 2
            if b"\n" in token.raw:
                x, y = pad, y + line
        columns.append(np.asarray(canvas.crop((0, 0, PICTURE_COLUMN, y + line + pad))))
    height = max(c.shape[0] for c in columns)
    padded = [np.pad(c, ((0, height - c.shape[0]), (0, 4), (0, 0)), constant_values=255) for c in columns]
    return np.hstack(padded)
