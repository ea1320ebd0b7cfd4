"""The many-node cluster (scripts/cluster) for tests/cluster: started once per session, stopped at the end.

`make cluster-test` runs these (marker `cluster`; `make test` leaves them out). Without haproxy or
redis-server on the machine they are skipped with the reason, unless REQUIRE_CLUSTER=1 (CI), where
a missing tool is a failure rather than a silent pass. The cluster has a work directory and a
database of its own (`yiwang_cluster_test`), so a `make cluster` someone left running is not touched.
"""
from __future__ import annotations

import logging
import os
import time

import pytest

from scripts.cluster import Cluster, available


@pytest.fixture(scope="session")
def cluster(tmp_path_factory, pytestconfig):
    missing = available()
    if missing:
        reason = f"the cluster needs {', '.join(missing)} (Debian: apt-get install haproxy redis-server)"
        if os.environ.get("REQUIRE_CLUSTER") == "1":
            pytest.fail(reason + "; REQUIRE_CLUSTER=1")
        pytest.skip(reason)
    # urllib3 logs request lines at DEBUG, phone numbers in query strings included
    logging.getLogger("urllib3").setLevel(logging.INFO)
    made = Cluster(str(tmp_path_factory.mktemp("cluster")), database="yiwang_cluster_test")
    started = time.monotonic()
    made.up()
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():  # shown under -q too: the start-up time is a README figure
        print(f"\n[cluster figures] up in {time.monotonic() - started:.1f} s: LB {made.lb_url}, "
              + ", ".join(f"{n.name} {n.api_url}" for n in made.nodes)
              + f", {len(made.workers)} workers, redis masters {made.redis_masters()}")
    try:
        yield made
    finally:
        made.down()
