"""The analyse stage: what a trained, evaluated run says about each house.

- `analysis.attention`: the learned attention made measurable (localisation, body zones,
  Grad-CAM agreement, background reliance); docs/ATTENTION.md.
- `analysis.brand`: distinctiveness index, identity over time, similar looks; docs/BRAND_ANALYTICS.md.
- `analysis.identity`: where each house's identity lives and what sets it apart from its rival,
  checked against the demo's counterfactual truth; docs/IDENTITY.md.

Everything here reads run folders through the artifact contract and writes its results back into
them; the dashboard only shows them. The command line is `python -m analysis`.
"""
