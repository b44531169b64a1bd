"""Before Qt starts on Linux: is there a display, and can Qt's X11 (xcb) plugin load?

Without a display, or with one of the xcb libraries missing, Qt aborts the process with a
message that names the wrong package (it blames ``libxcb-cursor0`` for any of them). These
checks run first and name what is missing, with the package that provides it.
"""

from __future__ import annotations

import ctypes.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

#: Shared library → (Debian/Ubuntu package, Fedora package).
XCB_PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-xinerama.so.0": ("libxcb-xinerama0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
}
#: Qt opens this one itself at start (dlopen), so the linker's check cannot see it.
DLOPENED = ("libxcb-cursor.so.0",)


def missing_display(environ: Mapping[str, str] | None = None) -> str | None:
    """Why the window cannot open here, before Qt aborts the process for lack of a display."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return (
        "no graphical display was found (DISPLAY and WAYLAND_DISPLAY are not set), so the "
        "window cannot open. Run it from a desktop session, or use the command-line interface "
        "(`playground --help`); QT_QPA_PLATFORM=offscreen runs the window without a screen."
    )


def uses_xcb(environ: Mapping[str, str] | None = None) -> bool:
    """Whether Qt will start its X11 plugin: on Linux, unless another platform is chosen or a
    Wayland session offers Qt its own."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return False
    chosen = env.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(":")[0].split(";")[0] == "xcb"
    wayland = env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE") == "wayland"
    return bool(env.get("DISPLAY")) and not wayland


def qt_xcb_files() -> list[Path]:
    """Qt's xcb platform plugin and the library it is built on, in this PySide6."""
    import PySide6

    qt = Path(PySide6.__file__).resolve().parent / "Qt"
    files = [qt / "plugins" / "platforms" / "libqxcb.so", *sorted((qt / "lib").glob(
        "libQt6XcbQpa.so*"))]
    return [f for f in files if f.is_file()][:2]


def unresolved_libraries(files: list[Path]) -> list[str]:
    """Shared libraries the dynamic linker cannot find for ``files`` (by ``ldd``), plus the
    ones Qt opens itself that are not installed. Empty when ``ldd`` is not there to ask."""
    ldd = shutil.which("ldd")
    if ldd is None or not files:
        return []
    missing: list[str] = []
    for file in files:
        try:
            out = subprocess.run([ldd, str(file)], capture_output=True, text=True, timeout=10,
                                 check=False).stdout
        except (OSError, subprocess.SubprocessError):
            return []
        for name in re.findall(r"^\s*(\S+) => not found", out, re.MULTILINE):
            if name not in missing:
                missing.append(name)
    for name in DLOPENED:
        stem = name.removeprefix("lib").split(".so")[0]
        if ctypes.util.find_library(stem) is None and name not in missing:
            missing.append(name)
    return missing


def describe_missing(missing: list[str]) -> str:
    """The message: each missing library and the package that brings it, on two families."""
    debian = sorted({XCB_PACKAGES.get(m, (m, m))[0] for m in missing})
    fedora = sorted({XCB_PACKAGES.get(m, (m, m))[1] for m in missing})
    return (
        "the window cannot open: Qt's X11 plugin needs " + ", ".join(missing) + ", which "
        "this system lacks. Install them with `sudo apt install " + " ".join(debian) + "` "
        "(Debian, Ubuntu) or `sudo dnf install " + " ".join(fedora) + "` (Fedora), or run "
        "under Wayland; the command-line interface works without them (`playground --help`)."
    )


def startup_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """The first reason the window cannot start here, or None."""
    problem = missing_display(environ)
    if problem is not None or not uses_xcb(environ):
        return problem
    missing = unresolved_libraries(qt_xcb_files())
    return describe_missing(missing) if missing else None
