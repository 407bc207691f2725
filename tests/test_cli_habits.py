"""The `kesu` command's habits: every option explained in its help (and no `<bool>`), long
commands report their progress also when not on a terminal, and `kesu triage train` writes
the operator's model outside the installed package."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner

from kesu.cli import app
from kesu.triage import model
from tests.triage.test_model import DEMO

runner = CliRunner()


def _commands(group, path: tuple[str, ...] = ()):
    yield path, group
    if hasattr(group, "commands"):
        for name, sub in group.commands.items():
            yield from _commands(sub, (*path, name))


def test_every_command_explains_every_option_without_type_noise():
    root = typer.main.get_command(app)
    seen = 0
    for path, cmd in _commands(root):
        r = runner.invoke(app, [*path, "--help"])
        assert r.exit_code == 0, (path, r.output)
        assert "<bool>" not in r.output, (path, r.output)
        assert "--no-force" not in r.output and "--no-once" not in r.output
        for param in cmd.params:
            if param.name == "help":
                continue
            text = getattr(param, "help", None)
            assert text and text.strip(), f"kesu {' '.join(path)}: {param.name} has no help"
            # Chinese first (what the operator reads), English after.
            assert re.search(r"[\u4e00-\u9fff]", text), (path, param.name, text)
        assert (cmd.help or "").strip(), f"kesu {' '.join(path)} has no description"
        seen += 1
    assert seen > 25


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KESU_")}
    env.update(KESU_HOME=str(tmp_path / "home"), KESU_PROGRESS_SECONDS="0.2", **extra)
    return env


def test_demo_load_reports_progress_in_lines_when_not_on_a_terminal(tmp_path, database_url):
    proc = subprocess.run(
        [sys.executable, "-m", "kesu.cli", "demo", "--count", "60"],
        env=_env(tmp_path, KESU_DATABASE_URL=database_url),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("载入演示数据") and lines[0].endswith("开始")
    steps = [m for line in lines if (m := re.search(r"已处理 (\d+)/60（(\d+)%）", line))]
    assert len(steps) >= 2, proc.stderr  # periodic, not only at the end
    done = [int(m.group(1)) for m in steps]
    # Periodic lines come while the work runs (the first before the end); a
    # heartbeat may also land after the last complaint, while the load commits.
    assert done == sorted(done) and done[0] < 60 and done[-1] <= 60
    assert re.search(r"载入演示数据 Loading demo data：完成 60/60，用时 \d+ 秒", lines[-1])
    # No terminal escapes in a log, and the summary stays on stdout.
    assert "\x1b[" not in proc.stderr
    assert "演示数据已载入：60 件投诉" in proc.stdout


def _digest(directory: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(directory.iterdir()):
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def test_train_writes_to_the_operators_model_directory_and_triage_uses_it(tmp_path, monkeypatch):
    data = tmp_path / "train.csv"
    with data.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "category", "kind"])
        w.writerows((e.text, e.category, e.kind) for e in DEMO)
    packaged = _digest(model.PACKAGED_DIR)
    home = tmp_path / "home"
    proc = subprocess.run(
        [sys.executable, "-m", "kesu.cli", "triage", "train", "--data", str(data)],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    target = home / "triage-model"
    assert (target / "model.json").exists() and (target / "model.npz").exists()
    assert str(target) in proc.stdout.replace("\n", "")
    assert "macro-F1" in proc.stdout  # the measured scores
    assert "训练分类模型 Training：开始" in proc.stderr
    assert re.search(r"训练分类模型 Training（分词）：已处理 \d+/\d+", proc.stderr)
    assert "训练分类模型 Training（拟合分类模型）" in proc.stderr
    assert "：完成" in proc.stderr.splitlines()[-1]
    assert _digest(model.PACKAGED_DIR) == packaged  # the installed package is untouched

    # Triage now uses the operator's model; without it, the packaged one.
    monkeypatch.setenv("KESU_HOME", str(home))
    monkeypatch.delenv("KESU_TRIAGE_MODEL_DIR", raising=False)
    assert model.active_dir() == target
    ours = json.loads((target / "model.json").read_text(encoding="utf-8"))["version"]
    shipped = json.loads((model.PACKAGED_DIR / "model.json").read_text(encoding="utf-8"))
    assert ours != shipped["version"] and ours in proc.stdout
    assert model.shipped().meta["version"] == ours
    monkeypatch.setenv("KESU_HOME", str(tmp_path / "elsewhere"))
    assert model.active_dir() == model.PACKAGED_DIR
    assert model.shipped().meta["version"] == shipped["version"]

    # KESU_TRIAGE_MODEL_DIR says where; the package itself is refused.
    r = runner.invoke(
        app, ["triage", "train", "--data", str(data), "--out", str(model.PACKAGED_DIR)]
    )
    assert r.exit_code == 2 and "不能写入安装包" in r.output
    assert _digest(model.PACKAGED_DIR) == packaged
