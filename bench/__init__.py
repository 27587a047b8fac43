"""`make bench`: timings of what users wait for. Not tests: nothing here fails on a timing."""
