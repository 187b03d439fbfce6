"""tabs.links: what a URL's query may set, what it ignores (with a notice), and links that round-trip."""

from __future__ import annotations

import urllib.parse

import gradio as gr
import pytest

from tabs import links


@pytest.fixture(scope="module")
def controls() -> dict:
    with gr.Blocks():
        return {
            "sampler": gr.Dropdown([("DDIM", "ddim"), ("DDPM", "ddpm")], value="ddim"),
            "data": gr.Radio(["mnist", "fashion"], value="mnist"),
            "steps": gr.Slider(1, 200, value=50, step=1),
            "eta": gr.Slider(0, 1, value=0, step=0.05),
            "seed": gr.Number(0, precision=0),
            "lr": gr.Number(1e-3),
            "field": gr.Checkbox(True),
            "text": gr.Textbox("hello"),
        }


@pytest.mark.parametrize(
    "name, raw, value",
    [
        ("sampler", "ddpm", "ddpm"),
        ("data", "fashion", "fashion"),
        ("steps", "20", 20),
        ("steps", "20.0", 20),
        ("eta", "0.35", 0.35),
        ("seed", "123", 123),
        ("lr", "0.0005", 0.0005),
        ("field", "0", False),
        ("field", "true", True),
        ("text", "a cat", "a cat"),
    ],
)
def test_a_usable_value_is_parsed_for_its_control(controls, name, raw, value):
    assert links.parse_value(controls[name], raw) == value


@pytest.mark.parametrize(
    "name, raw, reason",
    [
        ("sampler", "DDIM", "not one of the choices"),  # the label is not the value
        ("steps", "0", "outside 1 to 200"),
        ("steps", "2.5", "not a whole number"),
        ("steps", "nan", "not a finite number"),
        ("steps", "inf", "not a finite number"),
        ("seed", "1.5", "not a whole number"),
        ("lr", "fast", "not a number"),
        ("field", "maybe", "not true or false"),
    ],
)
def test_an_unusable_value_is_refused_with_the_reason(controls, name, raw, reason):
    with pytest.raises(ValueError, match=reason):
        links.parse_value(controls[name], raw)


def test_long_text_is_cut(controls):
    assert len(links.parse_value(controls["text"], "x" * 100_000)) == links.MAX_TEXT


def test_restore_picks_the_tab_sets_its_controls_and_names_what_it_ignored(controls):
    tabs = {"diffusion": controls, "flow": {}}
    query = {"tab": "diffusion", "steps": "12", "sampler": "nope", "bogus": "1", "presenter": "1"}
    tab, values, presenter, notices = links.restore(query, tabs)
    assert tab == "diffusion" and presenter
    assert values == {controls["steps"]: 12}
    assert any("sampler='nope' is not one of the choices" in n for n in notices)
    assert any("'bogus' is not a setting" in n for n in notices)


def test_restore_ignores_an_unknown_tab_and_its_settings():
    tab, values, presenter, notices = links.restore({"tab": "cifar", "steps": "3"}, {"diffusion": {}})
    assert tab is None and values == {} and not presenter and len(notices) == 2


def test_restore_of_no_query_changes_nothing():
    assert links.restore({}, {"diffusion": {}}) == (None, {}, False, [])


def test_a_link_restores_the_values_it_was_made_from(controls):
    names = list(controls)
    values = ["ddpm", "fashion", 33, 0.25, 7, 0.002, False, "two words & more"]
    url = links.link("http://host:7860/?old=1", "diffusion", names, values, presenter=True)
    assert url.startswith("http://host:7860/?tab=diffusion&")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    tab, restored, presenter, notices = links.restore(query, {"diffusion": controls})
    assert tab == "diffusion" and presenter and not notices
    assert [restored[controls[n]] for n in names] == values


# --- presets ride on the same controls ---


@pytest.mark.parametrize(
    "tab", [t for t in __import__("tabs").TABS if getattr(t, "SHOW_ME", None)], ids=lambda t: t.TAB_ID
)
def test_every_preset_of_every_tab_sets_controls_the_tab_has(tab):
    with gr.Blocks() as demo, gr.Tab(tab.TITLE) as container:
        controls = tab.render(demo, container)
    for name in tab.SHOW_ME:
        values, caption = links.preset_values(tab.SHOW_ME, name, controls)
        assert values and caption.startswith(f"**{name}.**")


def test_an_unknown_preset_is_refused(controls):
    with pytest.raises(ValueError, match="Unknown preset"):
        links.preset_values({"a": ("caption", {"steps": "3"})}, "b", controls)


def test_a_preset_value_outside_its_control_is_caught(controls):
    with pytest.raises(ValueError, match="outside"):
        links.preset_values({"a": ("caption", {"steps": "500"})}, "a", controls)
