"""The results bundle: one archive a third party can check — reports, the exact contract and catalog, digests."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

from conformance.spec.loader import default_catalog_path, default_contract_path

BUNDLE_NAME = "conformance-results.zip"
REPORT_FILES = ("summary.json", "junit.xml", "report.html")


def write(report_dir: Path, summary: dict[str, Any], contract: Path | None = None, catalog: Path | None = None) -> Path:
    """Write the bundle next to the reports; the manifest lists every member with its SHA-256."""
    members: dict[str, bytes] = {}
    for name in REPORT_FILES:
        path = report_dir / name
        if path.is_file():
            members[name] = path.read_bytes()
    members["contract/ibl-data-manager.yaml"] = (contract or default_contract_path()).read_bytes()
    members["contract/requirements.yaml"] = (catalog or default_catalog_path()).read_bytes()
    manifest = {
        "suite_version": summary.get("suite_version"), "run_id": summary.get("run_id"),
        "generated_at": summary.get("generated_at"), "profile": summary.get("profile"), "seed": summary.get("seed"),
        "target": summary.get("target"), "verdict": summary.get("verdict"),
        "contract_version": summary.get("contract", {}).get("version"),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(members.items())},
    }
    path = report_dir / BUNDLE_NAME
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(members.items()):
            archive.writestr(name, data)
        archive.writestr("manifest.json", json.dumps(manifest, indent=2) + "\n")
    return path


def verify(path: Path) -> list[str]:
    """Problems found when checking a bundle's members against its manifest (empty: intact)."""
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        problems = []
        for name, digest in manifest["files"].items():
            if name not in archive.namelist():
                problems.append(f"{name} is missing")
            elif hashlib.sha256(archive.read(name)).hexdigest() != digest:
                problems.append(f"{name} does not match its digest")
        return problems
