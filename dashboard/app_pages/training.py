"""Training: accuracy and loss, training vs validation, for both variants (thesis figure 3.7)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import evidence
from dashboard import artifacts, figures, tables, ui

sel = ui.page_header(
    "Training", "Accuracy and loss per epoch, training vs validation, for both variants (thesis figure 3.7)."
)
chosen = ui.require_runs(sel, evaluated=False)

histories: dict[str, pd.DataFrame] = {}
for variant, run in chosen.items():
    history = ui.read_or_warn(artifacts.run_history, run)
    if history is None:
        continue
    if history.empty:
        st.warning(f"Run `{run.name}` has no epochs in its training history yet; `python -m model train` adds them.")
        continue
    histories[sel.label(variant)] = history

if not histories:
    st.stop()

ui.show_figure(
    figures.history_figure(histories),
    pd.concat([h.assign(run=label) for label, h in histories.items()], ignore_index=True),
    "training-history", "history",
)
st.caption(
    "The dotted green line marks the best epoch: the lowest validation loss (the weights a run keeps). " + ui.PNG_HINT
)

cols = st.columns(len(histories))
for col, (variant, run) in zip(cols, [(v, r) for v, r in chosen.items() if sel.label(v) in histories], strict=True):
    history = histories[sel.label(variant)]
    best = figures.best_epoch(history)
    row = history.loc[history["epoch"] == best].iloc[0] if best is not None else history.iloc[-1]
    config = ui.read_or_warn(artifacts.run_config, run)
    validated = tables.validation_photos(config.details if config else {})
    with col:
        st.markdown(f"**{sel.label(variant)}**")
        a, b, c = st.columns(3)
        a.metric("Epochs", int(history["epoch"].max()))
        b.metric("Best epoch", best if best is not None else "–")
        accuracy = row.get("val_accuracy", float("nan"))
        c.metric("Val accuracy there", f"{accuracy:.3f}")
        c.caption(evidence.interval_caption(accuracy, validated) or "validation photos unknown: no interval")

with st.expander("Training settings"):
    for variant, run in chosen.items():
        config = ui.read_or_warn(artifacts.run_config, run)
        if config is None:
            continue
        keep = {k: v for k, v in config.to_dict().items()
                if not isinstance(v, (dict, list)) or k in ("hyper_parameters", "fast_path")}
        st.markdown(f"**{sel.label(variant)}**")
        st.json(keep, expanded=False)
