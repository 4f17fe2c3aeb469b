"""A real single-node Apache Kafka broker (KRaft, combined roles) run from Maven jars as a local process."""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextlib
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from types import TracebackType

from crm.localinfra.errors import InfraError
from crm.localinfra.ports import free_ports, log_tail, run_tool, wait_ready

DEFAULT_USERS = {"crm": "crm-secret"}
SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
_QUICK_JVM = "-XX:TieredStopAtLevel=1"  # short-lived tools start faster on the C1 compiler alone
_SAFE = re.compile(r"^[A-Za-z0-9._~!@#$%^&*()+:;<>?/|{}-]+$")  # no quote, backslash, space, ',', '=', '[]'
_LOG4J = """status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = {level}
rootLogger.appenderRef.stdout.ref = STDOUT
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
"""
_SERVER = """process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{ctrl}
listeners=PLAINTEXT://127.0.0.1:{plain},CONTROLLER://127.0.0.1:{ctrl},SASL_SSL://127.0.0.1:{sasl}
advertised.listeners=PLAINTEXT://127.0.0.1:{plain},SASL_SSL://localhost:{sasl}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs={data}
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.cleaner.dedupe.buffer.size=2097152
auto.create.topics.enable=false
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=\
org.apache.kafka.common.security.plain.PlainLoginModule required {users};
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=\
org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=\
org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.location={keystore}
ssl.keystore.type=PKCS12
ssl.keystore.password={password}
ssl.key.password={password}
"""


def _tool(name: str) -> str:
    """Return the path of a JDK tool, preferring $JAVA_HOME/bin; raise InfraError when there is none."""
    home = os.environ.get("JAVA_HOME")
    found = str(Path(home, "bin", name)) if home and Path(home, "bin", name).exists() else shutil.which(name)
    if not found:
        raise InfraError(f"`{name}` not found: install Java 17+ (apt-get install -y openjdk-17-jdk-headless)")
    return found


