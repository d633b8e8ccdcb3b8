"""Training callbacks: a rich progress bar over the steps, and the RL step log (they import transformers)."""

from __future__ import annotations

from rich.console import Console
from transformers import TrainerCallback


class RichProgress(TrainerCallback):
    """A rich progress bar over the trainer's steps, with the latest loss or reward beside it."""

    def __init__(self, description: str, console: Console | None = None):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.description = description
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), console=console or Console(stderr=True), transient=True)
        self.task = None

    def on_train_begin(self, args, state, control, **kwargs):
        self.progress.start()
        self.task = self.progress.add_task(self.description, total=state.max_steps, completed=state.global_step)

    def on_step_end(self, args, state, control, **kwargs):
        self.progress.update(self.task, completed=state.global_step)

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        shown = [f"{k} {logs[k]:.3g}" for k in ("loss", "reward", "kl") if isinstance(logs.get(k), (int, float))]
        if shown and self.task is not None:
            self.progress.update(self.task, description=f"{self.description} ({', '.join(shown)})")

    def on_train_end(self, args, state, control, **kwargs):
        self.progress.stop()


class StepLog(TrainerCallback):
    """The logged values at every step that logs a reward, under their names in `logged` ({log key: name}),
    for the report and the plot."""

    def __init__(self, logged: dict[str, str]):
        self.logged = logged
        self.rows: list[dict] = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "reward" in logs:
            self.rows.append({"step": state.global_step,
                              **{name: logs.get(key) for key, name in self.logged.items()}})
