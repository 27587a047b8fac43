"""The networks: VGG16 (ImageNet, frozen) with a spatial attention branch on block4_conv3, in two architectures.

`thesis` (chapter 3.4, reproduced exactly for students):

    image → augmentation (training only) → pixel scaling → VGG16 block1..block4_conv3
          → attention: Conv2D(64, 3×3, same) → Dense(1) → softmax over h×w → × block4_conv3
          → block4_pool → block5 → GlobalMaxPooling2D → Dense(512, relu) → Dropout(0.2) → Dense(C, softmax)

`attention-pool` (the recommended default, chosen by measurement: docs/MODEL.md "Choosing the architecture"):

    ... block4_conv3 ─→ attention: Conv2D(64, 3×3, relu) → Dense(1) → sigmoid gate a (h×w)
                    ├─→ attention pooling: Σ a·x / Σ a  (512)          ┐
                    └─→ block4_pool → block5 → block5_pool → average (512) ┴→ concat (1024) → Dropout(0.2) → Dense(C, softmax)

It is "Learn to Pay Attention" (Jetley et al., ICLR 2018): the attention decides how the
block4 features are pooled, beside the global view. The gate's scoring layer starts at zero, so a
is constant and the attention pooling is plain average pooling; the softmax layer is then set from
a logistic-regression probe on those features (linear probing, then fine-tuning: Kumar et al.,
ICLR 2022). Training therefore starts from the plain probe's solution and learns where to look.

The model is flat: every VGG16 layer is a layer of this model under its Keras name
(`block1_conv1` …), so Grad-CAM and `model.get_layer` work without unwrapping a nested model.
All 13 VGG16 conv layers are frozen; at 6 classes and 224 px this gives the thesis's counts:
15,275,463 parameters, 560,775 trainable, 14,714,688 non-trainable.

The same layer objects also make up the companion models:
- `attention_model`: probabilities, attention map and Dense-512 embedding from one forward pass;
- `feature_model`: image → block4_conv3 (the frozen part the fast path caches);
- `tail_model`: block4_conv3 features → probabilities. It shares its layers with the full model,
  so training the tail trains the full model.
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path

import keras
import numpy as np

from core.config import ARCHITECTURES, ModelSettings, Settings, get_settings
from model.layers import InputPreprocess, SpatialNormalise, SpatialSoftmax, WeightedAveragePool

THESIS_IMAGE_SIZE = 224
ATTENTION_POOL_ARCHITECTURE, THESIS_ARCHITECTURE = ARCHITECTURES

# keras.applications.VGG16's layout: (filters, convs) per block.
VGG16_BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
FEATURE_LAYER = "block4_conv3"  # where the attention branch reads, and the fast path's cache point

INPUT = "image"
AUGMENT_FLIP = "augment_flip"
AUGMENT_ROTATION = "augment_rotation"
AUGMENT_TRANSLATION = "augment_translation"
PREPROCESS = "preprocess"
ATTENTION_CONV = "attention_conv"
ATTENTION_SCORE = "attention_score"
ATTENTION_MAP = "attention_map"
ATTENDED = "attention_multiply"
ATTENTION_GATE = "attention_gate"  # attention-pool: the sigmoid weights before normalising
ATTENTION_POOL = "attention_pool"  # attention-pool: the attention-weighted block4 average
GLOBAL_POOL = "global_max_pooling"
GLOBAL_AVERAGE = "global_average_pooling"
EMBEDDING = "embedding"
DROPOUT = "dropout"
PREDICTIONS = "predictions"

TAIL_INPUT = "block4_features"


def vgg16_conv_names() -> list[str]:
    return [f"block{b}_conv{c}" for b, (_, convs) in enumerate(VGG16_BLOCKS, start=1) for c in range(1, convs + 1)]


def feature_grid(image_size: int) -> int:
    """Side of block4_conv3's map (and so of the attention map): three 2×2 poolings, 224 → 28."""
    return image_size // 8


