"""The quarterly report: written as HTML and PDF, rendered to PNG pages, stars equal to ``najma rate``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from najma.dashboards.cli import app
from najma.journeys import Store
from najma.sample._services import SERVICES

QUARTER = "2025Q4"


@pytest.fixture(scope="module")
def najma_rate(built_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The star table of ``najma rate``, as the CSV it writes."""
    out = tmp_path_factory.mktemp("rate") / "ratings.csv"
    result = CliRunner().invoke(app, ["rate", "--quarter", QUARTER, "--store", str(built_sample), "--no-record",
                                      "--draws", "20", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return pd.read_csv(out).set_index("service")


def _report(built_sample: Path, out: Path, lang: str) -> tuple[str, Path]:
    result = CliRunner().invoke(app, ["report", "--quarter", QUARTER, "--lang", lang, "--store", str(built_sample),
                                      "--draws", "20", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return (out / f"rating-report-{QUARTER}-{lang}.html").read_text(encoding="utf-8"), out / f"rating-report-{QUARTER}-{lang}.pdf"


def _pages(pdf: Path, out: Path) -> list[Path]:
    """Render every page to PNG with pdftoppm, as a reader would see it; the pictures stay beside the PDF."""
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(out / pdf.stem)], check=True)
    return sorted(out.glob(f"{pdf.stem}-*.png"))


def test_the_english_report_holds_every_service_with_the_stars_of_najma_rate(built_sample, najma_rate, tmp_path):
    html, pdf = _report(built_sample, tmp_path, "en")
    rows = dict(re.findall(r'data-service="([^"]+)" data-stars="(\d*)"', html))
    assert set(rows) == {s.key for s in SERVICES}
    assert {k: int(v) for k, v in rows.items()} == najma_rate["stars"].astype(int).to_dict()
    for service in SERVICES:
        assert f'id="service-{service.key}"' in html and service.name_en in html
    assert "Next star" in html and "KPIs against targets" in html and "Data coverage" in html
    assert html.count("<svg") >= 1 + 3 * len(SERVICES)  # the star distribution, then map, steps and KPIs per service
    pages = _pages(pdf, tmp_path)
    assert len(pages) > len(SERVICES)  # an overview, then at least a page per service
    for page in pages[:3]:
        pixels = np.asarray(Image.open(page).convert("L"))
        assert pixels.std() > 10  # drawn, not blank


def test_the_arabic_report_reads_right_to_left_in_an_arabic_font(built_sample, najma_rate, tmp_path):
    html, pdf = _report(built_sample, tmp_path, "ar")
    assert '<html lang="ar" dir="rtl">' in html
    assert all(service.name_ar in html for service in SERVICES)
    assert "النجمة التالية" in html
    rows = dict(re.findall(r'data-service="([^"]+)" data-stars="(\d*)"', html))
    assert {k: int(v) for k, v in rows.items()} == najma_rate["stars"].astype(int).to_dict()
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert "NotoSansArabic" in fonts or "NotoNaskhArabic" in fonts
    assert _pages(pdf, tmp_path)


def test_the_report_shows_quarantined_rows_and_the_model(built_sample, tmp_path):
    with Store(built_sample, read_only=True) as store:
        quarantined = store.con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0]
    html, _ = _report(built_sample, tmp_path, "en")
    assert "Quarantined rows" in html and "Rating model" in html
    assert ("No row was quarantined." in html) == (quarantined == 0)
    assert re.search(r"configuration hash <code>[0-9a-f]{12}</code>", html)


def test_rate_and_explain_speak_for_every_service(built_sample, najma_rate):
    assert len(najma_rate) == len(SERVICES) and najma_rate["stars"].between(2, 7).all()
    result = CliRunner().invoke(app, ["explain", "--service", "trade_licence", "--quarter", "2025Q1",
                                      "--store", str(built_sample), "--draws", "20"])
    assert result.exit_code == 0, result.output
    assert "since 2024Q4 (+" in result.output and "next star:" in result.output


def test_an_unknown_quarter_or_service_is_one_clear_line(built_sample, tmp_path):
    for args, message in (
        (["rate", "--quarter", "2030Q1", "--no-record"], "no cases started in 2030Q1; the store's quarters are 2024Q1 to 2025Q4"),
        (["explain", "--service", "nope", "--quarter", QUARTER], "no service 'nope' rated in 2025Q4"),
        (["report", "--quarter", QUARTER, "--lang", "fr", "--out", str(tmp_path)], "Invalid value for '--lang': Value error, 'fr' is not one of 'en', 'ar'"),
    ):
        run = subprocess.run([sys.executable, "-m", "najma", *args,
                              "--store", str(built_sample)], capture_output=True, text=True)
        assert run.returncode == 2, run.stderr
        assert message in run.stderr and "Traceback" not in run.stderr
