"""The app on a real Redis Cluster (3 masters) and behind a real Sentinel, through the Flask test client.

The servers are the system `/usr/bin/redis-server` on free ports (tests/fakes/redis_cluster.py);
each app has its own SQLite file. The flows are tests/test_redis_keys.py's: SMS login with its
limits, refresh and logout, a licence presented and verified once (QR and manual code), nearby
halls after an import, a reindex and an index rebuilt on demand, 429s, and a notice delivered live
over SSE through pub/sub. On the cluster a cross-slot script or MULTI would fail with CROSSSLOT.
"""
from __future__ import annotations

import pytest
import redis
from redis.cluster import RedisCluster

from app.redis import _nodes, make_redis
from mapsvc import index
from tests import vectors
from tests.fakes.redis_cluster import LocalCluster, LocalSentinel, available
from tests.test_redis_keys import FLOW_CONFIG, Flows

pytestmark = pytest.mark.skipif(not available(), reason="no /usr/bin/redis-server (and redis-cli): cannot start "
                                                        "a local Redis Cluster or Sentinel")


@pytest.fixture
def build_app(app_on_redis):
    """An app on `redis_url` with the flows' settings and its own migrated SQLite database."""
    return lambda redis_url: app_on_redis(redis_url, **FLOW_CONFIG)


@pytest.mark.slow
def test_the_flows_run_on_a_three_master_cluster(build_app):
    with LocalCluster() as cluster:
        app = build_app(cluster.url)
        client = app.extensions["redis"]
        assert isinstance(client, RedisCluster) and len(client.get_primaries()) == 3
        doctor = app.test_cli_runner().invoke(args=["doctor"])
        assert "cluster: 3 master(s), 0 replica(s)" in doctor.output, doctor.output

        Flows(app).run_all()

        # The data really is spread: keys on every master, the map index whole on one.
        sizes = {node.port: client.dbsize(target_nodes=node) for node in client.get_primaries()}
        assert all(size > 0 for size in sizes.values()), sizes
        index_keys = client.smembers(index.KEYS) | {index.VERSION, index.QUEUE}
        assert len(index_keys) >= 5 and {cluster.node_of(key) for key in index_keys} == {cluster.node_of(index.TAG)}


@pytest.mark.slow
def test_login_and_live_notice_behind_sentinel(build_app):
    with LocalSentinel(service="yiwang", db=2) as sentinel:
        app = build_app(sentinel.url)
        doctor = app.test_cli_runner().invoke(args=["doctor"])
        assert f"sentinel: master 'yiwang' at 127.0.0.1:{sentinel.master_port}" in doctor.output, doctor.output

        flows = Flows(app)
        tokens = flows.login(vectors.PHONES[0])
        flows.sessions(vectors.PHONES[1])
        flows.live_notification(tokens)
        pool = app.extensions["redis"].connection_pool
        assert pool.connection_kwargs["db"] == 2 and pool.service_name == "yiwang"
        # what the flows stored is on the master Sentinel named, in database 2
        direct = redis.Redis(port=sentinel.master_port, db=2, decode_responses=True)
        try:
            assert direct.dbsize() > 0
        finally:
            direct.close()


def test_redis_url_node_lists():
    assert _nodes("10.0.0.1:7000,10.0.0.2,[::1]:7002", 6379) == (
        [("10.0.0.1", 7000), ("10.0.0.2", 6379), ("::1", 7002)], {})
    assert _nodes("user:p%40ss@s1:26379,s2", 26379) == ([("s1", 26379), ("s2", 26379)],
                                                         {"username": "user", "password": "p@ss"})
    assert _nodes(":secret@s1", 26379) == ([("s1", 26379)], {"password": "secret"})
    with pytest.raises(ValueError):
        make_redis("redis+cluster://127.0.0.1:7000/3", "")
    with pytest.raises(ValueError):
        make_redis("redis+sentinel://127.0.0.1:26379/", "")
