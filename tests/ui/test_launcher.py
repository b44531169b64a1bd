"""The `playground` command: the window without a command, the CLI with one."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from playground.prompts.templates import builtin_templates

LAUNCH = "import sys; from ui.launcher import main; sys.exit(main(sys.argv[1:]))"


def _launch(*args: str, drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return subprocess.run([sys.executable, "-c", LAUNCH, *args], capture_output=True, text=True,
                          env=env, timeout=240)


@pytest.mark.model
def test_self_test_opens_the_window_loads_the_model_and_generates() -> None:
    proc = _launch("--self-test", drop=("QT_QPA_PLATFORM",))
    assert proc.returncode == 0, proc.stderr
    shipped = len([t for t in builtin_templates() if not t.id.startswith("_")])  # no partials
    assert proc.stdout.startswith(f"self-test ok: window opened, {shipped} templates, ")
    assert "SmolLM2-135M-Instruct loaded" in proc.stdout  # the model's one display name
    generated = re.search(r"generated (\d+) tokens?", proc.stdout)
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


def _ldd_not_found(path: str) -> list[str]:
    out = subprocess.run(["ldd", path], capture_output=True, text=True, check=False).stdout
    return [line.split()[0] for line in out.splitlines() if "=> not found" in line]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's xcb plugin is Linux's")
def test_the_xcb_check_reads_what_the_dynamic_linker_cannot_find() -> None:
    import ctypes.util

    from ui.platform_check import qt_xcb_files, unresolved_libraries

    files = qt_xcb_files()
    assert files and files[0].name == "libqxcb.so"
    expected: list[str] = []
    for file in files:
        for name in _ldd_not_found(str(file)):
            if name not in expected:  # ldd may name a library once per library needing it
                expected.append(name)
    if ctypes.util.find_library("xcb-cursor") is None:
        expected.append("libxcb-cursor.so.0")
    assert unresolved_libraries(files) == expected


def test_the_message_names_each_library_and_its_package_on_debian_and_fedora() -> None:
    from ui.platform_check import describe_missing

    message = describe_missing(["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    assert "needs libxcb-icccm.so.4, libxcb-keysyms.so.1" in message
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1" in message
    assert "sudo dnf install xcb-util-keysyms xcb-util-wm" in message


def test_qt_uses_xcb_only_where_it_would_choose_it() -> None:
    from ui.platform_check import uses_xcb

    linux = sys.platform.startswith("linux")
    assert uses_xcb({"DISPLAY": ":0"}) is linux
    assert uses_xcb({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}) is False
    assert uses_xcb({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0",
                     "XDG_SESSION_TYPE": "wayland"}) is False
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb"}) is linux


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's xcb plugin is Linux's")
def test_missing_xcb_libraries_are_named_before_qt_can_abort() -> None:
    from ui.platform_check import describe_missing, qt_xcb_files, unresolved_libraries

    missing = unresolved_libraries(qt_xcb_files())
    if not missing:
        pytest.skip("every library Qt's xcb plugin needs is installed on this machine")
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env["DISPLAY"] = ":97"
    proc = subprocess.run([sys.executable, "-c", LAUNCH], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 2
    assert describe_missing(missing) in proc.stderr
    assert "Traceback" not in proc.stderr
