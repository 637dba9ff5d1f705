"""The landing-zone parsers before the column-wise fast paths (perf2-parse), verbatim: the references."""
