"""The `playground` command: the window without a command, the CLI with one."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

LAUNCH = "import sys; from ui.launcher import main; sys.exit(main(sys.argv[1:]))"


def _launch(*args: str, drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return subprocess.run([sys.executable, "-c", LAUNCH, *args], capture_output=True, text=True,
                          env=env, timeout=240)


@pytest.mark.model
def test_self_test_opens_the_window_loads_the_model_and_generates() -> None:
    proc = _launch("--self-test", drop=("QT_QPA_PLATFORM",))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("self-test ok: window opened, 35 templates, ")
    assert "SmolLM2-135M-Instruct.Q4_1.gguf loaded" in proc.stdout
    generated = re.search(r"generated (\d+) tokens", proc.stdout)
    assert generated is not None and int(generated.group(1)) <= 4  # its budget: 4 tokens


def test_a_command_goes_to_the_command_line_interface(capsys: pytest.CaptureFixture[str]) -> None:
    from playground import __version__
    from ui.launcher import main

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"playground {__version__}"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland displays are Linux")
def test_without_a_display_the_window_explains_instead_of_aborting() -> None:
    proc = _launch(drop=("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"))
    assert proc.returncode == 2
    assert "no graphical display was found" in proc.stderr
    assert "Traceback" not in proc.stderr
