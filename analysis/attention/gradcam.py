"""Grad-CAM beside the learned attention map, and the attention branch's randomisation sanity check.

Grad-CAM (Selvaraju et al., ICCV 2017) on the flat functional model, for the predicted class:
one model outputs the chosen conv layer (`block5_conv3` by default) and the input of the
`predictions` layer; under a `tf.GradientTape` the class score is the pre-softmax logit
(x · W + b of the predictions layer, as the paper prescribes: softmax gradients vanish when the
model is confident), its gradient is averaged over the grid to weight the layer's channels, and
the ReLU of the weighted sum is the map. Batches are exact: images do not interact at inference.
Given a contrast class, the score is the difference of the two logits (a contrastive Grad-CAM:
what speaks for one class rather than the other), which `analysis.identity` uses for rivals.

Agreement with the attention map is measured where both exist, on the coarser of the two grids
(block5_conv3 is 14×14 at 224 px, the attention map 28×28): the attention map is area-averaged
down, nothing is invented by upsampling. Two scores: Spearman's rank correlation over the cells,
and the top-k% overlap, |top-k%(attention) ∩ top-k%(Grad-CAM)| / |top-k%| (chance: k%).

Sanity check (Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018): the attention
branch's weights (attention_conv, attention_score) are re-initialised with their own
initialisers and the maps recomputed; a map that explains the model must change. Similarity of
the maps before and after is reported as Spearman's rank correlation and SSIM, averaged over images.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from scipy import stats

from analysis.attention import GRADCAM_DEFAULT_LAYER
from analysis.attention.masks import to_grid
from model.network import ATTENTION_CONV, ATTENTION_SCORE, PREDICTIONS, attention_model

DEFAULT_LAYER = GRADCAM_DEFAULT_LAYER
ATTENTION_BRANCH = (ATTENTION_CONV, ATTENTION_SCORE)


class GradCam:
    """Grad-CAM for one model and layer; `__call__` maps a batch of 0..255 RGB inputs to maps."""

    def __init__(self, model: keras.Model, layer: str = DEFAULT_LAYER):
        try:
            target = model.get_layer(layer)
        except ValueError:
            raise ValueError(f"the model has no layer {layer!r} (e.g. block5_conv3, block4_conv3)") from None
        head = model.get_layer(PREDICTIONS)
        self.layer = layer
        self._kernel, self._bias = head.kernel, head.bias
        self._model = keras.Model(model.inputs, [target.output, head.input], name=f"gradcam_{layer}")
        # Traced once per batch shape: a graph runs VGG16's forward and backward pass far faster than eager ops.
        self._compute = tf.function(self._maps, reduce_retracing=True)

    def _maps(self, inputs: tf.Tensor, requested: tf.Tensor, contrast: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        with tf.GradientTape() as tape:
            activations, head_input = self._model(inputs, training=False)
            logits = tf.matmul(head_input, self._kernel) + self._bias
            chosen = tf.where(requested >= 0, requested, tf.argmax(logits, axis=1))  # -1: the predicted class
            scores = tf.gather(logits, chosen, axis=1, batch_dims=1)
            # A contrast class c' explains "why c rather than c'": the score is the logit difference.
            rival = tf.gather(logits, tf.maximum(contrast, 0), axis=1, batch_dims=1)
            score = tf.reduce_sum(scores - tf.where(contrast >= 0, rival, tf.zeros_like(rival)))
        gradients = tape.gradient(score, activations)
        weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)  # α_k^c: pooled gradients per channel
        return tf.nn.relu(tf.reduce_sum(weights * activations, axis=-1)), chosen

    def __call__(self, images: np.ndarray, class_index: np.ndarray | None = None,
                 contrast_index: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(maps (n, h, w) float32 >= 0, class used (n,)); the predicted class unless `class_index` is given.

        With `contrast_index` the score is the logit of the class minus that of the contrast class
        (-1: none), so the map shows what speaks for the class rather than for its rival.
        """
        images = np.asarray(images, dtype=np.float32)
        requested = np.full(len(images), -1, np.int64) if class_index is None else np.asarray(class_index, np.int64)
        contrast = np.full(len(images), -1, np.int64) if contrast_index is None else np.asarray(contrast_index, np.int64)
        maps, chosen = self._compute(tf.convert_to_tensor(images), tf.convert_to_tensor(requested),
                                     tf.convert_to_tensor(contrast))
        return maps.numpy().astype(np.float32), chosen.numpy().astype(np.int64)


