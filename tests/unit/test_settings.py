"""The guide's variables become typed settings; a bad value names its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm.platform.settings import ConfigError, Settings


def settings(**env: str) -> Settings:
    return Settings.from_env("auth", env)


def test_the_guides_variables_configure_sasl_over_tls() -> None:
    s = settings(
        KAFKA_ENABLED="true",
        KAFKA_BROKERS="b1.example.com:9092, b2.example.com:9093",
        KAFKA_USERNAME="crm",
        KAFKA_PASSWORD="s3cret",
        KAFKA_MECHANISM="scram-sha-512",
        KAFKA_CLIENT_ID="auth-service",
    )
    assert s.kafka.enabled
    assert s.kafka.brokers == ("b1.example.com:9092", "b2.example.com:9093")
    assert s.kafka.ssl, "SASL credentials turn TLS on, as the guide's ssl: true"
    assert s.kafka.mechanism == "scram-sha-512"
    assert s.kafka.client_id == "auth-service"
    assert "s3cret" not in repr(s), "the password must never show in a repr (and so in a log)"


def test_defaults_are_the_embedded_ones() -> None:
    s = settings()
    assert not s.kafka.enabled
    assert not s.kafka.ssl
    assert s.kafka.client_id == "auth-service"
    assert s.database_url.startswith("sqlite+aiosqlite:///")


def test_upstash_variables_are_aliases() -> None:
    s = settings(
        UPSTASH_KAFKA_BROKER_URL="x.upstash.io:9092",
        UPSTASH_KAFKA_SASL_USERNAME="u",
        UPSTASH_KAFKA_SASL_PASSWORD="p",
    )
    assert s.kafka.brokers == ("x.upstash.io:9092",)
    assert s.kafka.username == "u" and s.kafka.password.value == "p"


def test_kafka_ssl_can_be_turned_off_explicitly() -> None:
    assert not settings(KAFKA_USERNAME="u", KAFKA_PASSWORD="p", KAFKA_SSL="false").kafka.ssl


def test_render_postgres_urls_are_accepted() -> None:
    assert (
        settings(DATABASE_URL="postgres://u:p@db:5432/crm").database_url
        == "postgresql+asyncpg://u:p@db:5432/crm"
    )


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"KAFKA_ENABLED": "maybe"}, "KAFKA_ENABLED"),
        ({"KAFKA_BROKERS": "no-port-here"}, "KAFKA_BROKERS"),
        ({"KAFKA_BROKERS": "host:99999"}, "KAFKA_BROKERS"),
        ({"KAFKA_MECHANISM": "gssapi"}, "KAFKA_MECHANISM"),
        ({"KAFKA_USERNAME": "u"}, "KAFKA_PASSWORD"),
        ({"KAFKA_SSL_CA_FILE": "/nonexistent/ca.pem"}, "KAFKA_SSL_CA_FILE"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"JWT_SECRET": "short"}, "JWT_SECRET"),
        ({"JWT_TTL_MINUTES": "soon"}, "JWT_TTL_MINUTES"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({"CUSTOMER_SERVICE_URL": "ftp://customer:8000"}, "CUSTOMER_SERVICE_URL"),
    ],
)
def test_an_invalid_value_names_its_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        settings(**env)


def test_ca_file_is_used_when_it_exists(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    assert settings(KAFKA_SSL_CA_FILE=str(ca)).kafka.ssl_ca_file == ca


def test_render_hostport_upstreams_get_a_scheme() -> None:
    assert (
        settings(CUSTOMER_SERVICE_URL="crm-customer:10000").service_urls["customer"]
        == "http://crm-customer:10000"
    )


def test_an_empty_flag_means_its_default() -> None:
    assert settings(KAFKA_USERNAME="u", KAFKA_PASSWORD="p", KAFKA_SSL="").kafka.ssl
