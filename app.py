"""GenAI Playground: one Gradio Blocks app, one tab per concept (see tabs/ and core/).

Run `python app.py` (HOST and PORT from the environment, default 127.0.0.1:7860).
Nothing heavy happens at import: models and tokenizers load on first use.
"""

from __future__ import annotations

import os
import sys


def _restart_with_the_c_allocator() -> None:
    """Run this script again with PYTHONMALLOC=malloc (Linux), before anything heavy is imported.

    Python's own small-object allocator keeps each of its arenas while a single object in it lives,
    so the objects of a lecture hall's closed sessions left their arenas behind: 200 sessions opened
    and closed took the server from 390 MB to 534 MB for good. With the C allocator, which
    tabs/sessions.py asks to hand freed memory back (malloc_trim), it returned to 404 MB from a
    394 MB baseline (tests/api/test_memory.py). A PYTHONMALLOC set by the user is kept.
    """
    if sys.platform != "linux" or "PYTHONMALLOC" in os.environ:
        return
    os.environ["PYTHONMALLOC"] = "malloc"
    os.execv(sys.executable, sys.orig_argv)  # the same interpreter options and arguments; the same PID


if __name__ == "__main__":
    _restart_with_the_c_allocator()

import gradio as gr  # noqa: E402 (after the restart above, which must come before heavy imports)

from tabs import TABS, bertviz_view, gradio_fixes, header, links, sessions  # noqa: E402

CACHE_CLEANUP = (600, 3600)  # (how often, how old) in seconds
MAX_UPLOAD = "2mb"  # uploads are drawings and small images; anything larger is refused by the server


def build_app() -> gr.Blocks:
    gradio_fixes.apply()  # identical pictures returned at once no longer break each other's downloads
    gr.set_static_paths(bertviz_view.static_paths())  # only the vendored d3/jQuery the BertViz views load
    # Files Gradio caches for the browser (exports, uploads) are deleted an hour after they were made.
    with gr.Blocks(title=header.TITLE, delete_cache=CACHE_CLEANUP) as demo:
        presenter, link_notice = header.render(demo)
        linked, copy_rows = {}, {}
        with gr.Tabs() as tabs_container:
            for tab in TABS:
                with gr.Tab(tab.TITLE, id=tab.TAB_ID) as container:
                    copy_rows[tab.TAB_ID] = links.copy_row(getattr(tab, "SHOW_ME", None), tab.TAB_ID)
                    linked[tab.TAB_ID] = tab.render(demo, container) or {}
        presets = {tab.TAB_ID: getattr(tab, "SHOW_ME", {}) for tab in TABS}
        links.wire(demo, tabs_container, linked, copy_rows, presets, presenter, link_notice)
        sessions.register(demo)  # a closed page's state is freed after a minute, not an hour
    # Heavy work waits in the queue (with a visible position) instead of piling onto 2 cores.
    demo.queue(default_concurrency_limit=2, max_size=64)
    return demo


def _page_script() -> str:
    """One page-load script calling every tab's optional JS (a function expression) in turn."""
    parts = [f"({tab.JS})();" for tab in TABS if getattr(tab, "JS", "")]
    return "() => {\n" + "\n".join(parts) + "\n}"


# In Gradio 6 css/js/head/theme belong to launch(), so every way of starting the app uses these.
LAUNCH_OPTIONS = {
    "css": "\n".join([header.CSS, *(tab.CSS for tab in TABS)]),
    "js": _page_script(),
    "max_file_size": MAX_UPLOAD,
    # Every failure reaches the user as a sentence: our handlers raise gr.Error with one, and Gradio's own
    # input checks (a number that is not a number, a file that is not a picture) say what they expected.
    "show_error": True,
}


def main() -> None:
    build_app().launch(
        server_name=os.environ.get("HOST", "127.0.0.1"),
        server_port=int(os.environ.get("PORT", "7860")),
        **LAUNCH_OPTIONS,
    )


if __name__ == "__main__":
    main()