def common_grid(attention: np.ndarray, cam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both (h, w) maps on the coarser of their two grids (area averaging)."""
    attention, cam = np.asarray(attention, np.float32), np.asarray(cam, np.float32)
    if attention.size >= cam.size:
        return to_grid(attention, cam.shape), cam
    return attention, to_grid(cam, attention.shape)


def top_k_cells(heat: np.ndarray, k_percent: float) -> np.ndarray:
    """Flat indices of the top k% cells (at least one); ties keep the earlier cell."""
    flat = np.asarray(heat, dtype=np.float64).ravel()
    k = max(1, int(round(flat.size * k_percent / 100.0)))
    return np.argsort(-flat, kind="stable")[:k]


def agreement(attention: np.ndarray, cam: np.ndarray, k_percent: float = 10.0) -> tuple[float, float]:
    """(Spearman rank correlation, top-k% overlap) of two maps; NaN, NaN when either is constant."""
    attention, cam = common_grid(attention, cam)
    if np.ptp(attention) == 0 or np.ptp(cam) == 0:
        return float("nan"), float("nan")  # no ranking to compare (e.g. Grad-CAM all zero after the ReLU)
    rho = float(stats.spearmanr(attention.ravel(), cam.ravel()).statistic)
    top_a, top_c = top_k_cells(attention, k_percent), top_k_cells(cam, k_percent)
    return rho, len(np.intersect1d(top_a, top_c)) / len(top_a)


# --------------------------------------------------------------------------- sanity check


def _reinitialised(variable: keras.Variable, initializer, seed: int) -> np.ndarray:
    config = initializer.get_config()
    if "seed" in config:
        config["seed"] = seed
    fresh = type(initializer).from_config(config)
    return np.asarray(fresh(tuple(variable.shape), dtype=variable.dtype))


def randomise_attention_branch(model: keras.Model, seed: int = 0) -> list[list[np.ndarray]]:
    """Re-initialise the attention branch in place; return the original weights (for `restore_weights`)."""
    saved = []
    for offset, name in enumerate(ATTENTION_BRANCH):
        layer = model.get_layer(name)
        saved.append([np.asarray(w) for w in layer.get_weights()])
        layer.kernel.assign(_reinitialised(layer.kernel, layer.kernel_initializer, seed + 2 * offset))
        if layer.bias is not None:
            layer.bias.assign(_reinitialised(layer.bias, layer.bias_initializer, seed + 2 * offset + 1))
    return saved


def restore_weights(model: keras.Model, saved: list[list[np.ndarray]]) -> None:
    for name, weights in zip(ATTENTION_BRANCH, saved, strict=True):
        model.get_layer(name).set_weights(weights)


def map_similarity(before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair of (n, h, w) maps: Spearman rank correlation and SSIM (on min-max normalised maps)."""
    from skimage.metrics import structural_similarity

    rhos, ssims = [], []
    for a, b in zip(np.asarray(before, np.float64), np.asarray(after, np.float64), strict=True):
        constant = np.ptp(a) == 0 or np.ptp(b) == 0
        rhos.append(np.nan if constant else stats.spearmanr(a.ravel(), b.ravel()).statistic)
        side = min(a.shape)
        window = min(7, side if side % 2 else side - 1)  # SSIM's window must be odd and fit the map
        if window < 3:
            ssims.append(np.nan)
            continue
        a01, b01 = _min_max(a), _min_max(b)
        ssims.append(structural_similarity(a01, b01, data_range=1.0, win_size=window))
    return np.asarray(rhos, dtype=np.float64), np.asarray(ssims, dtype=np.float64)


def _min_max(heat: np.ndarray) -> np.ndarray:
    low, high = heat.min(), heat.max()
    return (heat - low) / (high - low) if high > low else np.zeros_like(heat)


def sanity_check(model: keras.Model, images: np.ndarray, seed: int = 0, batch_size: int = 16) -> dict:
    """Attention maps of `images` before and after randomising the attention branch, and their similarity.

    Returns {"spearman": mean rho, "ssim": mean SSIM, "n": images, "before", "after"}; the model's
    weights are restored before returning.
    """
    if not len(images):
        raise ValueError("the sanity check needs at least one image")
    companion = attention_model(model)

    def maps_of() -> np.ndarray:
        return np.concatenate([
            np.asarray(companion.predict_on_batch(np.asarray(images[i:i + batch_size], np.float32))["attention"])
            for i in range(0, len(images), batch_size)
        ])

    before = maps_of()
    saved = randomise_attention_branch(model, seed)
    try:
        after = maps_of()
    finally:
        restore_weights(model, saved)
    rhos, ssims = map_similarity(before, after)
    return {
        "spearman": float(np.nanmean(rhos)) if np.isfinite(rhos).any() else float("nan"),
        "ssim": float(np.nanmean(ssims)) if np.isfinite(ssims).any() else float("nan"),
        "n": int(len(images)),
        "before": before,
        "after": after,
    }


def explain_photo(analyser, image, cam: GradCam | None = None, k_percent: float = 10.0) -> dict:
    """Attention and Grad-CAM of one photo (a PIL image) for the dashboard.

    analyser: a `model.predict.Analyser`; cam: a `GradCam` on its model (build it once and reuse it).
    Returns {"analysis", "attention", "gradcam", "spearman", "topk_overlap", "layer"}.
    """
    cam = cam or GradCam(analyser.model)
    analysis = analyser.analyse(image)
    heat = cam(analysis.model_input[None])[0][0]
    rho, overlap = agreement(analysis.attention, heat, k_percent)
    return {"analysis": analysis, "attention": analysis.attention, "gradcam": heat, "spearman": rho,
            "topk_overlap": overlap, "layer": cam.layer}
