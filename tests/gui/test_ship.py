"""Shipping: the self-test a frozen build runs, and the early hint when Qt's X11 libraries
are missing (``make run`` on a fresh Linux machine)."""

from __future__ import annotations

import subprocess

from gui import platform_check

LDD = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /x/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x7f)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-cursor.so.0 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x7f)
"""


def test_self_test_passes_from_source(run_cli):
    proc = run_cli("--self-test")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    steps = [line.split()[1].rstrip(":") for line in lines if line.startswith("ok ")]
    assert steps == ["resources", "catalogue", "window", "match", "pdf"]
    assert lines[-1] == "self-test passed"


def test_missing_xcb_libraries_are_named_with_their_packages():
    missing = platform_check.missing_libraries(LDD)
    assert missing == ["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert platform_check.packages_for(missing) == ["libxcb-cursor0", "libxcb-icccm4",
                                                    "libxcb-keysyms1"]


def test_xcb_problem_says_what_to_install(monkeypatch, tmp_path):
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(b"")
    monkeypatch.setattr(platform_check.sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setattr(platform_check, "_xcb_files", lambda: [plugin])
    monkeypatch.setattr(platform_check.subprocess, "run",
                        lambda *a, **k: subprocess.CompletedProcess(a, 0, LDD, ""))
    message = platform_check.xcb_problem()
    assert message is not None
    assert "sudo apt-get install -y libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1" in message
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")  # tests and the self-test need no X
    assert platform_check.xcb_problem() is None
    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.setattr(platform_check.subprocess, "run",
                        lambda *a, **k: subprocess.CompletedProcess(a, 0, "libc.so.6 => /lib\n", ""))
    assert platform_check.xcb_problem() is None


def test_no_display_is_reported_before_qt_aborts(tmp_path):
    import os

    from tests.conftest import cli_command

    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run([*cli_command(), "gui", "--db", str(tmp_path / "c.db")],
                          capture_output=True, text=True, encoding="utf-8", env=env, timeout=120)
    assert proc.returncode == 1
    assert "xvfb-run" in proc.stderr and "DISPLAY" in proc.stderr
    assert not (tmp_path / "c.db").exists()  # failed before touching anything


def test_the_app_icon_is_shipped_and_loads(qapp):
    from gui.app import app_icon

    icon = app_icon()
    assert not icon.isNull()
    assert icon.pixmap(64, 64).width() == 64
