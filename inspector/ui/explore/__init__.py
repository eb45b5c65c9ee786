"""The Explore page: run one question, see its reasoning tree, read and annotate paths."""
