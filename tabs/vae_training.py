"""The VAE tab's live training handlers: one fresh 2-D VAE per browser session.

The session's trainer (core.vae_live.LiveVAE) lives in a gr.State; Train streams frames from a
generator handler, Stop sets the session's event (checked before every training step), and the
State's delete_callback stops the run when the learner leaves.
"""

from __future__ import annotations

import threading

import gradio as gr

from core import images
from core.live_slots import LIVE_TRAINING, waiting_message
from core.vae_live import LiveVAE
from tabs import vae_view as view
from tabs.vae_handlers import checked_seed


class LiveSession:
    """One browser session's live VAE and the event its Stop button sets."""

    def __init__(self) -> None:
        self.trainer: LiveVAE | None = None
        self.stop = threading.Event()


def close_session(session: LiveSession | None) -> None:  # gr.State's delete_callback: the user left
    if session is not None:
        session.stop.set()
        session.trainer = None


def train_live(session: LiveSession | None, dataset: str, beta, epochs, seed):
    session = session or LiveSession()
    seed = checked_seed(seed)
    try:
        beta = float(beta)
        epochs = float(epochs)
    except (TypeError, ValueError):
        raise gr.Error("Beta and epochs must be numbers.") from None
    if not 0 <= beta <= 20:
        raise gr.Error("Choose beta between 0 and 20.")
    if dataset not in images.DATASETS:
        raise gr.Error(f"Unknown data set {dataset!r}; choose mnist or fashion.")
    session.stop.clear()
    # hand the session to the browser before anything slow (a process's first optimizer imports
    # torch._dynamo, ~3 s), so a Stop pressed at once finds it
    yield session, gr.update(), gr.update(), "Starting…"
    trainer = session.trainer
    if trainer is None or trainer.dataset != dataset or trainer.seed != seed:
        try:
            trainer = session.trainer = LiveVAE(dataset=dataset, seed=seed, beta=beta)
        except ValueError as err:
            raise gr.Error(str(err)) from None
    trainer.beta = beta
    class_names = images.info(dataset).class_names
    ticket = LIVE_TRAINING.join()
    try:
        for position in ticket.wait(session.stop):
            yield session, gr.update(), gr.update(), waiting_message(position, LIVE_TRAINING.capacity)
        if not ticket.admitted:
            yield session, gr.update(), gr.update(), "Stopped before training began: you left the line."
            return
        for frame in trainer.run(epochs, stop=session.stop):
            if session.trainer is not trainer:  # Reset dropped this model mid-run: its last frame would undo the Reset
                return
            status = (
                f"Step {frame.step:,} (epoch {frame.epoch:.1f}) in {frame.seconds:.1f} s this run, β = {beta:g}."
                + (f" Ended early: {frame.stopped}." if frame.stopped else "")
                + (" Done." if frame.done and not frame.stopped else "")
            )
            if frame.history:
                last = frame.history[-1]
                status += (
                    f" Last batch: reconstruction {last['reconstruction']:.1f}, KL {last['kl']:.1f}, "
                    f"total {last['loss']:.1f} nats."
                )
            figure = view.latent_map(
                frame.latents, frame.labels, class_names, f"Latent means of 1,000 test images, step {frame.step}"
            )
            yield session, view.losses_figure(frame.history), figure, status
    except ValueError as err:
        raise gr.Error(str(err)) from None
    finally:
        ticket.leave()


def stop_live(session: LiveSession | None) -> None:
    """Ask the running loop to end; it checks before every step and sends its final frame itself."""
    if session is not None:
        session.stop.set()


def reset_live(session: LiveSession | None):
    if session is not None:
        session.stop.set()
        session.trainer = None
    return session, None, None, "Reset: the next run starts from fresh random weights."
