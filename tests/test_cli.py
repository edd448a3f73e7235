"""The ``layercache-asgi`` command line: schema, check-config, db, serve."""
# On sockets: the CLI serves the app with uvicorn in a subprocess.

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import httpx
import openai
import pytest
import yaml

from layercache_asgi import Settings, load_settings
from layercache_asgi.cli import main
from tests._hosted import free_port, wait_until_up

REPO = Path(__file__).resolve().parents[1]


def test_console_script_is_declared() -> None:
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "layercache-asgi"]
    assert script.value == "layercache_asgi.cli:main"


def test_schema_matches_the_committed_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "schema.json"
    assert main(["schema", "-o", str(out)]) == 0
    committed = (REPO / "layercache.schema.json").read_text()
    assert out.read_text() == committed, "layercache.schema.json is stale: run `layercache-asgi schema`"
    schema = json.loads(committed)
    assert schema["additionalProperties"] is False
    assert "similarity_threshold" in schema["$defs"]["SemanticCacheSettings"]["properties"]
    capsys.readouterr()
    assert main(["schema", "-o", "-"]) == 0
    assert capsys.readouterr().out == committed


def test_sample_config_points_at_the_schema_and_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    sample = REPO / "layercache.yaml"
    assert sample.read_text().startswith("# yaml-language-server: $schema=./layercache.schema.json\n")
    assert main(["check-config", str(sample)]) == 0
    assert "OK" in capsys.readouterr().out
    assert Settings.model_validate(yaml.safe_load(sample.read_text())) == Settings()


BAD_CONFIG = """\
proxy:
  port: eighty
caching:
  semantic:
    similarity_threshold: 1.5
    enabeld: true
models:
  - name: fast
    model: openai/gpt-4o-mini
  - name: broken
upstream:
  timeout: -3
"""


