"""The deployment files say what their users rely on: every service with its own database, Kafka client id and
health checks, in Docker Compose, the Render Blueprint and the Kubernetes manifests; EdDSA tokens by default
(each verifying process reaches auth's public keys, no signing secret generated or required); an image that
runs as non-root; an .env.example that documents every variable the code reads.

No Docker engine is needed: the files are parsed. When the `docker compose` plugin is installed, the compose
file is also checked with `docker compose config`, on top of the same assertions.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import yaml

from crm.modes.tokens import token_security
from crm.platform.settings import KAFKA_MECHANISMS, SERVICE_URL_VARIABLES, Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
SRC = ROOT / "src" / "crm"

# settings key (sales_activity) -> process name (sales-activity); the database is named like the key.
SERVICES = {key: key.replace("_", "-") for key in SERVICE_URL_VARIABLES}
PROCESSES = {*SERVICES.values(), "gateway"}
CLIENT_IDS = {key: f"{name}-service" for key, name in SERVICES.items()}
KAFKA_VARIABLES = {"KAFKA_ENABLED", "KAFKA_BROKERS", "KAFKA_USERNAME", "KAFKA_PASSWORD", "KAFKA_MECHANISM"}


@functools.cache
def load_all(path: Path) -> list[Any]:
    with path.open(encoding="utf-8") as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc is not None]


def load(path: Path) -> Any:
    (document,) = load_all(path)
    return document


def test_every_yaml_file_parses() -> None:
    files = sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])
    assert {f.name for f in files} >= {"docker-compose.yml", "render.yaml", "kustomization.yaml"}
    for path in files:
        assert load_all(path), f"{path.relative_to(ROOT)} holds no YAML document"


# --- Docker Compose ---------------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    return load(DEPLOY / "docker-compose.yml")


def test_compose_runs_kraft_kafka_postgres_the_five_services_and_the_gateway() -> None:
    services = compose()["services"]
    assert set(services) == {"kafka", "postgres", *PROCESSES}

    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:4.")
    env = kafka["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}  # KRaft, one node
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert str(env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]) == "false"  # the services create their topics
    assert str(env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]) == "1"  # or consumer groups never work
    assert not any("ZOOKEEPER" in key for key in env)

    assert services["postgres"]["image"].startswith("postgres:15")

    for name in PROCESSES:
        service = services[name]
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}, name
        assert service["command"] == ["serve", name]


def test_compose_gives_each_service_its_own_database_and_kafka_client_id() -> None:
    services = compose()["services"]
    created = set(re.findall(r"^for database in (.+); do$", init_script(), re.M)[0].split())
    assert created == set(SERVICES)

    for key, name in SERVICES.items():
        env = services[name]["environment"]
        assert str(env["KAFKA_ENABLED"]) == "true", name
        assert env["KAFKA_BROKERS"] == "kafka:9092", name
        assert env["KAFKA_CLIENT_ID"] == CLIENT_IDS[key], name
        assert re.fullmatch(rf"postgresql://crm:[^@]+@postgres:5432/{key}", env["DATABASE_URL"]), name
    client_ids = [services[name]["environment"]["KAFKA_CLIENT_ID"] for name in SERVICES.values()]
    assert len(set(client_ids)) == len(client_ids)


def init_script() -> str:
    return (DEPLOY / "postgres" / "init-databases.sh").read_text(encoding="utf-8")


def test_compose_creates_the_databases_with_the_init_script() -> None:
    script = DEPLOY / "postgres" / "init-databases.sh"
    assert os.access(script, os.X_OK), "the init script must be executable"
    assert init_script().startswith("#!/bin/bash\n")
    mounts = compose()["services"]["postgres"]["volumes"]
    assert any(m.startswith("./postgres/init-databases.sh:/docker-entrypoint-initdb.d/") for m in mounts)


def test_compose_publishes_only_the_gateway_which_reaches_every_service() -> None:
    services = compose()["services"]
    assert [name for name, s in services.items() if s.get("ports")] == ["gateway"]
    gateway = services["gateway"]
    assert "8000:8000" in gateway["ports"]
    env = gateway["environment"]
    for key, variable in SERVICE_URL_VARIABLES.items():
        assert env[variable] == f"http://{SERVICES[key]}:8000"
        assert gateway["depends_on"][SERVICES[key]] == {"condition": "service_healthy"}


def test_compose_has_health_checks_and_waits_on_them() -> None:
    services = compose()["services"]
    for name, service in services.items():
        assert service["healthcheck"]["test"], f"{name} has no health check"
    for name in SERVICES.values():
        assert "/health" in " ".join(services[name]["healthcheck"]["test"])
        for dependency in ("postgres", "kafka"):
            assert services[name]["depends_on"][dependency] == {"condition": "service_healthy"}


def test_compose_config_is_valid_for_docker_compose_when_the_plugin_exists() -> None:
    # Parsing is asserted above in any case; `docker compose config` needs no daemon, only the CLI plugin.
    assert compose()["name"] == "crm"
    docker = shutil.which("docker")
    if docker is None:
        return
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return
    result = subprocess.run(  # no variable is required: every one has a default
        [docker, "compose", "-f", str(DEPLOY / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# --- Render Blueprint ---------------------------------------------------------------------------------------


def render() -> dict[str, Any]:
    return load(DEPLOY / "render.yaml")


def render_services() -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in render()["services"]}


def env_of(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["key"]: entry for entry in service.get("envVars", []) if "key" in entry}


def groups_of(service: dict[str, Any]) -> list[str]:
    return [entry["fromGroup"] for entry in service.get("envVars", []) if "fromGroup" in entry]


def test_render_has_the_gateway_as_web_and_five_private_services_from_the_dockerfile() -> None:
    services = render_services()
    assert set(services) == {f"crm-{name}" for name in PROCESSES}
    assert services["crm-gateway"]["type"] == "web"
    for name in SERVICES.values():
        assert services[f"crm-{name}"]["type"] == "pserv"
    regions = set()
    for name in PROCESSES:
        service = services[f"crm-{name}"]
        assert service["runtime"] == "docker"
        assert service["dockerfilePath"] == "./deploy/Dockerfile"
        assert service["dockerContext"] == "."
        assert service["dockerCommand"] == f"serve {name}"  # the image's ENTRYPOINT is crm
        regions.add(service["region"])
    # The gateway's /health aggregates the services (503 while one is down): Render would stop routing to the
    # whole API and restart it. /ready is the gateway's own liveness.
    assert services["crm-gateway"]["healthCheckPath"] == "/ready"
    assert len(regions | {db["region"] for db in render()["databases"]}) == 1  # one private network


def test_render_gives_each_service_its_own_database() -> None:
    databases = {db["name"]: db for db in render()["databases"]}
    assert len(databases) == len(SERVICES)
    used = []
    for key, name in SERVICES.items():
        url = env_of(render_services()[f"crm-{name}"])["DATABASE_URL"]["fromDatabase"]
        assert url["property"] == "connectionString"
        assert databases[url["name"]]["databaseName"] == key
        assert databases[url["name"]]["ipAllowList"] == []  # private network only
        used.append(url["name"])
    assert sorted(used) == sorted(databases)


def test_render_env_group_shares_kafka_settings() -> None:
    (group,) = render()["envVarGroups"]
    assert group["name"] == "crm-kafka"
    env = {entry["key"]: entry for entry in group["envVars"]}
    assert env["KAFKA_ENABLED"]["value"] == "true"
    assert env["KAFKA_MECHANISM"]["value"] in KAFKA_MECHANISMS
    # Render ignores `sync: false` in a group, and a group cannot reference services or databases.
    for entry in group["envVars"]:
        assert set(entry) <= {"key", "value", "generateValue"}, entry

    services = render_services()
    for name in PROCESSES:
        assert groups_of(services[f"crm-{name}"]) == ["crm-kafka"], name
    for key, name in SERVICES.items():
        own = env_of(services[f"crm-{name}"])
        assert set(own) | set(env) >= KAFKA_VARIABLES, f"{name} misses Kafka settings"
        for secret in ("KAFKA_BROKERS", "KAFKA_USERNAME", "KAFKA_PASSWORD"):
            assert own[secret] == {"key": secret, "sync": False}, f"{name}: {secret} asked at creation"
        assert own["KAFKA_CLIENT_ID"]["value"] == CLIENT_IDS[key]


def test_render_gateway_reaches_each_private_service_by_its_hostport() -> None:
    env = env_of(render_services()["crm-gateway"])
    for key, variable in SERVICE_URL_VARIABLES.items():
        assert env[variable]["fromService"] == {
            "type": "pserv",
            "name": f"crm-{SERVICES[key]}",
            "property": "hostport",
        }


# --- Kubernetes ---------------------------------------------------------------------------------------------


def manifests() -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    for path in sorted(KUBERNETES.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            documents.extend(load_all(path))
    return documents


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in manifests() if doc["kind"] == kind}


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def env_values(deployment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in container(deployment).get("env", [])}


def test_kubernetes_deployments_probe_run_as_non_root_and_select_a_known_service() -> None:
    deployments = of_kind("Deployment")
    assert set(deployments) == PROCESSES
    images = set()
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        box = container(deployment)
        assert box["args"] == ["serve", name]
        assert box["readinessProbe"]["httpGet"]["path"] == "/ready", name
        # The gateway's /health aggregates its upstreams: it must not decide the gateway's liveness.
        assert box["livenessProbe"]["httpGet"]["path"] == ("/ready" if name == "gateway" else "/health"), name
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == dockerfile_uid()
        assert box["securityContext"]["allowPrivilegeEscalation"] is False
        assert box["securityContext"]["readOnlyRootFilesystem"] is True
        assert {"requests", "limits"} <= set(box["resources"])
        assert "replicas" not in deployment["spec"], "the HorizontalPodAutoscaler owns the replica count"
        images.add(box["image"])
    assert len(images) == 1  # one image for every process


def test_kubernetes_services_get_their_own_database_and_kafka_client_id_from_the_secret() -> None:
    deployments = of_kind("Deployment")
    secret_keys = set(load(KUBERNETES / "secret.example.yaml")["stringData"])
    config_keys = set(of_kind("ConfigMap")["crm-config"]["data"])
    assert {"KAFKA_ENABLED", "KAFKA_BROKERS", "KAFKA_MECHANISM"} <= config_keys
    for key, name in SERVICES.items():
        env = env_values(deployments[name])
        assert env["KAFKA_CLIENT_ID"]["value"] == CLIENT_IDS[key]
        database = env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert database == {"name": "crm-secrets", "key": f"{key.upper()}_DATABASE_URL"}
        for variable in ("KAFKA_USERNAME", "KAFKA_PASSWORD"):
            assert env[variable]["valueFrom"]["secretKeyRef"]["key"] == variable
        assert set(env) | config_keys >= KAFKA_VARIABLES
    for deployment in deployments.values():
        for entry in container(deployment)["env"]:
            reference = entry.get("valueFrom", {}).get("secretKeyRef")
            if reference and not reference.get("optional"):
                assert reference["key"] in secret_keys, f"the Secret template lacks {reference['key']}"


def test_kubernetes_secret_template_holds_only_placeholders() -> None:
    values = load(KUBERNETES / "secret.example.yaml")["stringData"]
    for key, value in values.items():
        assert "CHANGE_ME" in value, key


def test_kubernetes_every_process_has_a_cluster_ip_service_and_a_cpu_autoscaler() -> None:
    deployments, services = of_kind("Deployment"), of_kind("Service")
    scalers = of_kind("HorizontalPodAutoscaler")
    for name, deployment in deployments.items():
        service = services[name]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["type"] == "ClusterIP"
        assert service["spec"]["selector"].items() <= labels.items()
        assert service["spec"]["ports"] == [{"name": "http", "port": 8000, "targetPort": "http"}]
        scaler = scalers[name]["spec"]
        assert scaler["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        (metric,) = scaler["metrics"]
        assert metric["resource"]["name"] == "cpu"
        assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}
    gateway = env_values(deployments["gateway"])
    for key, variable in SERVICE_URL_VARIABLES.items():
        assert gateway[variable]["value"] == f"http://{SERVICES[key]}:8000"
    (ingress,) = of_kind("Ingress").values()
    backends = [p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]]
    assert backends == ["gateway"]


def test_kustomization_lists_every_manifest_but_the_secret_template() -> None:
    kustomization = load(KUBERNETES / "kustomization.yaml")
    expected = {p.name for p in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert set(kustomization["resources"]) == expected
    for document in manifests():
        assert document["metadata"].get("namespace", "crm") == "crm"


# --- access tokens: EdDSA by default on every platform -----------------------------------------------------

# auth signs and verifies with its own keys; the others fetch its public keys.
VERIFIERS = PROCESSES - {"auth"}


def compose_token_env() -> dict[str, dict[str, Any]]:
    return {name: compose()["services"][name]["environment"] for name in PROCESSES}


def kubernetes_token_env() -> dict[str, dict[str, Any]]:
    """Each Deployment's variables: its ConfigMap's (envFrom), then its own ``env`` entries over them."""
    config = of_kind("ConfigMap")["crm-config"]["data"]
    found = {}
    for name, deployment in of_kind("Deployment").items():
        sources = container(deployment).get("envFrom", [])
        shared = config if {"configMapRef": {"name": "crm-config"}} in sources else {}
        found[name] = {**{k: {"name": k, "value": v} for k, v in shared.items()}, **env_values(deployment)}
    return found


def test_every_verifying_process_reaches_auths_public_keys() -> None:
    """EdDSA: each process but auth fetches the JWKS from AUTH_SERVICE_URL (else it refuses to start)."""
    for name in VERIFIERS:
        assert compose_token_env()[name]["AUTH_SERVICE_URL"] == "http://auth:8000", name
        assert kubernetes_token_env()[name]["AUTH_SERVICE_URL"]["value"] == "http://auth:8000", name
        render_url = env_of(render_services()[f"crm-{name}"])["AUTH_SERVICE_URL"]["fromService"]
        assert render_url == {"type": "pserv", "name": "crm-auth", "property": "hostport"}, name
    # Render's hostport is a bare host:port: the settings make it a URL for the JWKS fetch too.
    for name in VERIFIERS:
        settings = Settings.from_env(name.replace("-", "_"), {"AUTH_SERVICE_URL": "crm-auth-x1y2:10000"})
        assert settings.service_urls["auth"] == "http://crm-auth-x1y2:10000"
        assert token_security(settings, None).status()["publicKeys"].startswith("not loaded from http://")


def test_no_deployment_generates_requires_or_bakes_in_a_signing_secret() -> None:
    """JWT_SECRET (HS256, the seed's setup) is an opt-in: empty, optional or absent everywhere."""
    (group,) = render()["envVarGroups"]
    assert "JWT_SECRET" not in {entry["key"] for entry in group["envVars"]}
    for name in PROCESSES:
        assert "JWT_SECRET" not in env_of(render_services()[f"crm-{name}"]), name
        # compose: empty unless the operator sets it (never `:?`, which would make it required)
        assert compose_token_env()[name]["JWT_SECRET"] == "${JWT_SECRET:-}", name
        reference = kubernetes_token_env()[name]["JWT_SECRET"]["valueFrom"]["secretKeyRef"]
        assert reference == {"name": "crm-secrets", "key": "JWT_SECRET", "optional": True}, name
    assert "JWT_SECRET" not in load(KUBERNETES / "secret.example.yaml")["stringData"]
    assert "JWT_SECRET" not in of_kind("ConfigMap")["crm-config"]["data"]


# --- .env.example -------------------------------------------------------------------------------------------

# Reads of one variable by name, in the code that configures the CRM (localinfra/ starts the test bed's own
# broker and PostgreSQL: its JAVA_HOME and CRM_CACHE_DIR are not deployment settings).
READS = (
    re.compile(r"""\benv\.(?:text|flag|number|choice)\(\s*["']([A-Z][A-Z0-9_]*)["']"""),
    re.compile(r"""\benviron\.get\(\s*["']([A-Z][A-Z0-9_]*)["']"""),
    re.compile(r"""\benviron\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\]"""),
    re.compile(r"""\bgetenv\(\s*["']([A-Z][A-Z0-9_]*)["']"""),
)
# f"{service.upper()}_DATABASE_URL": one variable per service.
PER_SERVICE_READ = re.compile(r"""\benviron\.get\(\s*f["']\{[^}"']*\}(_[A-Z][A-Z0-9_]*)["']""")
NOT_DEPLOYMENT_SETTINGS = ("localinfra",)
# Documented ahead of the code that will read it (sales-activity's due-soon check interval).
PENDING: set[str] = set()


def variables_read_by_the_code() -> set[str]:
    names = set(SERVICE_URL_VARIABLES.values())
    for path in SRC.rglob("*.py"):
        if any(part in NOT_DEPLOYMENT_SETTINGS for part in path.relative_to(SRC).parts):
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in READS:
            names.update(pattern.findall(text))
        for suffix in PER_SERVICE_READ.findall(text):
            names.update(f"{key.upper()}{suffix}" for key in SERVICES)
    return names


def env_example_lines() -> list[str]:
    return (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()


def documented_variables() -> dict[str, str]:
    """Variable -> value, for `NAME=value` lines and commented-out `# NAME=value` ones."""
    found: dict[str, str] = {}
    for line in env_example_lines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def test_the_scan_finds_the_variables_it_must() -> None:
    read = variables_read_by_the_code()
    assert {"KAFKA_BROKERS", "UPSTASH_KAFKA_SASL_PASSWORD", "CRM_ADMIN_EMAIL", "PORT", "LOG_FORMAT"} <= read
    assert {"AUTH_DATABASE_URL", "SALES_ACTIVITY_DATABASE_URL", "ANALYTICS_SERVICE_URL"} <= read
    assert not read & {"JAVA_HOME", "CRM_CACHE_DIR"}


def test_env_example_documents_every_variable_the_code_reads() -> None:
    missing = variables_read_by_the_code() - set(documented_variables())
    assert not missing, f"add to .env.example, with a comment: {sorted(missing)}"


def test_env_example_documents_nothing_the_code_does_not_read() -> None:
    unknown = set(documented_variables()) - variables_read_by_the_code() - PENDING
    assert not unknown, f"read by no code (a typo?): {sorted(unknown)}"


def test_env_example_explains_every_variable_and_holds_no_secret() -> None:
    block: list[str] = []
    for line in [*env_example_lines(), ""]:
        if line.strip():
            block.append(line)
            continue
        variables = [entry for entry in block if re.match(r"^#?\s*[A-Z][A-Z0-9_]*=", entry)]
        comments = [entry for entry in block if entry.startswith("#") and entry not in variables]
        assert not variables or comments, f"no comment for {variables}"
        block = []
    values = documented_variables()
    for secret in ("KAFKA_PASSWORD", "UPSTASH_KAFKA_SASL_PASSWORD", "JWT_SECRET", "CRM_ADMIN_PASSWORD"):
        assert values[secret] == "", f"{secret} must be empty in .env.example"
    # An empty KAFKA_SSL= reads as false and would turn TLS off under SASL: it may only appear commented out.
    assert not any(line.startswith("KAFKA_SSL=") for line in env_example_lines())


# --- Dockerfile and .dockerignore ---------------------------------------------------------------------------


def dockerfile() -> str:
    return (DEPLOY / "Dockerfile").read_text(encoding="utf-8")


def instructions(name: str) -> list[str]:
    text = re.sub(r"\\\n\s*", " ", dockerfile())  # join continued lines
    return [line.split(None, 1)[1] for line in text.splitlines() if line.split(None, 1)[:1] == [name]]


def dockerfile_uid() -> int:
    (user,) = instructions("USER")
    return int(user.split(":")[0])


def test_dockerfile_builds_a_small_image_that_runs_as_non_root() -> None:
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in dockerfile()
    assert len(instructions("FROM")) >= 2, "multi-stage: build tools stay out of the final image"
    assert "crm[postgres,kafka]" in dockerfile()
    user = instructions("USER")[-1]
    assert user.split(":")[0] not in ("root", "0"), "the image must not run as root"
    assert dockerfile_uid() > 0
    assert instructions("ENTRYPOINT") == ['["crm"]']
    assert instructions("CMD")[-1] == '["serve", "gateway"]'
    assert instructions("EXPOSE") == ["8000"]
    environment = " ".join(instructions("ENV"))
    for setting in ("PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1", "PORT=8000"):
        assert setting in environment


def test_the_image_and_the_wheel_carry_the_built_web_app() -> None:
    froms = instructions("FROM")
    assert froms[0] == "${NODE_IMAGE} AS web", "a Node stage builds the web app first"
    assert re.search(r"^ARG NODE_IMAGE=node:(2[2-9]|[3-9]\d)\b", dockerfile(), re.M), "Vite: Node >= 20.19"
    runs = instructions("RUN")
    assert "npm ci --no-audit --no-fund" in runs and "npm run build" in runs
    # Copied into the package before the wheel is built: the wheel carries it as package data.
    copy = "--from=web /web/dist ./src/crm/webui/dist"
    assert copy in instructions("COPY")
    assert dockerfile().index(copy) < dockerfile().index("pip wheel")
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert package_data["package-data"]["crm.webui"] == ["dist/**/*"]
    entries = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {"web/dist", "**/node_modules"} <= entries, "the image builds the app itself, from the sources"
    assert "web" not in entries


def test_dockerfile_health_check_uses_urllib_on_health() -> None:
    (check,) = instructions("HEALTHCHECK")
    assert "urllib.request" in check
    assert "/health" in check
    assert "curl" not in check


def test_dockerfile_bakes_in_no_secret() -> None:
    for kind in ("ENV", "ARG"):
        for instruction in instructions(kind):
            assert not re.search(r"(SECRET|PASSWORD|TOKEN|_KEY)\w*=", instruction), instruction


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    entries = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".venv", "__pycache__", ".crm-data", "test-artifacts", "node_modules", ".git", ".env"} <= entries


# --- client addresses behind a load balancer (the per-IP rate limit) ----------------------------------------

PRIVATE_NETWORKS = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}


