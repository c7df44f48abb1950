"""The network side: the sources registry, portal families, the polite fetcher, the raw archive, the crawl (gongkai.extract)."""
