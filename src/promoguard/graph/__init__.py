"""Graph algorithms for the brushing checks: dense-block peeling and connected components."""
