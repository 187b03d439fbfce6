"""Deep links: a URL's query picks the tab and sets its key controls; "Copy link" writes the URL of what is on screen.

    http://127.0.0.1:7860/?tab=diffusion&sampler=ddim&steps=20&seed=3
    http://127.0.0.1:7860/?tab=flow&coupling=ot&presenter=1

Each tab's render() returns the controls a link may set, by name (a dict; names are short and unique
within the tab). app.py hands them to `wire`, which restores a link on page load and gives every tab
a "Copy link" row. A value a link cannot use (not one of the choices, outside a slider's range, not a
number) is ignored and named in a notice at the top of the page, never an error page.

Presets ride on the same mechanism: a tab may define SHOW_ME = {name: (caption, {control: value})},
values written as in a link. The "Show me…" menu of the tab's link row sets those controls and shows
the caption, which says what to press and what to look for.
"""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

import gradio as gr

TAB_KEY = "tab"
PRESENTER_KEY = "presenter"
MAX_TEXT = 2_000  # longer text in a link is cut to this
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _choices(component) -> list:
    return [choice[1] if isinstance(choice, (tuple, list)) else choice for choice in (component.choices or [])]


def parse_value(component, raw: str):
    """The value `raw` (text from a URL) means for `component`; ValueError with the reason if it cannot be used."""
    if isinstance(component, (gr.Dropdown, gr.Radio)):
        for choice in _choices(component):
            if str(choice) == raw:
                return choice
        raise ValueError("not one of the choices")
    if isinstance(component, gr.Checkbox):
        if raw.lower() in TRUE:
            return True
        if raw.lower() in FALSE:
            return False
        raise ValueError("not true or false")
    if isinstance(component, (gr.Slider, gr.Number)):
        try:
            number = float(raw)
        except ValueError:
            raise ValueError("not a number") from None
        if not math.isfinite(number):
            raise ValueError("not a finite number")
        low, high = getattr(component, "minimum", None), getattr(component, "maximum", None)
        if (low is not None and number < low) or (high is not None and number > high):
            raise ValueError(f"outside {low:g} to {high:g}")
        whole = (isinstance(component, gr.Slider) and float(component.step).is_integer()) or (
            isinstance(component, gr.Number) and component.precision == 0
        )
        if whole:
            if not number.is_integer():
                raise ValueError("not a whole number")
            return int(number)
        return number
    if isinstance(component, gr.Textbox):
        return raw[:MAX_TEXT]
    raise ValueError("cannot be set from a link")


