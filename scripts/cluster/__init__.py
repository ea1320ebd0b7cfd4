"""`make cluster`: PostgreSQL, a Redis Cluster (3 masters + 3 replicas), API nodes with their stream
servers, outbox workers and HAProxy, all on this machine (scripts/cluster/cluster.py)."""
from scripts.cluster.cluster import Cluster, Node, available, stop_recorded

__all__ = ["Cluster", "Node", "available", "stop_recorded"]