def augmentation_layers(model_settings: ModelSettings, seed: int) -> list[keras.layers.Layer]:
    """The thesis's three augmentation layers (3.3.3); active only when called with training=True."""
    # Keras' RandomRotation factor is a fraction of a full turn (2π rad): 0.1 rad / 2π ≈ 0.0159.
    rotation_factor = model_settings.rotation_radians / (2 * math.pi)
    # RandomTranslation's factor is a fraction of the width. "Up to 20 px" is read in the thesis's
    # 224 px frame (20/224 ≈ 0.089) and kept in proportion when the demo trains smaller.
    translation_fraction = model_settings.translation_pixels / THESIS_IMAGE_SIZE
    return [
        keras.layers.RandomFlip("horizontal", seed=seed, name=AUGMENT_FLIP),
        keras.layers.RandomRotation(rotation_factor, seed=seed + 1, name=AUGMENT_ROTATION),
        keras.layers.RandomTranslation(0.0, translation_fraction, seed=seed + 2, name=AUGMENT_TRANSLATION),
    ]


def _wire_tail(get, features):
    """Attention, block4_pool, block5 and the head on block4_conv3 features; `get(name)` gives each layer."""
    try:
        get(ATTENTION_GATE)
    except (KeyError, ValueError):
        return _wire_thesis_tail(get, features)
    return _wire_attention_pool_tail(get, features)


def _block5_features(get, features):
    x = get("block4_pool")(features)
    for conv in range(1, VGG16_BLOCKS[4][1] + 1):
        x = get(f"block5_conv{conv}")(x)
    return get("block5_pool")(x)


def _wire_attention_pool_tail(get, features):
    gate = get(ATTENTION_GATE)(get(ATTENTION_SCORE)(get(ATTENTION_CONV)(features)))
    attended = get(ATTENTION_POOL)([features, gate])
    global_view = get(GLOBAL_AVERAGE)(_block5_features(get, features))
    embedding = get(EMBEDDING)([global_view, attended])
    return get(PREDICTIONS)(get(DROPOUT)(embedding))


def _wire_thesis_tail(get, features):
    scores = get(ATTENTION_SCORE)(get(ATTENTION_CONV)(features))
    attention = get(ATTENTION_MAP)(scores)
    x = get(ATTENDED)([features, attention])
    x = get("block4_pool")(x)
    for conv in range(1, VGG16_BLOCKS[4][1] + 1):
        x = get(f"block5_conv{conv}")(x)
    x = get("block5_pool")(x)
    x = get(GLOBAL_POOL)(x)
    embedding = get(EMBEDDING)(x)
    outputs = get(PREDICTIONS)(get(DROPOUT)(embedding))
    return outputs


def _attention_pool_layers(model_settings: ModelSettings, num_classes: int, seed: int) -> dict[str, keras.layers.Layer]:
    layers = {
        ATTENTION_CONV: keras.layers.Conv2D(model_settings.attention_filters, 3, padding="same", activation="relu",
                                            name=ATTENTION_CONV),
        # Zero weights: a constant gate at the start, so attention pooling starts as average pooling.
        ATTENTION_SCORE: keras.layers.Dense(1, kernel_initializer="zeros", name=ATTENTION_SCORE),
        ATTENTION_GATE: keras.layers.Activation("sigmoid", name=ATTENTION_GATE),
        ATTENTION_POOL: WeightedAveragePool(name=ATTENTION_POOL),
        "block4_pool": keras.layers.MaxPooling2D(2, strides=2, name="block4_pool"),
        "block5_pool": keras.layers.MaxPooling2D(2, strides=2, name="block5_pool"),
        GLOBAL_AVERAGE: keras.layers.GlobalAveragePooling2D(name=GLOBAL_AVERAGE),
        EMBEDDING: keras.layers.Concatenate(name=EMBEDDING),
        DROPOUT: keras.layers.Dropout(model_settings.dropout, seed=seed + 3, name=DROPOUT),
        PREDICTIONS: keras.layers.Dense(num_classes, activation="softmax", name=PREDICTIONS),
    }
    for conv in range(1, VGG16_BLOCKS[4][1] + 1):
        layers[f"block5_conv{conv}"] = _vgg_conv(VGG16_BLOCKS[4][0], f"block5_conv{conv}")
    return layers


