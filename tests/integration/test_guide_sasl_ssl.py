"""The guide's flow over SASL_SSL with the guide's variables (KAFKA_USERNAME/PASSWORD/MECHANISM, TLS verified
against the broker's CA): PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 in one cluster."""

from __future__ import annotations

import pytest

from crm.modes.local_cluster import Cluster
from tests.support.guide import guide_flow

pytestmark = pytest.mark.connected


async def test_guide_flow_over_sasl_ssl_with_the_guides_variables(sasl_cluster: Cluster) -> None:
    await guide_flow(sasl_cluster)
    for name in ("auth", "customer", "sales_activity", "opportunity", "analytics", "gateway"):
        assert "crm-secret" not in sasl_cluster.log(name), f"{name} logged the Kafka password"
