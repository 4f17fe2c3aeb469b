"""Local infrastructure for tests and ``crm up --local-infra``: a real Kafka broker and a real PostgreSQL
(and, for the gateway's shared rate limits, a Redis server).

All run as local processes on free ports: the broker from Maven jars on the machine's Java (KRaft, PLAINTEXT
plus SASL_SSL with PLAIN and SCRAM), PostgreSQL from the distribution's initdb/pg_ctl, Redis from Debian's
redis-server. ``DevServer`` runs ``crm dev`` itself as a process, for the tests and benchmarks.
"""

from crm.localinfra.devserver import DevServer
from crm.localinfra.errors import InfraError
from crm.localinfra.kafka import KafkaBroker
from crm.localinfra.postgres import PostgresCluster
from crm.localinfra.redis import RedisServer

__all__ = ["DevServer", "InfraError", "KafkaBroker", "PostgresCluster", "RedisServer"]
