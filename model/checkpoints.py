"""Per-epoch checkpoints of a training run, so a killed run resumes where it stopped with the same history.

    checkpoints/epoch-0007/weights.npz    every variable of the model being fit except the frozen VGG16
                                          convs (which come back from the weights file), by layer name
    checkpoints/epoch-0007/optimizer.npz  the optimizer's variables (step, learning rate, Adam moments)
    checkpoints/epoch-0007/state.json     epochs done, history rows, early-stopping/plateau counters
    checkpoints/latest.json               which epoch folder is complete (written last)

An epoch folder is written under a temporary name and renamed whole; `latest.json` is replaced
atomically afterwards. A kill at any moment leaves the previous complete checkpoint in place.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from core.fileio import write_json_atomic
from model.network import vgg16_conv_names

LATEST = "latest.json"
HISTORY_COLUMNS = ("epoch", "accuracy", "loss", "val_accuracy", "val_loss", "learning_rate", "seconds")


def _resumable_variables(model: keras.Model) -> dict[str, keras.Variable]:
    """Variables keyed by layer name and position (Keras' own paths carry process-global counters)."""
    frozen = set(vgg16_conv_names())
    variables = {}
    for layer in model.layers:
        if layer.name in frozen and not layer.trainable:
            continue
        for position, variable in enumerate(layer.variables):
            variables[f"{layer.name}/{position}"] = variable
    return variables


def _learning_rate(model: keras.Model) -> float:
    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


def save_checkpoint(folder: Path, model: keras.Model, state: dict, keep: int = 1) -> Path:
    """Write epoch `state["epoch"]`'s checkpoint and point latest.json at it; drop older ones."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"epoch-{state['epoch']:04d}"
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=folder))
    try:
        np.savez(staging / "weights.npz", **{k: keras.ops.convert_to_numpy(v)
                                              for k, v in _resumable_variables(model).items()})
        optimizer_values = [keras.ops.convert_to_numpy(v) for v in model.optimizer.variables]
        np.savez(staging / "optimizer.npz", *optimizer_values)
        (staging / "state.json").write_text(json.dumps(state, indent=1))
        target = folder / name
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    write_json_atomic(folder / LATEST, {"epoch": state["epoch"], "folder": name})
    complete = sorted(p for p in folder.glob("epoch-*") if p.is_dir())
    for old in complete[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return target


def latest_state(folder: Path) -> dict | None:
    """The last complete checkpoint's state (with its folder under "_folder"), or None."""
    pointer = folder / LATEST
    if not pointer.is_file():
        return None
    latest = json.loads(pointer.read_text())
    epoch_folder = folder / latest["folder"]
    state = json.loads((epoch_folder / "state.json").read_text())
    state["_folder"] = str(epoch_folder)
    return state


def restore_checkpoint(model: keras.Model, state: dict) -> None:
    """Load a checkpoint's variables and optimizer state into a compiled `model` of the same layout."""
    folder = Path(state["_folder"])
    variables = _resumable_variables(model)
    with np.load(folder / "weights.npz") as saved:
        missing = sorted(set(variables) - set(saved.files))
        if missing:
            raise ValueError(f"checkpoint {folder} does not match the model (no values for {missing[:3]})")
        for key, variable in variables.items():
            variable.assign(saved[key])
    model.optimizer.build(model.trainable_variables)
    with np.load(folder / "optimizer.npz") as saved:
        values = [saved[f"arr_{i}"] for i in range(len(saved.files))]
    if len(values) != len(model.optimizer.variables):
        raise ValueError(f"checkpoint {folder} holds {len(values)} optimizer variables, the model has "
                         f"{len(model.optimizer.variables)}")
    for variable, value in zip(model.optimizer.variables, values, strict=True):
        variable.assign(value)


class EpochCheckpoint(keras.callbacks.Callback):
    """Checkpoint and history.csv after every epoch; restores callback counters on resume.

    Put it after EarlyStopping / ReduceLROnPlateau in the callback list, so it records their
    decisions for the epoch and restores their counters after their own on_train_begin resets them.
    """

    def __init__(self, folder: Path, state: dict, write_history, watched: dict[str, keras.callbacks.Callback]):
        super().__init__()
        self.folder, self.state, self.write_history, self.watched = folder, state, write_history, watched
        self._started = 0.0
        self._rate = 0.0

    def on_train_begin(self, logs=None):
        for name, callback in self.watched.items():
            for attribute, value in self.state.get("callbacks", {}).get(name, {}).items():
                setattr(callback, attribute, value)

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()
        self._rate = _learning_rate(self.model)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        row = {"epoch": epoch + 1, "learning_rate": self._rate, "seconds": round(time.perf_counter() - self._started, 3)}
        for column in ("accuracy", "loss", "val_accuracy", "val_loss"):
            row[column] = float(logs[column]) if column in logs else None
        self.state["history"] = [r for r in self.state.get("history", []) if r["epoch"] <= epoch] + [
            {column: row[column] for column in HISTORY_COLUMNS}
        ]
        self.state["epoch"] = epoch + 1
        self.state["callbacks"] = {
            name: {attr: _plain(getattr(callback, attr)) for attr in ("wait", "best", "cooldown_counter", "stopped_epoch")
                   if hasattr(callback, attr)}
            for name, callback in self.watched.items()
        }
        self.state["stopped_early"] = bool(getattr(self.model, "stop_training", False))
        save_checkpoint(self.folder, self.model, self.state)
        self.write_history(self.state["history"])


def _plain(value):
    return float(value) if isinstance(value, (np.floating, float)) else int(value) if isinstance(value, (np.integer, int)) else value


class ThesisLearningRateDrop(keras.callbacks.Callback):
    """Thesis 3.5: start at the initial rate and reduce it by 10% after the first 100 epochs.

    The drop happens once, when epoch `drop_epoch` (0-based) begins, so with the thesis's own
    100 epochs (0..99) it never fires: a faithful no-op. It multiplies the current rate, so it
    composes with ReduceLROnPlateau, and the rate is part of the checkpointed optimizer state.
    """

    def __init__(self, drop_epoch: int, factor: float):
        super().__init__()
        self.drop_epoch, self.factor = drop_epoch, factor

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.drop_epoch:
            self.model.optimizer.learning_rate.assign(_learning_rate(self.model) * self.factor)
