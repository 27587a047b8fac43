"""Where does a house's identity live, and what sets it apart from its closest rival (docs/IDENTITY.md).

`python -m analysis identity --run <run>` answers with a zone profile per house (head, torso, legs,
feet, background), checked against ground truth on the demo and carried to real photos with the
method that proved most faithful there. One module per concern:

- `zones`: a photo's five zones as soft masks at any resolution (the generator's exact zones, or
  bands of the figure mask as on real photos: `analysis.attention.zones`);
- `cache`: per-photo model scores on disk, resumable and checked, keyed to the model file;
- `context`: the run's sampled test photos, their masks, and the model as a scorer;
- `truth`: counterfactual ground truth on demo runs (the same photo with one cue changed);
- `passes`: the model passes (truth, occlusion, swap, Grad-CAM) on the chosen engine, one photo per task;
- `methods`: the attribution methods, one module each behind `zone_shares(context, rows)`;
- `faithfulness`: each method's zone ranking against the truth, and the headline method;
- `profile`: per brand, the zones carrying its identity and what separates it from its rival;
- `identify`: the command's work, writing `identity.json`; `cli`: its options and printed tables.
"""

from __future__ import annotations

from core.contract import AnalyticsError

# The five zones every method scores; a photo's zones partition it (the background is what the figure is not).
ZONES: tuple[str, ...] = ("head", "torso", "legs", "feet", "background")
FIGURE_ZONES: tuple[str, ...] = ZONES[:4]


class IdentityError(AnalyticsError):
    """A run or request the identity analysis cannot use; the message says what to do."""
