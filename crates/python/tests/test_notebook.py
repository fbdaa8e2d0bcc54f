"""examples/seed-analysis.ipynb runs top to bottom (nbclient), so it does not rot."""

import pytest

from conftest import ROOT, SEED

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


def test_the_seed_analysis_notebook_runs(tmp_path, monkeypatch):
    if not SEED.exists():
        pytest.skip(f"{SEED} is missing")
    monkeypatch.setenv("WEBTHREAT_SEED", str(SEED))
    monkeypatch.setenv("WEBTHREAT_OUT", str(tmp_path))
    notebook = nbformat.read(ROOT / "examples" / "seed-analysis.ipynb", as_version=4)
    nbclient.NotebookClient(
        notebook, timeout=300, resources={"metadata": {"path": str(ROOT)}}
    ).execute()
    outputs = "".join(
        o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "15 of 282 rows flagged" in outputs
