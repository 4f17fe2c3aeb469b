"""Kafka's own yardsticks (``org.apache.kafka:kafka-tools``, in the broker's jar set): ProducerPerformance and
ConsumerPerformance run against the bench's broker, on the same topics as the figure they stand next to."""

from __future__ import annotations

import re
import shutil
import subprocess

from crm.localinfra import KafkaBroker


def _run(tool: str, *args: str) -> str:
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("java not found (apt-get install -y openjdk-17-jdk-headless)")
    libs = KafkaBroker.ensure_jars()
    command = [java, "-Xmx512m", "-cp", f"{libs}/*", f"org.apache.kafka.tools.{tool}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def producer_rate(bootstrap: str, topic: str, records: int, record_size: int) -> float:
    """Records/s of ProducerPerformance with our producer's guarantees (acks=all, idempotent), unthrottled."""
    out = _run(
        "ProducerPerformance",
        "--topic", topic,
        "--num-records", str(records),
        "--record-size", str(record_size),
        "--throughput", "-1",
        "--producer-props", f"bootstrap.servers={bootstrap}", "acks=all", "enable.idempotence=true",
    )  # fmt: skip
    # "100000 records sent, 81234.5 records/sec (15.49 MB/sec), ..." (the last line is the total)
    found = re.findall(r"(\d+) records sent, ([\d.]+) records/sec", out)
    if not found:
        raise RuntimeError(f"ProducerPerformance printed no total:\n{out[-2000:]}")
    return float(found[-1][1])


def consumer_rate(bootstrap: str, topics_regex: str, records: int, group: str) -> float:
    """Records/s ConsumerPerformance fetches (its fetch.nMsg.sec: the group join is left out)."""
    out = _run(
        "ConsumerPerformance",
        "--bootstrap-server", bootstrap,
        "--include", topics_regex,
        "--num-records", str(records),
        "--group", group,
        "--timeout", "30000",
    )  # fmt: skip
    lines = [line for line in out.splitlines() if line.strip()]
    header = next(i for i, line in enumerate(lines) if "nMsg.sec" in line)
    names = [n.strip() for n in lines[header].split(",")]
    values = [v.strip() for v in lines[header + 1].split(",")]
    return float(dict(zip(names, values, strict=False))["fetch.nMsg.sec"])
