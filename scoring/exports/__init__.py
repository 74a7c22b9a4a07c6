"""Exports that match the official forms: the score sheet (Excel, and taking it back), the report (Word),
the evidence bundle (zip), the charts (PNG/SVG) and the one-page summary (PDF).

Every export reads one `scoring.assessment.snapshot.Snapshot`, so the files agree with the pages to the quarter point.
Names are imported lazily: the command line loads openpyxl, python-docx or plotly only for the export asked.
"""

from __future__ import annotations

from importlib import import_module

_PUBLIC = {
    "write_scoresheet": "scoresheet",
    "read_scoresheet": "scoresheet_import",
    "apply_scoresheet_changes": "scoresheet_import",
    "ScoresheetChanges": "scoresheet_import",
    "LeafChange": "scoresheet_import",
    "ScoresheetError": "scoresheet_import",
    "write_report": "report",
    "write_evidence_bundle": "evidence_bundle",
    "figure_png": "charts",
    "figure_svg": "charts",
    "figures_png": "charts",
    "ChartExportError": "charts",
    "write_summary_pdf": "summary_pdf",
    "add_export_commands": "commands",
    "default_file_name": "common",
}

__all__ = list(_PUBLIC)


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_PUBLIC[name]}"), name)