def test_check_config_reports_each_problem_with_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_CONFIG)
    assert main(["check-config", str(bad)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{bad}:2:3: proxy.port: Input should be a valid integer, unable to parse string as an integer (got 'eighty')",
        f"{bad}:5:5: caching.semantic.similarity_threshold: Input should be less than or equal to 1 (got '1.5')",
        f"{bad}:6:5: caching.semantic.enabeld: unknown key 'enabeld'; did you mean 'enabled'?",
        f"{bad}:10:5: models[1].model: required key is missing",
        f"{bad}:12:3: upstream.timeout: Input should be greater than 0 (got '-3')",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("proxy:\n  port: [8000,\n", ":3:1: not valid YAML"),
        ("- just\n- a list\n", ":1:1: the top level must be a mapping"),
        ("# filled in later\n", ":1:1: the file is empty"),
        ("proxy:\n  port: 1\nproxy:\n  port: 2\n", ":3:1: proxy: duplicate key (also on line 1"),
        ("database:\n  auto_upgrade: sometimes\n", ":2:3: database.auto_upgrade: Input should be a valid boolean"),
    ],
)
def test_check_config_on_broken_documents(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    assert main(["check-config", str(bad)]) == 1
    assert capsys.readouterr().out.startswith(f"{bad}{expected}")


def test_check_config_on_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(tmp_path / "nope.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_check_config_finds_the_file_serve_would_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "layercache.yaml").write_text("logging:\n  level: LOUD\n")
    monkeypatch.delenv("LAYERCACHE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["check-config"]) == 1
    assert "layercache.yaml:2:3: logging.level: Input should be" in capsys.readouterr().out


# -- db -----------------------------------------------------------------------------------


@pytest.mark.postgres
def test_db_upgrade_current_check(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from layercache_asgi.db._migrate import head

    assert main(["db", "current", "--url", database_url]) == 0
    assert capsys.readouterr().out.strip() == "base (no migrations applied)"  # an empty database
    assert main(["db", "check", "--url", database_url]) == 1
    assert f"at base, the newest is {head()}: run `layercache-asgi db upgrade`" in capsys.readouterr().err
    assert main(["db", "upgrade", "--url", database_url]) == 0
    assert capsys.readouterr().out.rstrip().endswith(f"upgraded to {head()}")
    assert main(["db", "current", "--url", database_url]) == 0
    assert capsys.readouterr().out.strip() == head()
    assert main(["db", "upgrade", "--url", database_url]) == 0  # idempotent
    assert capsys.readouterr().out.rstrip().endswith(f"already at {head()}")
    assert main(["db", "check", "--url", database_url]) == 0
    assert capsys.readouterr().out.rstrip().endswith("the models and the migrations agree")


@pytest.mark.postgres
def test_db_url_comes_from_the_config(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "conf.yaml"
    config.write_text(yaml.safe_dump({"database": {"url": database_url}}))
    assert main(["db", "upgrade", "-c", str(config)]) == 0
    monkeypatch.setenv("LAYERCACHE_CONFIG", str(config))
    assert main(["db", "current"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] not in ("", "base (no migrations applied)")


def test_db_unreachable_is_a_clear_error_without_the_password(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql+asyncpg://app:s3cret-pw@127.0.0.1:{port}/layercache"
    assert main(["db", "current", "--url", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: postgresql+asyncpg://app:***@127.0.0.1:{port}/layercache: ")
    assert "s3cret-pw" not in err


# -- serve -------------------------------------------------------------------------------


def test_serve_runs_the_proxy_with_the_config(tmp_path: Path, upstream: str, database_url: str) -> None:
    config = tmp_path / "conf.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "proxy": {"port": 1},  # overridden by --port
                "providers": {"openai": {"api_base": f"{upstream}/v1"}},
                "database": {"url": database_url, "auto_upgrade": True},
                "models": [{"name": "via-cli", "model": "openai/gpt-4o"}],
                "caching": {"semantic": {"enabled": False}},
                "logging": {"level": "WARNING"},
            }
        )
    )
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("LAYERCACHE_CONFIG", "LAYERCACHE_ADMIN_KEY")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "layercache_asgi.cli", "serve", "-c", str(config), "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        health = wait_until_up(f"http://127.0.0.1:{port}/health", proc)
        assert health.json()["status"] == "healthy"
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-x", max_retries=0)
        assert next(m.id for m in client.models.list()) == "via-cli"
        reply = client.chat.completions.create(model="via-cli", messages=[{"role": "user", "content": "served"}])
        assert reply.choices[0].message.content == "Echo: served"
        off = httpx.get(f"http://127.0.0.1:{port}/dashboard/")
        assert off.status_code == 403  # no admin key: secure by default
    finally:
        proc.terminate()
        proc.wait(15)
    assert proc.stderr is not None
    said = [line for line in proc.stderr.read().decode().splitlines() if "admin_api_key" in line]
    assert said == [
        "layercache-asgi: the dashboard and the management routes are off: set proxy.admin_api_key "
        "(or the environment variable $LAYERCACHE_ADMIN_KEY) to turn them on"
    ]


def test_serve_refuses_a_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("upstream:\n  timeout: -3\n")
    assert main(["serve", "-c", str(bad)]) == 2  # before uvicorn starts anything
    assert "timeout" in capsys.readouterr().err


# -- deployment files stay in sync with the CLI -------------------------------------------


def _cli_invocations(text: str) -> list[list[str]]:
    """Each ``layercache-asgi ...`` command line in a Dockerfile CMD or a compose command."""
    found = []
    for chunk in text.replace('"', " ").replace(",", " ").replace("[", " ").replace("]", " ").split("&&"):
        words = chunk.split()
        if "layercache-asgi" in words:
            found.append(words[words.index("layercache-asgi") + 1 :])
    return found


def test_dockerfile_and_compose_use_real_commands_and_valid_configs(capsys: pytest.CaptureFixture[str]) -> None:
    from layercache_asgi.cli import _parser

    dockerfile = (REPO / "Dockerfile").read_text()
    (cmd,) = [line for line in dockerfile.splitlines() if line.startswith("CMD ")]
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    proxy = compose["services"]["layercache"]
    invocations = _cli_invocations(cmd) + _cli_invocations(" ".join(proxy["command"]))
    assert [words[:2] for words in invocations] == [["serve", "--host"], ["db", "upgrade"], ["serve", "--host"]]
    for words in invocations:
        _parser().parse_args(words)  # exits on an unknown command or option

    assert "COPY docker/layercache.yaml /app/layercache.yaml" in dockerfile
    (config_mount,) = [v for v in proxy["volumes"] if v.endswith(":/app/layercache.yaml:ro")]
    compose_config = REPO / config_mount.split(":")[0]
    for config in (REPO / "docker" / "layercache.yaml", compose_config):
        assert main(["check-config", str(config)]) == 0, capsys.readouterr().out
    url = load_settings(compose_config).database.url
    assert url.startswith("postgresql+asyncpg://") and "@postgres:5432/" in url
    assert compose["services"]["postgres"]["environment"]["POSTGRES_DB"] == url.rsplit("/", 1)[1]