def forwarded_allow_ips() -> dict[str, str]:
    """FORWARDED_ALLOW_IPS of the gateway in each deploy file."""
    compose_env = compose()["services"]["gateway"]["environment"]
    return {
        "render": env_of(render_services()["crm-gateway"])["FORWARDED_ALLOW_IPS"]["value"],
        "compose": compose_env["FORWARDED_ALLOW_IPS"],
        "kubernetes": env_values(of_kind("Deployment")["gateway"])["FORWARDED_ALLOW_IPS"]["value"],
    }


def test_every_gateway_deployment_says_whose_forwarded_headers_it_believes() -> None:
    values = forwarded_allow_ips()
    assert not any("*" in value for value in values.values()), "* believes a client's own X-Forwarded-For"
    # Behind a platform's proxy or an ingress on a private network: believe those networks.
    for platform in ("render", "kubernetes"):
        assert set(values[platform].split(",")) >= PRIVATE_NETWORKS, platform
    # Published directly: nobody's, unless the operator puts a proxy in front.
    assert values["compose"] == "${FORWARDED_ALLOW_IPS:-127.0.0.1}"


def test_every_process_of_every_deployment_can_be_scraped_with_a_metrics_token() -> None:
    """/metrics answers only METRICS_TOKEN or an ADMIN token: each platform hands every process the token."""
    (group,) = render()["envVarGroups"]
    assert {"key": "METRICS_TOKEN", "generateValue": True} in group["envVars"]
    for name in PROCESSES:
        assert "crm-kafka" in groups_of(render_services()[f"crm-{name}"]), name
        assert compose()["services"][name]["environment"]["METRICS_TOKEN"] == "${METRICS_TOKEN:-}", name
        reference = env_values(of_kind("Deployment")[name])["METRICS_TOKEN"]["valueFrom"]["secretKeyRef"]
        assert reference == {"name": "crm-secrets", "key": "METRICS_TOKEN", "optional": True}, name
    assert "METRICS_TOKEN" in load(KUBERNETES / "secret.example.yaml")["stringData"]


