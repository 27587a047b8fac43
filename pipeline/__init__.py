"""End-to-end orchestration of the stages (scrape → prepare → train → evaluate → show) for the demo."""
