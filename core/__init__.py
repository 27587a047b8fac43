"""Shared foundation of Runway Lens: the one configuration object, atomic file writes and safe image decoding."""
