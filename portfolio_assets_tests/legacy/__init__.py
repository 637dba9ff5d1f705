"""The implementations before the scaling work (perf-scaling), verbatim: the references the rewrites must match."""
