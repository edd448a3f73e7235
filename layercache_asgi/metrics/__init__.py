"""Observability: Prometheus metrics, JSON metrics, snapshots, logging."""
