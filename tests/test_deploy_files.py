"""The container files agree with the project: the image holds every package the wheel
ships, migrations run once before any bot starts, and compose sets only real settings."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def test_the_image_copies_every_package_of_the_wheel():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    copied = set(re.findall(r"^COPY (\w+) \./\1$", dockerfile, flags=re.MULTILINE))
    assert set(packages) <= copied, set(packages) - copied
    assert re.search(r"^USER taizhang$", dockerfile, flags=re.MULTILINE)  # never root


def test_migrations_run_once_before_the_bot():
    services = _compose()["services"]
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["bot"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_sets_only_settings_the_bot_knows():
    from bot.settings import Settings

    environment = _compose()["services"]["bot"]["environment"]
    for name in environment:
        group, _, field = name.lower().partition("__")
        assert group in Settings.model_fields, name
        if field:
            assert field in Settings.model_fields[group].annotation.model_fields, name


def test_the_local_base_images_are_the_ones_compose_reads():
    """deploy/local-images/build.sh prints NAME=image lines for .env: each NAME is a base image
    compose.yaml takes from the environment, with the official image as its default."""
    script = (ROOT / "deploy" / "local-images" / "build.sh").read_text(encoding="utf-8")
    printed = set(re.findall(r"^([A-Z_]+_IMAGE)=\$prefix/", script, flags=re.MULTILINE))
    compose = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    read = set(re.findall(r"\$\{([A-Z_]+_IMAGE):-[^}]+\}", compose))
    assert printed == read == {"PYTHON_IMAGE", "UV_IMAGE", "POSTGRES_IMAGE", "REDIS_IMAGE"}
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM \$\{PYTHON_IMAGE\} AS build$", dockerfile, flags=re.MULTILINE)
    assert "--mount=" not in dockerfile and "# syntax=" not in dockerfile  # no BuildKit needed


def test_the_local_images_scripts_parse():
    import subprocess

    folder = ROOT / "deploy" / "local-images"
    for script, shell in (("build.sh", "bash"), ("postgres-entrypoint.sh", "sh"),
                          ("redis-entrypoint.sh", "sh")):  # fmt: skip
        subprocess.run([shell, "-n", str(folder / script)], check=True)
        assert (folder / script).stat().st_mode & 0o111, f"{script} is not executable"
