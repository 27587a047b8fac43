"""Attribution methods: where, by each method, a photo's evidence for its house lies.

One method per module, as in jacobgil/pytorch-grad-cam, all behind one small interface:

    zone_shares(context, rows) -> DataFrame[path, zone, share, contrast]

`rows` are test photos (`IdentityContext.rows` columns, plus `rival`: the brand to contrast with,
"" for none). `share` is how much of the evidence for the photo's `target` brand the method puts
on each of `analysis.identity.ZONES`; `contrast` the same for "target rather than rival". Only the
ranking of zones within a house is compared with the truth, so a method may use its own units:

- `attention`: the learned attention map's mass per zone (class-agnostic: its contrast is its share);
- `gradcam`: Grad-CAM's mass per zone, for the target logit and for target minus rival;
- `occlusion`: the drop in the target's evidence (`context.evidence`: log p(target) − the other classes' mean log p;
  for the contrast, log p(target) − log p(rival)) when the zone is
  replaced by an in-distribution fill; one method per fill (`occlusion:mean`, ...);
- `swap`: the same drops when the zone is replaced by the same zone of other houses' photos (and of
  the rival's photos, for the contrast).

Photos without a usable zone mask get no rows. `unavailable` says why a method cannot run on a run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pandas as pd

from analysis.identity.context import IdentityContext
from core.config import IDENTITY_METHODS, OCCLUSION_FILLS, IdentitySettings

SHARE_COLUMNS = ("path", "zone", "share", "contrast")
DEFAULT_HEADLINE = "swap"  # works on any photos with figure masks; used when no demo run chose one


@dataclass(frozen=True)
class Method:
    name: str
    needs_model: bool
    needs_attention_maps: bool
    zone_shares: Callable[[IdentityContext, pd.DataFrame], pd.DataFrame]


def all_methods(identity: IdentitySettings) -> list[Method]:
    """The methods `identity.methods` asks for, occlusion once per fill in `identity.occlusion_fills`."""
    from analysis.identity.methods import attention, gradcam, occlusion, swap

    unknown = sorted(set(identity.methods) - set(IDENTITY_METHODS))
    bad_fills = sorted(set(identity.occlusion_fills) - set(OCCLUSION_FILLS))
    if unknown or bad_fills:
        raise ValueError(f"unknown method(s) {', '.join(unknown + bad_fills)}; methods are {', '.join(IDENTITY_METHODS)} "
                         f"and occlusion fills {', '.join(OCCLUSION_FILLS)}")
    methods = []
    for name in identity.methods:
        if name == "attention":
            methods.append(Method("attention", False, True, attention.zone_shares))
        elif name == "gradcam":
            methods.append(Method("gradcam", True, False, gradcam.zone_shares))
        elif name == "swap":
            methods.append(Method("swap", True, False, swap.zone_shares))
        else:
            methods.extend(Method(f"occlusion:{fill}", True, False, partial(occlusion.zone_shares, fill=fill))
                           for fill in identity.occlusion_fills)
    return methods


def method_named(name: str) -> Method:
    """One method by its name (`attention`, `gradcam`, `occlusion:<fill>`), whatever the settings ask for."""
    name = "occlusion:inpaint" if name == "occlusion" else name
    base, _, fill = name.partition(":")
    identity = IdentitySettings(methods=(base,), occlusion_fills=(fill,) if fill else OCCLUSION_FILLS)
    found = [method for method in all_methods(identity) if method.name == name]
    if not found:
        raise ValueError(f"unknown method {name!r}; e.g. attention, gradcam, occlusion:inpaint")
    return found[0]


def unavailable(method: Method, context: IdentityContext) -> str | None:
    """Why `method` cannot run on this run, or None."""
    run = context.run
    if method.needs_model and not context.has_model():
        return f"run {run.name!r} has no {run.model.name} (an ensemble or baseline run has no network to probe)"
    if method.needs_attention_maps and not run.attention_maps.is_file():
        return f"run {run.name!r} has no {run.attention_maps.relative_to(run.root)} (a model without attention, or not evaluated)"
    if not context.rows.apply(context.has_zones, axis=1).any():
        return ("no test photo has a figure mask to cut zones from; run `python -m data remove-background` "
                "on the run's dataset for rembg masks")
    return None
