"""The demo atelier: procedurally generated runway photos of six fictional houses, with exact masks.

`python -m data demo` writes them (see `data.demo.cli` and docs/DEMO.md); `data.demo.houses.HOUSES`
is the documented signature table that attention analytics check against.
"""