def ensure_jars() -> Path:
    """Return a folder holding the broker's jars, fetching them with Maven once per version of the pom.

    The cache is ``$CRM_CACHE_DIR/kafka/<sha256 of the pom>/libs`` (default ``~/.cache/crm``); a marker file
    written after a complete fetch makes later calls free. Concurrent callers serialise on a file lock.
    """
    pom = (resources.files("crm.localinfra") / "kafka-pom.xml").read_bytes()
    base = Path(os.environ.get("CRM_CACHE_DIR") or Path.home() / ".cache" / "crm", "kafka")
    base = base / hashlib.sha256(pom).hexdigest()[:16]
    libs, marker, staging = base / "libs", base / "complete", base / "libs.partial"
    if marker.exists():
        return libs
    base.mkdir(parents=True, exist_ok=True)
    with open(base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists():
            return libs
        mvn = shutil.which("mvn")
        if not mvn:
            raise InfraError("`mvn` not found: the Kafka jars come from Maven (apt-get install -y maven)")
        _tool("java")
        (base / "pom.xml").write_bytes(pom)
        shutil.rmtree(staging, ignore_errors=True)
        goal = ["-q", "-B", "dependency:copy-dependencies", "-DincludeScope=runtime"]
        cmd = [mvn, *goal, "-f", str(base / "pom.xml"), f"-DoutputDirectory={staging}"]
        run_tool(cmd, what="mvn dependency:copy-dependencies (fetching the Kafka jars)", timeout=900)
        if not any(staging.glob("kafka_2.13-*.jar")):
            raise InfraError(f"mvn succeeded but left no kafka_2.13 jar in {staging}")
        shutil.rmtree(libs, ignore_errors=True)
        staging.rename(libs)
        marker.write_text("ok\n")
    return libs


class KafkaBroker:
    """One Kafka broker with a PLAINTEXT listener and a SASL_SSL listener (PLAIN, SCRAM-SHA-256/512)."""

    ensure_jars = staticmethod(ensure_jars)

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        plain_users: dict[str, str] | None = None,
        scram_users: dict[str, str] | None = None,
        log_level: str = "WARN",
    ) -> None:
        """Describe a broker; nothing runs before ``start()``. Users default to ``{"crm": "crm-secret"}``."""
        self._plain_users = dict(DEFAULT_USERS if plain_users is None else plain_users)
        self._scram_users = dict(DEFAULT_USERS if scram_users is None else scram_users)
        for name, password in [*self._plain_users.items(), *self._scram_users.items()]:
            if not (_SAFE.match(name) and _SAFE.match(password)):
                raise ValueError(f"user {name!r}: names and passwords may not hold quotes, spaces, ',=[]\\'")
        self._requested_workdir, self._workdir = workdir, workdir
        self._log_level = log_level
        self._ports: list[int] = []  # plaintext, sasl_ssl, controller
        self._proc: subprocess.Popen[bytes] | None = None
        self._formatted = False

    def start(self, timeout: float = 60) -> KafkaBroker:
        """Start the broker and return once its PLAINTEXT listener answers an Admin API request.

        The first call makes the workdir, key, CA file, config and formatted storage on free ports (picking
        new ones once if another process takes one meanwhile); later calls (see ``restart``) reuse them all.
        ``timeout`` bounds the wait for readiness after launch. Raises InfraError with the log's tail.
        """
        if self.running:
            return self
        libs = ensure_jars()
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="crm-kafka-"))
        for attempt in (1, 2):
            fresh = not self._formatted
            if fresh:
                self._workdir.mkdir(parents=True, exist_ok=True)
                self._ports = self._ports if self._ports and attempt == 1 else free_ports(3)
                self._prepare(libs)
            offset = self.log_file.stat().st_size if self.log_file.exists() else 0
            try:
                self._launch(libs, timeout)
                return self
            except InfraError as exc:
                self.kill()
                with open(self.log_file, "rb") as log:
                    log.seek(offset)
                    in_use = b"Address already in use" in log.read()
                if not (fresh and in_use and attempt == 1):
                    hint = f"\na port of {self._ports} is taken by another process" if in_use else ""
                    tail = log_tail(self.log_file)
                    raise InfraError(f"{exc}{hint}\n--- tail of {self.log_file}:\n{tail}") from None
                self._formatted = False
        raise AssertionError("unreachable")

    def _launch(self, libs: Path, timeout: float) -> None:
        """Run ``kafka.Kafka`` in its own process group and wait until it is ready or has died."""
        log4j = f"-Dlog4j2.configurationFile=file:{self.workdir / 'log4j2.properties'}"
        jvm = [_tool("java"), "-Xms256m", "-Xmx512m", "-Djava.awt.headless=true", log4j]
        cmd = [*jvm, "-cp", f"{libs}/*", "kafka.Kafka", str(self.workdir / "server.properties")]
        with open(self.log_file, "ab") as log:
            self._proc = subprocess.Popen(
                cmd,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        atexit.register(self.cleanup)
        what = f"Kafka broker (pid {self._proc.pid})"
        wait_ready(self._probe, what=what, timeout=timeout, exit_code=self._proc.poll)

    def stop(self, timeout: float = 30) -> None:
        """Stop the broker with SIGTERM (clean shutdown), then SIGKILL if still up after ``timeout`` s."""
        if self._proc is not None and self._proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._proc = None

    def kill(self) -> None:
        """Kill the broker's process group with SIGKILL at once and reap it (no clean shutdown)."""
        if self._proc is not None:
            self._signal(signal.SIGKILL)
            self._proc.wait()
            self._proc = None

    def restart(self, timeout: float = 60) -> KafkaBroker:
        """Stop the broker and start it again on the same ports with the same data (no re-format)."""
        self.stop()
        return self.start(timeout)

    def cleanup(self) -> None:
        """Stop the broker and delete its workdir if this object made it (a given workdir is kept)."""
        self.stop()
        atexit.unregister(self.cleanup)
        if self._requested_workdir is None and self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir, self._formatted = None, False

    def __enter__(self) -> KafkaBroker:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.cleanup()

    @property
    def running(self) -> bool:
        """True while the broker process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def workdir(self) -> Path:
        """The folder of config, key, CA file, data and log (known once ``start`` was called)."""
        if self._workdir is None:
            raise InfraError("the Kafka broker has not been started")
        return self._workdir

    @property
    def plaintext_bootstrap(self) -> str:
        """``127.0.0.1:<port>`` of the PLAINTEXT listener."""
        return f"127.0.0.1:{self._port(0)}"

    @property
    def sasl_bootstrap(self) -> str:
        """``localhost:<port>`` of the SASL_SSL listener (its certificate names localhost and 127.0.0.1)."""
        return f"localhost:{self._port(1)}"

    @property
    def ca_file(self) -> Path:
        """PEM file of the broker's self-signed certificate: the clients' CA file."""
        return self.workdir / "ca.pem"

    @property
    def log_file(self) -> Path:
        """The broker's log4j console output, appended to across restarts."""
        return self.workdir / "broker.log"

    @property
    def plain_users(self) -> dict[str, str]:
        """Users accepted by SASL PLAIN, name to password."""
        return dict(self._plain_users)

    @property
    def scram_users(self) -> dict[str, str]:
        """Users accepted by SCRAM-SHA-256 and SCRAM-SHA-512, name to password."""
        return dict(self._scram_users)

    def _port(self, index: int) -> int:
        if not self._ports:
            raise InfraError("the Kafka broker has not been started: start() picks its ports")
        return self._ports[index]

    def _signal(self, sig: signal.Signals) -> None:
        assert self._proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, sig)

    async def _probe(self) -> None:
        """Succeed once the broker answers a DescribeCluster request listing itself."""
        from aiokafka.admin import AIOKafkaAdminClient

        # A bare TCP connect first: aiokafka logs every refused bootstrap at ERROR level.
        _, writer = await asyncio.open_connection("127.0.0.1", self._port(0))
        writer.close()
        await writer.wait_closed()
        admin = AIOKafkaAdminClient(bootstrap_servers=self.plaintext_bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            if not (await admin.describe_cluster()).get("brokers"):
                raise InfraError("the broker answers but lists no broker yet")
        finally:
            await admin.close()

    def _prepare(self, libs: Path) -> None:
        """Write the configs, then make key and CA file while formatting the storage with the SCRAM users."""
        wd, password = self.workdir, secrets.token_hex(16)
        shutil.rmtree(wd / "data", ignore_errors=True)
        plain, sasl, ctrl = self._ports
        users = " ".join(f'user_{name}="{pw}"' for name, pw in self._plain_users.items())
        (wd / "log4j2.properties").write_text(_LOG4J.format(level=self._log_level))
        ports = {"plain": plain, "sasl": sasl, "ctrl": ctrl}
        config = _SERVER.format(
            **ports, data=wd / "data", keystore=wd / "broker.p12", password=password, users=users
        )
        (wd / "server.properties").write_text(config)
        (wd / "server.properties").chmod(0o600)
        cluster_id = "-"
        while cluster_id.startswith("-"):  # like Kafka's Uuid: an id starting with '-' reads as an option
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        log4j = f"-Dlog4j2.configurationFile=file:{wd / 'log4j2.properties'}"
        tool = [_tool("java"), _QUICK_JVM, log4j, "-cp", f"{libs}/*", "kafka.tools.StorageTool"]
        cmd = [*tool, "format", "--standalone", "-t", cluster_id, "-c", str(wd / "server.properties")]
        for name, pw in self._scram_users.items():
            for mechanism in SCRAM_MECHANISMS:
                cmd += ["--add-scram", f"{mechanism}=[name={name},password={pw}]"]
        with ThreadPoolExecutor(max_workers=1) as pool:
            keystore = pool.submit(self._make_keystore, password)
            run_tool(cmd, what="kafka-storage format", timeout=120)
            keystore.result()
        self._formatted = True

    def _make_keystore(self, password: str) -> None:
        """Make a self-signed key pair for localhost/127.0.0.1 (PKCS12); export its certificate as ca.pem."""
        wd, keytool = self.workdir, [_tool("keytool"), f"-J{_QUICK_JVM}"]
        env = {**os.environ, "CRM_KEYSTORE_PASSWORD": password}
        p12, secret = str(wd / "broker.p12"), ["-storepass:env", "CRM_KEYSTORE_PASSWORD"]
        store = ["-alias", "broker", "-keystore", p12, *secret]
        for path in (wd / "broker.p12", wd / "ca.pem"):
            path.unlink(missing_ok=True)
        key = ["-storetype", "PKCS12", "-keyalg", "RSA", "-keysize", "2048", "-validity", "3650"]
        san = ["-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1"]
        genkey = [*keytool, "-genkeypair", *store, *key, *san]
        run_tool(genkey, what="keytool -genkeypair", timeout=60, env=env)
        export = [*keytool, "-exportcert", "-rfc", *store, "-file", str(wd / "ca.pem")]
        run_tool(export, what="keytool -exportcert", timeout=60, env=env)
