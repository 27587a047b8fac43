"""Keras `PyDataset`s for training: decoded images (end-to-end path) or cached features (fast path).

A dataset spans all the epochs still to train: batch `i` belongs to epoch `first_epoch + i // steps`,
and that epoch's order is a permutation seeded by (seed, epoch). Every batch is therefore a pure
function of its index, so a resumed run sees exactly the batches the uninterrupted run would have.
(Relying on `on_epoch_end` instead would race with tf.data's prefetching of the next epoch, and
`fit(shuffle=True)` would reorder batches with Python's global RNG: fit these with shuffle=False and
steps_per_epoch=`steps_per_epoch`.)
"""

from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np


class EpochBatches(keras.utils.PyDataset):
    """Batches of `count` items over `epochs` epochs, in an order drawn per epoch from (seed, epoch)."""

    def __init__(self, count: int, labels: np.ndarray, num_classes: int, batch_size: int, *,
                 shuffle: bool, seed: int, first_epoch: int = 0, epochs: int = 1):
        super().__init__(workers=1, use_multiprocessing=False)
        if count == 0:
            raise ValueError("no items to batch")
        self.count, self.batch_size, self.shuffle, self.seed = count, batch_size, shuffle, seed
        self.first_epoch, self.epochs = first_epoch, max(epochs, 1)
        self.steps_per_epoch = math.ceil(count / batch_size)
        self.targets = keras.utils.to_categorical(labels, num_classes).astype(np.float32)
        self._order: tuple[int, np.ndarray] | None = None

    def order(self, epoch: int) -> np.ndarray:
        """The epoch's row order (the last one is kept: batches are read epoch by epoch)."""
        if self._order is None or self._order[0] != epoch:
            rows = np.arange(self.count)
            self._order = (epoch, np.random.default_rng((self.seed, epoch)).permutation(rows) if self.shuffle else rows)
        return self._order[1]

    def __len__(self) -> int:
        return self.steps_per_epoch * self.epochs

    def position(self, index: int) -> tuple[int, int]:
        """(epoch, batch within the epoch) of global batch `index`."""
        return self.first_epoch + index // self.steps_per_epoch, index % self.steps_per_epoch

    def rows(self, index: int) -> np.ndarray:
        epoch, step = self.position(index)
        return self.order(epoch)[step * self.batch_size : (step + 1) * self.batch_size]

    def __getitem__(self, index: int):
        epoch, step = self.position(index)
        rows = self.rows(index)
        return self.load(rows, np.random.default_rng((self.seed, epoch, step, 1))), self.targets[rows]

    def load(self, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError


class ImageBatches(EpochBatches):
    """Decoded images (N, S, S, 3) uint8 held in memory; augmentation happens inside the model."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, num_classes: int, batch_size: int, **kwargs):
        self.images = images
        super().__init__(len(images), labels, num_classes, batch_size, **kwargs)

    def load(self, rows, rng):
        return self.images[rows].astype(np.float32)


class FeatureBatches(EpochBatches):
    """Cached block4_conv3 features, read from disk per batch so memory stays flat in N.

    `copies[i]` lists image i's cached versions (the original first, then K augmented copies);
    each epoch draws one of them per image. With `flip`, a feature map is mirrored left-right
    with probability 1/2, a cheap stand-in for flipping the photo (see docs/MODEL.md).
    """

    def __init__(self, copies: list[list[Path]], labels: np.ndarray, num_classes: int, batch_size: int, *,
                 flip: bool = False, **kwargs):
        self.copies, self.flip = copies, flip
        super().__init__(len(copies), labels, num_classes, batch_size, **kwargs)

    def load(self, rows, rng):
        picks = [self.copies[row][rng.integers(len(self.copies[row]))] for row in rows]
        batch = np.stack([np.load(path) for path in picks]).astype(np.float32)
        if self.flip:
            mirrored = rng.random(len(batch)) < 0.5
            batch[mirrored] = batch[mirrored][:, :, ::-1, :]
        return batch
