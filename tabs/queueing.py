"""How the server shares its cores between heavy and light requests (Gradio queue settings).

Sampling a batch of images (the diffusion, flow and guidance tabs' run buttons, a branch, a race,
a CFG sweep) keeps both cores of a small machine busy for seconds. Each such event would otherwise
get its own two slots (app.py's default), so a lecture hall could run six at once while a slider
waited behind them. They share one slot instead: the rest wait in Gradio's queue, which shows each
user their place, and light actions (a decode, a slider, a tokenization) keep their own slots.
Live training has its own line (core.live_slots).
"""

SAMPLING = {"concurrency_id": "image-sampling", "concurrency_limit": 1}
