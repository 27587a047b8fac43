"""Training: it learns, it resumes after an interruption or a kill, and it refuses inconsistent resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

from core.config import get_settings
from model.__main__ import main
from model.training import TrainError

REPO = Path(__file__).resolve().parents[2]
CHANCE = 1 / 3  # three equally frequent brands
QUICK = dict(batch_size=8, image_size=64, weights="random", fast_path="on")


class InterruptAfter(keras.callbacks.Callback):
    """Simulates Ctrl-C right after an epoch's checkpoint was written."""

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epochs:
            raise KeyboardInterrupt


@pytest.mark.slow
def test_short_training_on_visibly_different_brands_beats_chance(trained_run):
    history = trained_run.result.history
    epochs = trained_run.options["epochs"]
    assert list(history["epoch"]) == list(range(1, epochs + 1))
    # margin: at least 0.75 validation accuracy against 1/3 by chance, i.e. 14 of the 18 val photos
    assert history["val_accuracy"].iloc[-1] >= CHANCE + 0.4
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]
    config = json.loads(trained_run.run.config.read_text())
    assert config["seed"] == 42 and config["fast_path"] is True and config["class_names"] == [
        "Rick Owens", "Versace", "Chanel"]
    # the thesis's 560,775 trainable parameters with a 3-way instead of a 6-way output layer
    assert config["parameters"]["trainable"] == 560_775 - (512 * 6 + 6) + (512 * 3 + 3)
    assert config["training"]["epochs_done"] == epochs
    assert trained_run.run.model.is_file()


@pytest.mark.slow
def test_interrupted_run_resumes_with_the_same_history(shapes_dataset, workspace, train_with):
    options = dict(variant="raw", data=str(shapes_dataset), epochs=4, **QUICK)
    with pytest.raises(KeyboardInterrupt):
        train_with(run="cut", **options, extra_callbacks=(InterruptAfter(2),))
    run_dir = get_settings().paths.run_dir("cut")
    before = pd.read_csv(run_dir / "history.csv")
    assert list(before["epoch"]) == [1, 2] and not (run_dir / "model.keras").exists()

    resumed = train_with(run="cut", **options)
    assert resumed.trained_now == 2 and resumed.epochs_done == 4
    after = pd.read_csv(run_dir / "history.csv")
    assert list(after["epoch"]) == [1, 2, 3, 4]
    pd.testing.assert_frame_equal(after.iloc[:2], before)

    # continuing, not restarting: the resumed run retraces the uninterrupted one
    straight = train_with(run="straight", **options).history
    np.testing.assert_allclose(after["loss"], straight["loss"], rtol=1e-4)
    np.testing.assert_allclose(after["val_loss"], straight["val_loss"], rtol=1e-4)

    again = train_with(run="cut", **options)
    assert again.trained_now == 0  # already complete: nothing to do
    with pytest.raises(TrainError, match="other settings"):
        train_with(run="cut", **{**options, "image_size": 96})


@pytest.mark.slow
def test_killed_cli_run_resumes_from_its_last_checkpoint(shapes_dataset, workspace):
    args = ["train", "--variant", "raw", "--data", str(shapes_dataset), "--run", "killed", "--batch-size", "8",
            "--image-size", "64", "--weights", "random", "--fast-path", "on", "--quiet"]
    latest = workspace / "runs" / "killed" / "checkpoints" / "latest.json"
    env = {**os.environ, "RUNWAY_LENS_WORKSPACE": str(workspace), "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "model", *args, "--epochs", "60"], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while not (latest.is_file() and json.loads(latest.read_text())["epoch"] >= 2):
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "no checkpoint within 180 s"
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = json.loads(latest.read_text())["epoch"]
    before = pd.read_csv(workspace / "runs" / "killed" / "history.csv")
    assert list(before["epoch"]) == list(range(1, done + 1))

    assert main([*args, "--epochs", str(done + 2)]) == 0
    after = pd.read_csv(workspace / "runs" / "killed" / "history.csv")
    assert list(after["epoch"]) == list(range(1, done + 3))
    pd.testing.assert_frame_equal(after.iloc[:done], before)
    assert (workspace / "runs" / "killed" / "model.keras").is_file()


@pytest.mark.slow
def test_end_to_end_path_with_options_trains_and_records_them(shapes_dataset, workspace, train_with):
    result = train_with(variant="nobg", data=str(shapes_dataset), epochs=2, batch_size=12, image_size=64,
                        weights="random", fast_path="off", early_stopping_patience=5, reduce_lr_patience=1,
                        class_weights="balanced", preprocess="vgg")
    assert result.run.name == "shapes-nobg"
    config = json.loads(result.run.config.read_text())
    assert config["variant"] == "nobg" and config["manifest"].endswith("nobg/manifest.csv")
    assert config["fast_path"] is False and config["preprocess"] == "vgg" and config["class_weights"] == "balanced"
    assert list(result.history["epoch"]) == [1, 2]
    assert result.history["learning_rate"].iloc[0] == pytest.approx(1e-3)
    state = json.loads(next((result.run.checkpoints).glob("epoch-0002/state.json")).read_text())
    assert set(state["callbacks"]) == {"early_stopping", "reduce_lr"}


def test_thesis_schedule_drops_the_rate_once_at_its_epoch():
    from model.checkpoints import ThesisLearningRateDrop

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    schedule = ThesisLearningRateDrop(drop_epoch=2, factor=0.9)
    schedule.set_model(model)
    rates = []
    for epoch in range(5):
        schedule.on_epoch_begin(epoch)
        rates.append(float(model.optimizer.learning_rate))
    np.testing.assert_allclose(rates, [1e-3, 1e-3, 9e-4, 9e-4, 9e-4], rtol=1e-6)


@pytest.mark.slow
def test_the_same_seed_gives_identical_weights_and_metrics(shapes_dataset, workspace, train_with):
    from model.network import load_saved_model

    options = dict(variant="raw", data=str(shapes_dataset), epochs=2, **QUICK)
    first = train_with(run="first", **options)
    second = train_with(run="second", **options)
    pd.testing.assert_frame_equal(first.history.drop(columns="seconds", errors="ignore"),
                                  second.history.drop(columns="seconds", errors="ignore"))
    for a, b in zip(load_saved_model(first.run.model).get_weights(), load_saved_model(second.run.model).get_weights(),
                    strict=True):
        np.testing.assert_array_equal(a, b)
