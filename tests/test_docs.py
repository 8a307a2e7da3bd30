"""The documentation holds together: the site in docs/ builds with ``mkdocs build --strict``
(mkdocs.yml turns broken links, missing anchors and pages left out of the nav into warnings,
which --strict makes fatal), and README.md stays a front page whose links all lead somewhere.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
README_MAX_LINES = 250
# [text](target) and [text](target "title"); images too. Code blocks are left out first.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def _readme_links() -> list[str]:
    text = CODE_SPAN.sub("", FENCE.sub("", README.read_text(encoding="utf-8")))
    return LINK.findall(text)


def _is_relative(target: str) -> bool:
    return not (re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith(("#", "/")))


def _heading_anchors(markdown_file: Path) -> set[str]:
    """The anchors GitHub and mkdocs both give a page's headings (lowercase, punctuation but
    hyphens dropped, spaces as hyphens)."""
    anchors = set()
    text = FENCE.sub("", markdown_file.read_text(encoding="utf-8"))
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.MULTILINE):
        plain = re.sub(r"[`*_]", "", heading).lower()
        anchors.add(re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", plain)))
    return anchors


def test_readme_is_a_front_page() -> None:
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines < README_MAX_LINES, (
        f"README.md has {lines} lines; keep it under {README_MAX_LINES} and move reference "
        "material into docs/"
    )


def test_readme_links_point_to_existing_files() -> None:
    links = [t for t in _readme_links() if _is_relative(t)]
    assert links, "README.md links into docs/ with relative links"
    assert any(t.startswith("docs/") for t in links)
    broken = []
    for target in links:
        path, _, anchor = target.partition("#")
        file = (ROOT / path).resolve()
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in _heading_anchors(file):
            broken.append(f"{target}: {path} has no heading with that anchor")
    assert not broken, "README.md has broken links:\n" + "\n".join(broken)


def test_the_heading_anchors_follow_the_renderers() -> None:
    assert _heading_anchors(ROOT / "docs" / "collector.md") >= {
        "flags-and-variables",
        "logs-genai-events",
        "status-codes-what-you-get-back",
    }


def test_docs_site_builds_strictly(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        if os.environ.get("CI"):
            pytest.fail(
                "mkdocs-material is not installed, and CI must build the docs: "
                "pip install -e '.[test]'"
            )
        pytest.skip(
            "mkdocs-material is not installed (pip install -e '.[test]'); CI builds the docs"
        )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--config-file",
            str(ROOT / "mkdocs.yml"),
            "--site-dir",
            str(tmp_path / "site"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    for page in ("index", "getting-started", "collector", "architecture"):
        built = tmp_path / "site" / ("index.html" if page == "index" else f"{page}/index.html")
        assert built.exists(), f"{page} was not built"
