"""Scraping: build the runway CSV (thesis figure 3.1) from runway sites, politely and resumably, or import it.

- `scraping.engine`   the crawl: listings → collections → verified photos → CSV
- `scraping.sources`  one adapter per site (door11, vogue); site facts and assumptions documented there
- `scraping.fetch`    robots.txt, per-host delays, retries with backoff and Retry-After
- `scraping.store`    the output folder: append-only CSV, deduplicated atomic photo writes
- `scraping.importers` import-folder, import-csv, import-hf
CLI: `python -m scraping --help`; documentation: docs/SCRAPING.md.
"""
