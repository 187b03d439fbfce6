"""One module per concept tab. Each exposes TITLE, TAB_ID, CSS and render(demo, tab), and may
expose JS: a JavaScript function expression the page runs once on load (app.py calls them all).

render() builds the tab's components inside its gr.Tab and wires them; it gets the Blocks (for
demo.load) and its own gr.Tab (for .select, e.g. to compute only once the tab is opened). It returns
the controls a deep link may set, by short name ({"steps": steps_slider, ...}; see tabs/links.py).
Controls given elem_classes=["pg-advanced"] are hidden in presenter mode. A tab may define SHOW_ME:
presets that each show one phenomenon ({name: (caption, {control name: value})}, tabs/links.py).

To add a tab: write tabs/<concept>.py and add its module to TABS, in the order the tabs appear.
"""

from tabs import attention, diffusion, flow, gan, guidance, tokenizers, vae

TABS = [tokenizers, attention, vae, gan, diffusion, flow, guidance]