def _tail_layers(model_settings: ModelSettings, num_classes: int, seed: int) -> dict[str, keras.layers.Layer]:
    layers = {
        ATTENTION_CONV: keras.layers.Conv2D(model_settings.attention_filters, 3, padding="same", name=ATTENTION_CONV),
        # No activation: the thesis's dense_6 is explicitly linear (the conv names none either).
        ATTENTION_SCORE: keras.layers.Dense(1, name=ATTENTION_SCORE),
        ATTENTION_MAP: SpatialSoftmax(name=ATTENTION_MAP),
        ATTENDED: keras.layers.Multiply(name=ATTENDED),  # (h, w, 1) map broadcasts over the 512 channels
        "block4_pool": keras.layers.MaxPooling2D(2, strides=2, name="block4_pool"),
        "block5_pool": keras.layers.MaxPooling2D(2, strides=2, name="block5_pool"),
        GLOBAL_POOL: keras.layers.GlobalMaxPooling2D(name=GLOBAL_POOL),
        EMBEDDING: keras.layers.Dense(model_settings.dense_units, activation="relu", name=EMBEDDING),
        DROPOUT: keras.layers.Dropout(model_settings.dropout, seed=seed + 3, name=DROPOUT),
        PREDICTIONS: keras.layers.Dense(num_classes, activation="softmax", name=PREDICTIONS),
    }
    for conv in range(1, VGG16_BLOCKS[4][1] + 1):
        name = f"block5_conv{conv}"
        layers[name] = _vgg_conv(VGG16_BLOCKS[4][0], name)
    return layers


def _vgg_conv(filters: int, name: str) -> keras.layers.Layer:
    # He-normal keeps activations at scale through 13 ReLU convs when the backbone is left random
    # (tests, timing); with ImageNet weights the initial values are overwritten anyway.
    layer = keras.layers.Conv2D(filters, 3, activation="relu", padding="same", kernel_initializer="he_normal",
                                name=name)
    layer.trainable = False  # transfer learning: the ImageNet filters stay as they are (thesis 3.4.1)
    return layer


def build_model(
    num_classes: int = 6,
    image_size: int = 224,
    *,
    weights: str | os.PathLike | None = "imagenet",
    preprocess: str | None = None,
    augment: bool = True,
    seed: int | None = None,
    settings: Settings | None = None,
    architecture: str = THESIS_ARCHITECTURE,
) -> keras.Model:
    """One of `ARCHITECTURES` (default: the thesis's network) as one flat functional model.

    weights: "imagenet" loads the provisioned VGG16 file (`python -m model.assets`), a path loads
    that file, None leaves VGG16 randomly initialised (tests and timing only).
    """
    settings = settings or get_settings()
    model_settings = settings.model
    preprocess = preprocess or model_settings.preprocess
    seed = model_settings.seed if seed is None else seed
    if image_size < 32:
        raise ValueError(f"image size {image_size} is too small: VGG16 needs at least 32 px (five 2×2 poolings)")

    inputs = keras.Input((image_size, image_size, 3), name=INPUT)
    x = inputs
    if augment:
        for layer in augmentation_layers(model_settings, seed):
            x = layer(x)
    x = InputPreprocess(preprocess, name=PREPROCESS)(x)
    for block, (filters, convs) in enumerate(VGG16_BLOCKS[:4], start=1):
        for conv in range(1, convs + 1):
            x = _vgg_conv(filters, f"block{block}_conv{conv}")(x)
        if block < 4:  # block4_pool comes after the attention
            x = keras.layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}; expected one of {', '.join(ARCHITECTURES)}")
    make_layers = _tail_layers if architecture == THESIS_ARCHITECTURE else _attention_pool_layers
    tail = make_layers(model_settings, num_classes, seed)
    outputs = _wire_tail(tail.__getitem__, x)
    model = keras.Model(inputs, outputs, name="vgg16_attention" if architecture == THESIS_ARCHITECTURE
                        else "vgg16_attention_pool")
    if weights is not None:
        load_vgg16_weights(model, _weights_file(weights, settings))
    return model


def _weights_file(weights: str | os.PathLike, settings: Settings) -> Path:
    if weights == "imagenet":
        from model import assets

        return assets.ensure_vgg16_weights(settings)
    path = Path(weights)
    if not path.is_file():
        raise FileNotFoundError(f"VGG16 weights file not found: {path}")
    return path


def load_vgg16_weights(model: keras.Model, weights_path: str | os.PathLike) -> None:
    """Copy the 13 conv layers of a keras.applications VGG16 (no top) weights file into `model`, by name."""
    from model.assets import build_vgg16_notop

    vgg = build_vgg16_notop(Path(weights_path))
    for name in vgg16_conv_names():
        source, target = vgg.get_layer(name).get_weights(), model.get_layer(name)
        expected = [tuple(w.shape) for w in target.get_weights()]
        if [w.shape for w in source] != expected:
            raise ValueError(f"{weights_path}: {name} has shapes {[w.shape for w in source]}, expected {expected}")
        target.set_weights(source)


