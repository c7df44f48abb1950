"""Network and raw-bytes side of the pipeline (the crawl lands in a later issue)."""
