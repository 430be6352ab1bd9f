"""Helpers for the workbook tests."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path


def convert_with_libreoffice(path: Path, workdir: Path) -> Path:
    """Convert to PDF with headless LibreOffice; fails on a file it cannot open (it never prompts headless)."""
    home = workdir / "lo-home"
    home.mkdir(exist_ok=True)
    result = subprocess.run(
        ["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{home}", "--convert-to", "pdf",
         "--outdir", str(workdir), str(path)],
        env={**os.environ, "HOME": str(home)}, capture_output=True, text=True, timeout=180,
    )
    pdf = workdir / (path.stem + ".pdf")
    assert result.returncode == 0 and pdf.exists(), result.stdout + result.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    return pdf
