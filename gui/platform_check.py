"""Before Qt starts on Linux: are the system libraries of its X11 (xcb) plugin there?

Without them Qt prints "Could not load the Qt platform plugin xcb" and aborts. PySide6's
wheels bundle Qt but not these X11 libraries; a fresh Debian/Ubuntu desktop usually has
them, a minimal or headless one lacks some (seen on our Debian machines: libxcb-icccm4 and
libxcb-keysyms1). This check runs ``ldd`` on the xcb plugin and names the Debian packages
to install, so the app fails early with a useful message instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# soname prefix → Debian/Ubuntu package
PACKAGES = {
    "libxcb-icccm.so": "libxcb-icccm4",
    "libxcb-keysyms.so": "libxcb-keysyms1",
    "libxcb-cursor.so": "libxcb-cursor0",
    "libxcb-image.so": "libxcb-image0",
    "libxcb-render-util.so": "libxcb-render-util0",
    "libxcb-randr.so": "libxcb-randr0",
    "libxcb-shape.so": "libxcb-shape0",
    "libxcb-xinerama.so": "libxcb-xinerama0",
    "libxcb-xkb.so": "libxcb-xkb1",
    "libxcb-xfixes.so": "libxcb-xfixes0",
    "libxcb-sync.so": "libxcb-sync1",
    "libxcb-shm.so": "libxcb-shm0",
    "libxcb-util.so": "libxcb-util1",
    "libxkbcommon-x11.so": "libxkbcommon-x11-0",
    "libxkbcommon.so": "libxkbcommon0",
    "libxcb.so": "libxcb1",
    "libX11-xcb.so": "libx11-xcb1",
    "libEGL.so": "libegl1",
    "libGL.so": "libgl1",
    "libfontconfig.so": "libfontconfig1",
    "libdbus-1.so": "libdbus-1-3",
}


def missing_libraries(ldd_output: str) -> list[str]:
    """The sonames ``ldd`` reported as "not found"."""
    return sorted({line.split("=>")[0].strip() for line in ldd_output.splitlines()
                   if "not found" in line})


def packages_for(sonames: list[str]) -> list[str]:
    """The Debian packages that provide ``sonames`` (the soname itself when unknown)."""
    out = []
    for name in sonames:
        package = next((p for prefix, p in PACKAGES.items() if name.startswith(prefix)), name)
        if package not in out:
            out.append(package)
    return out


def _xcb_files() -> list[Path]:
    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    return [qt / "plugins" / "platforms" / "libqxcb.so", *sorted((qt / "lib").glob("libQt6XcbQpa.so*"))]


def xcb_problem() -> str | None:
    """A message naming what to install when Qt's xcb plugin cannot load; None when it can,
    when another platform is chosen (QT_QPA_PLATFORM), or off Linux."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if not sys.platform.startswith("linux") or (platform and not platform.startswith("xcb")):
        return None
    if not os.environ.get("DISPLAY"):
        if os.environ.get("WAYLAND_DISPLAY"):
            return None  # Qt picks Wayland
        return ("没有可用的显示器（未设置 DISPLAY） / no display to open a window on (DISPLAY is "
                "not set)\n无显示器的机器请用 / on a machine without a screen: xvfb-run -a make run")
    files = [f for f in _xcb_files() if f.exists()]
    if not files:
        return None  # a frozen or unusual layout: let Qt speak for itself
    report = ""
    for f in files:
        try:
            report += subprocess.run(["ldd", str(f)], capture_output=True, text=True,
                                     timeout=20).stdout
        except (OSError, subprocess.SubprocessError):
            return None
    missing = missing_libraries(report)
    if not missing:
        return None
    packages = " ".join(packages_for(missing))
    return (
        "Qt 的 X11 (xcb) 平台插件缺少系统库 / Qt's X11 (xcb) platform plugin is missing "
        f"system libraries: {', '.join(missing)}\n"
        f"Debian/Ubuntu: sudo apt-get install -y {packages}\n"
        "无显示器的机器可用 / on a machine without a screen: xvfb-run -a make run, "
        "or QT_QPA_PLATFORM=offscreen for tests"
    )
