"""doc2query document expansion: training pairs, passage splitting, expansion, retrieval evaluation."""
