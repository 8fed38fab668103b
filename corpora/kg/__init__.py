"""Knowledge-graph triples verbalized into sentences (KELM-style): readers, subgraphs, verbalizers, alignment."""