def format_value(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def restore(query: Mapping[str, str], tabs: dict[str, dict[str, object]]) -> tuple[str | None, dict, bool, list[str]]:
    """What a link asks for: (tab id or None, {component: value}, presenter mode, notices about ignored parts)."""
    notices, values = [], {}
    presenter = str(query.get(PRESENTER_KEY, "")).lower() in TRUE
    tab = query.get(TAB_KEY)
    if tab is not None and tab not in tabs:
        notices.append(f"tab={tab!r} is not a tab here ({', '.join(tabs)})")
        tab = None
    controls = tabs.get(tab, {}) if tab else {}
    for key, raw in query.items():
        if key in (TAB_KEY, PRESENTER_KEY):
            continue
        if key not in controls:
            notices.append(f"{key!r} is not a setting of {'this tab' if tab else 'any tab without tab=...'}")
            continue
        try:
            values[controls[key]] = parse_value(controls[key], str(raw))
        except ValueError as err:
            notices.append(f"{key}={str(raw)[:40]!r} is {err}")
    return tab, values, presenter, notices


def link(base_url: str, tab: str, names: list[str], values: list, presenter: bool) -> str:
    query = {TAB_KEY: tab}
    query.update({name: format_value(value) for name, value in zip(names, values, strict=True) if value is not None})
    if presenter:
        query[PRESENTER_KEY] = "1"
    return base_url.split("?")[0].rstrip("/") + "/?" + urllib.parse.urlencode(query)


Presets = dict[str, tuple[str, dict[str, str]]]  # name: (caption, {control name: value as in a link})


@dataclass
class LinkRow:
    """A tab's row above its content: "Copy link", the link, and (if the tab has presets) "Show me…"."""

    button: gr.Button
    box: gr.Textbox
    preset: gr.Dropdown | None = None
    caption: gr.Markdown | None = None


def copy_row(presets: Presets | None = None, tab_id: str = "") -> LinkRow:
    row = LinkRow(None, None)  # filled below, inside the layout
    if presets:
        with gr.Row(elem_classes=["pg-preset-row"]):
            row.preset = gr.Dropdown(
                list(presets),
                value=None,
                label="Show me…",
                scale=1,
                elem_id=f"{tab_id}-preset",
                elem_classes=["pg-preset"],
            )
            row.caption = gr.Markdown(elem_id=f"{tab_id}-preset-caption")
    with gr.Row(elem_classes=["pg-link-row"]):
        row.button = gr.Button("Copy link to this view", size="sm", scale=0, elem_classes=["pg-copy-link"])
        row.box = gr.Textbox(
            show_label=False, container=False, interactive=False, buttons=["copy"], scale=4, elem_classes=["pg-link"]
        )
    return row


def preset_values(presets: Presets, name: str, controls: dict[str, object]) -> tuple[dict, str]:
    """{component: value} a preset sets, and its caption (a preset naming a control the tab lacks is a bug)."""
    if name not in presets:
        raise ValueError(f"Unknown preset {str(name)[:40]!r}; choose one of {', '.join(presets)}.")
    caption, settings = presets[name]
    return {controls[key]: parse_value(controls[key], raw) for key, raw in settings.items()}, f"**{name}.** {caption}"


COPY_JS = "(url) => { if (url && navigator.clipboard) { navigator.clipboard.writeText(url).catch(() => {}); } }"


def wire(
    demo: gr.Blocks,
    tabs_container: gr.Tabs,
    tabs: dict[str, dict[str, object]],
    rows: dict[str, LinkRow],
    presets: dict[str, Presets],
    presenter: gr.Checkbox,
    notice: gr.Markdown,
) -> None:
    """Restore a link on page load; make every tab's copy button write its link."""
    every = [component for controls in tabs.values() for component in controls.values()]

    def on_load(request: gr.Request):
        query = dict(request.query_params) if request is not None else {}
        tab, values, presenter_on, notices = restore(query, tabs)
        text = ("**Part of this link was ignored:** " + "; ".join(notices) + ".") if notices else ""
        return (
            gr.Tabs(selected=tab) if tab else gr.Tabs(),
            gr.update(value=True) if presenter_on else gr.update(),
            gr.update(value=text, visible=bool(text)),
            *(gr.update(value=values[c]) if c in values else gr.update() for c in every),
        )

    demo.load(on_load, None, [tabs_container, presenter, notice, *every], api_visibility="private")
    for tab_id, row in rows.items():
        controls = tabs.get(tab_id, {})
        names = list(controls)
        if row.preset is not None:

            def apply(name, tab_id=tab_id, controls=controls):
                if not name:
                    return (*(gr.update() for _ in controls), "")
                try:
                    values, caption = preset_values(presets[tab_id], name, controls)
                except ValueError as err:
                    raise gr.Error(str(err)) from None
                return (
                    *(gr.update(value=values[c]) if c in values else gr.update() for c in controls.values()),
                    caption,
                )

            row.preset.change(apply, row.preset, [*controls.values(), row.caption], api_name=f"preset_{tab_id}")

        def make_link(request: gr.Request, presenter_on, *values, tab_id=tab_id, names=names):
            base = str(request.request.base_url) if request is not None and request.request is not None else "/"
            return link(base, tab_id, names, list(values), bool(presenter_on))

        row.button.click(make_link, [presenter, *controls.values()], row.box, api_name=f"link_{tab_id}").then(
            None, row.box, None, js=COPY_JS
        )
