"""An event-driven CRM: five services and a gateway exchanging domain events through Apache Kafka."""

__version__ = "0.1.0"
