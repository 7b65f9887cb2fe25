"""The README's first command: ``python -m semitensor`` runs the demo end to end."""
from semitensor.demo import main


def test_demo_runs_and_reports_every_format(capsys):
    main(["--size", "8"])
    out = capsys.readouterr().out
    for name in ("tucker", "train", "ring"):
        assert name in out.lower()
    assert "Traceback" not in out
