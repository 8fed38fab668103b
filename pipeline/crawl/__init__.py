"""The crawler's pure core: URL rules, robots.txt, SSRF guard, pacing, fetching, links,
frontier state, WARC output and the crawl log. No Beam import here; ``corpora/crawl.py``
is the thin Beam shell around it."""
