"""The core stays free of the presentation layer."""

import subprocess
import sys


def test_import_recsys_does_not_import_streamlit_or_plotly():
    code = (
        "import sys, recsys, recsys.pipeline, recsys.store, recsys.cli, recsys.campaigns.export;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('streamlit', 'plotly')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_public_api_is_explicit():
    import recsys

    assert "RecommenderPipeline" in recsys.__all__
    for name in recsys.__all__:
        assert getattr(recsys, name) is not None