def parameter_counts(model: keras.Model) -> dict[str, int]:
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    non_trainable = int(sum(np.prod(w.shape) for w in model.non_trainable_weights))
    return {"total": trainable + non_trainable, "trainable": trainable, "non_trainable": non_trainable}


def architecture_of(model: keras.Model) -> str:
    return ATTENTION_POOL_ARCHITECTURE if any(layer.name == ATTENTION_GATE for layer in model.layers) else THESIS_ARCHITECTURE


def embedding_model(model: keras.Model) -> keras.Model:
    """block4_conv3 features → the embedding the softmax layer reads (what a linear probe is fitted on)."""
    shape = model.get_layer(FEATURE_LAYER).output.shape[1:]
    features = keras.Input(shape, name=TAIL_INPUT)
    get = model.get_layer
    if architecture_of(model) == THESIS_ARCHITECTURE:
        raise ValueError("the thesis network's embedding follows a trained Dense layer; it has no probe to start from")
    gate = get(ATTENTION_GATE)(get(ATTENTION_SCORE)(get(ATTENTION_CONV)(features)))
    embedding = get(EMBEDDING)([get(GLOBAL_AVERAGE)(_block5_features(get, features)), get(ATTENTION_POOL)([features, gate])])
    return keras.Model(features, embedding, name="attention_pool_embedding")


def attention_model(model: keras.Model) -> keras.Model:
    """Companion model: {"probabilities", "attention" (batch, h, w), "embedding" (batch, D)} in one pass.

    The attention is a distribution over the grid for both architectures: the thesis's softmax map,
    or attention-pool's gate normalised to sum to 1 (the weights its pooling uses)."""
    if architecture_of(model) == THESIS_ARCHITECTURE:
        weights = model.get_layer(ATTENTION_MAP).output
    else:
        weights = SpatialNormalise(name=ATTENTION_MAP)(model.get_layer(ATTENTION_GATE).output)
    attention = keras.layers.Reshape(weights.shape[1:3], name="attention_2d")(weights)
    outputs = {
        "probabilities": model.output,
        "attention": attention,
        "embedding": model.get_layer(EMBEDDING).output,
    }
    return keras.Model(model.inputs, outputs, name="vgg16_attention_outputs")


def feature_model(model: keras.Model) -> keras.Model:
    """Image → block4_conv3 features: the frozen part the fast path computes once and caches."""
    return keras.Model(model.inputs, model.get_layer(FEATURE_LAYER).output, name="vgg16_block4_features")


def tail_model(model: keras.Model) -> keras.Model:
    """block4_conv3 features → probabilities, sharing (not copying) the full model's layers."""
    shape = model.get_layer(FEATURE_LAYER).output.shape[1:]
    features = keras.Input(shape, name=TAIL_INPUT)
    return keras.Model(features, _wire_tail(model.get_layer, features), name="vgg16_attention_tail")


def augmenter(model: keras.Model) -> keras.Sequential | None:
    """The model's own augmentation layers as a model (None if it was built without them)."""
    names = (AUGMENT_FLIP, AUGMENT_ROTATION, AUGMENT_TRANSLATION)
    present = [layer for layer in model.layers if layer.name in names]
    return keras.Sequential(present, name="augmentation") if present else None


def feature_weights_hash(model: keras.Model) -> str:
    """sha256 of block1..block4 weights (and the pixel scaling): what a cached feature depends on.

    Hashing the values rather than the weights file also keys random-weight models correctly.
    """
    digest = hashlib.sha256(model.get_layer(PREPROCESS).mode.encode())
    for name in vgg16_conv_names():
        if name.startswith("block5"):
            continue
        for weight in model.get_layer(name).get_weights():
            digest.update(np.ascontiguousarray(weight, dtype=np.float32).tobytes())
    return digest.hexdigest()


def load_saved_model(path: str | os.PathLike) -> keras.Model:
    """A saved model.keras, deserialised with safe_mode=True (this module's import registered the custom layers)."""
    return keras.saving.load_model(str(path), safe_mode=True, compile=False)
