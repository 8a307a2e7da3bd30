"""The web UI's third-party browser assets are exactly those recorded in
``collector/ui/static/vendor/vendor.json``: each file there, at its recorded sha256, with
the asset's version, source and licence; no file under ``static/vendor/`` left unrecorded."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from spyglass.collector.ui.app import STATIC_DIR

VENDOR_DIR = STATIC_DIR / "vendor"
MANIFEST = VENDOR_DIR / "vendor.json"


def assets() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(MANIFEST.read_text())["assets"]
    return found


def recorded_files() -> dict[str, str]:
    files: dict[str, str] = {}
    for asset in assets():
        for name, digest in asset["files"].items():
            assert name not in files, f"{name} is recorded twice"
            files[name] = digest
    return files


def test_the_manifest_records_assets() -> None:
    assert assets(), "vendor.json lists no asset"
    assert "htmx" in {asset["name"] for asset in assets()}


@pytest.mark.parametrize("asset", assets(), ids=lambda a: a["name"])
def test_each_asset_has_a_pinned_version_a_source_and_a_licence(asset: dict[str, Any]) -> None:
    for field in ("name", "version", "source", "license"):
        assert isinstance(asset.get(field), str) and asset[field].strip(), f"no {field}"
    assert asset["version"][0].isdigit(), f"version {asset['version']!r} is not a pinned one"
    assert asset["version"] in asset["source"], "the source should name the pinned version"
    assert asset["files"], "an asset without files"
    # the licence text ships beside the code
    assert any(
        Path(name).name.upper().startswith(("LICENSE", "LICENCE")) for name in asset["files"]
    )


@pytest.mark.parametrize("name", sorted(recorded_files()))
def test_each_recorded_file_exists_with_its_checksum(name: str) -> None:
    path = VENDOR_DIR / name
    assert path.is_file(), f"vendor.json records {name}, which is not in static/vendor/"
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    assert actual == recorded_files()[name], (
        f"{name} differs from the recorded version (sha256 {actual}); replace it with the "
        "pinned release or record the new version, source and checksum in vendor.json"
    )


def test_every_vendored_file_is_recorded() -> None:
    on_disk = {
        path.relative_to(VENDOR_DIR).as_posix()
        for path in VENDOR_DIR.rglob("*")
        if path.is_file() and path != MANIFEST
    }
    unrecorded = sorted(on_disk - set(recorded_files()))
    assert not unrecorded, f"files under static/vendor/ missing from vendor.json: {unrecorded}"


def test_htmx_is_the_recorded_version() -> None:
    (htmx,) = [asset for asset in assets() if asset["name"] == "htmx"]
    text = (VENDOR_DIR / "htmx" / "htmx.min.js").read_text()
    assert f'version:"{htmx["version"]}"' in text.replace(" ", "")