async def test_behind_the_balancer_the_client_address_is_the_first_untrusted_hop() -> None:
    from crm.cli.run import server_config

    os.environ["FORWARDED_ALLOW_IPS"] = forwarded_allow_ips()["kubernetes"]
    try:
        config = server_config(lambda *_: None, "0.0.0.0", 8000)
    finally:
        del os.environ["FORWARDED_ALLOW_IPS"]
    assert config.proxy_headers
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["client"][0])

    middleware = ProxyHeadersMiddleware(app, trusted_hosts=config.forwarded_allow_ips)  # type: ignore[arg-type]
    for peer, forwarded in [
        ("10.2.0.7", "203.0.113.9"),  # the balancer adds the client
        ("10.2.0.7", "198.51.100.1, 203.0.113.9"),  # a client's own header: its claim is ignored
        ("10.2.0.7", "203.0.113.9, 10.9.8.7"),  # two hops inside the cluster
        ("203.0.113.9", "198.51.100.1"),  # straight from the internet: not believed
    ]:
        scope = {
            "type": "http",
            "client": (peer, 4000),
            "headers": [(b"x-forwarded-for", forwarded.encode())],
        }
        await middleware(scope, None, None)  # type: ignore[arg-type]
    assert seen == ["203.0.113.9"] * 4
