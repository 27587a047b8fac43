"""The network's custom Keras layers, registered so a saved `model.keras` loads with `safe_mode=True`.

Both are plain `keras.layers.Layer` subclasses with `get_config` (no Lambda layers, which
`safe_mode` refuses to deserialise). Importing this module is what registers them, so every
loader (`model.predict`, `model.network`, the dashboard) imports it before `keras.saving.load_model`.
"""

from __future__ import annotations

import keras
from keras import ops

PACKAGE = "runway_lens"

# Pixel scalings the network accepts; the run's config.json records which one it was trained with.
PREPROCESS_MODES = ("thesis", "vgg")
# keras.applications.vgg16.preprocess_input ("caffe" mode): BGR channel means of ImageNet.
VGG_BGR_MEAN = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package=PACKAGE)
class InputPreprocess(keras.layers.Layer):
    """RGB pixels in 0..255 to the network's input scale.

    `thesis`: divide by 255 (thesis figure 3.3). `vgg`: VGG16's own ImageNet input, channels
    flipped to BGR and mean-centred without scaling, which is what the ImageNet weights expect.
    Inside the model, so every caller (training, evaluation, dashboard) feeds the same raw pixels.
    """

    def __init__(self, mode: str = "thesis", **kwargs):
        super().__init__(**kwargs)
        if mode not in PREPROCESS_MODES:
            raise ValueError(f"unknown preprocessing {mode!r}; expected one of {', '.join(PREPROCESS_MODES)}")
        self.mode = mode

    def call(self, inputs):
        pixels = ops.cast(inputs, self.compute_dtype)
        if self.mode == "thesis":
            return pixels / 255.0
        bgr = ops.flip(pixels, axis=-1)
        return bgr - ops.convert_to_tensor(VGG_BGR_MEAN, dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@keras.saving.register_keras_serializable(package=PACKAGE)
class SpatialSoftmax(keras.layers.Layer):
    """Softmax jointly over height and width (the thesis's `softmax(axis=[1, 2])`).

    Input (batch, h, w, 1) attention scores; output the attention map, which sums to 1 over h×w
    for every image and channel.
    """

    def call(self, inputs):
        # Subtract the spatial maximum first so exp() cannot overflow on large scores.
        shifted = inputs - ops.max(inputs, axis=(1, 2), keepdims=True)
        weights = ops.exp(shifted)
        return weights / ops.sum(weights, axis=(1, 2), keepdims=True)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return super().get_config()


@keras.saving.register_keras_serializable(package=PACKAGE)
class WeightedAveragePool(keras.layers.Layer):
    """Attention pooling: `sum_s a_s x_s / sum_s a_s` over the grid, for features x (b, h, w, c) and weights a (b, h, w, 1).

    With a constant map it is exactly global average pooling, which is what lets the attention
    model start from the average-pooled probe and learn where to look from there.
    """

    def call(self, inputs):
        features, weights = inputs
        weights = ops.cast(weights, features.dtype)
        return ops.sum(features * weights, axis=(1, 2)) / (ops.sum(weights, axis=(1, 2)) + 1e-6)

    def compute_output_shape(self, input_shapes):
        features_shape, _ = input_shapes
        return (features_shape[0], features_shape[-1])

    def get_config(self):
        return super().get_config()


@keras.saving.register_keras_serializable(package=PACKAGE)
class SpatialNormalise(keras.layers.Layer):
    """Non-negative weights (b, h, w, 1) scaled to sum to 1 over the grid: the map shown, comparable across models."""

    def call(self, inputs):
        return inputs / (ops.sum(inputs, axis=(1, 2), keepdims=True) + 1e-6)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return super().get_config()
