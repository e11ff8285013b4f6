"""A normal install works: the wheel holds every runtime file (stylesheets, scenarios, the schema,
the offline build's files), and the installed `cka-lab` lists, validates, prints the schema and
opens the TUI browser in a real terminal (until its catalog shows, then `q`).

The wheel is built from a copy of the source (no build/ or egg-info left in the work tree) and
installed with its dependencies resolved offline against the packages already installed (a venv
with --system-site-packages), so no network is needed beyond the isolated build's setuptools.
Needs tmux; without it this test fails (CI installs it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("lab", "tui", "scenarios")


def run(*argv: str | Path, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, argv))} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


def runtime_files(source: Path) -> list[str]:
    """Every file of the packages but the modules: what the wheel must carry besides .py files."""
    return sorted(
        path.relative_to(source).as_posix()
        for package in PACKAGES
        for path in (source / package).rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("packaging")
    source = base / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    wheels = base / "wheels"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", wheels, source)
    (wheel,) = wheels.glob("cka_lab-*.whl")
    venv = base / "venv"
    run(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv)
    python = venv / "bin" / "python"
    # --no-index: the dependencies must be satisfied by what is installed, offline
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-index", "--quiet", wheel)
    home = base / "home"
    home.mkdir()
    return {"source": source, "wheel": wheel, "venv": venv, "python": python, "home": home}


def user_env(home: Path) -> dict[str, str]:
    """An environment that touches no user state and cannot import the work tree."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CKA_LAB_", "PYTHON"))}
    return {
        **env,
        "HOME": str(home),
        "CKA_LAB_HOME": str(home / "state"),
        "CKA_LAB_CACHE": str(home / "cache"),
        "CKA_LAB_CONFIG": str(home / "config.toml"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state-xdg"),
        "XDG_CACHE_HOME": str(home / "cache-xdg"),
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }


def test_wheel_carries_every_runtime_file(installed: dict[str, Path]) -> None:
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    expected = runtime_files(installed["source"])
    assert "tui/app.tcss" in expected and "lab/scenario/scenario.schema.json" in expected
    missing = [name for name in expected if name not in names]
    assert not missing, f"not in the wheel (pyproject [tool.setuptools.package-data]): {missing}"


def test_installed_commands_run_from_the_install(installed: dict[str, Path]) -> None:
    bin_dir = installed["venv"] / "bin"
    env = user_env(installed["home"])
    where = run(installed["python"], "-c", "import lab, tui; from lab.scenario import loader; "
                "print(lab.__file__); print(tui.__file__); print(loader.builtin_dir())",
                cwd=installed["home"], env=env).stdout.split()
    assert all(Path(p).is_relative_to(installed["venv"]) for p in where), where
    builtin = Path(where[2])

    listed = run(bin_dir / "cka-lab", "list", cwd=installed["home"], env=env)
    assert "control-plane-failure" in listed.stdout and not listed.stderr

    validated = run(bin_dir / "cka-lab", "validate", builtin, cwd=installed["home"], env=env)
    assert validated.stdout.count("ok ") == len(list(builtin.glob("*.yaml"))) >= 10

    schema = run(bin_dir / "cka-lab", "schema", cwd=installed["home"], env=env)
    assert json.loads(schema.stdout) == json.loads((installed["source"] / "lab/scenario/scenario.schema.json").read_text())


def opened(screen: str) -> bool:
    """The browser lists the catalog (by title) with its key bindings."""
    return "Control plane failure" in screen and "Quit" in screen


def failed(screen: str) -> bool:
    return "Traceback" in screen or "StylesheetError" in screen


def signal_state(pid: int | str) -> str:
    status = Path(f"/proc/{pid}/status")
    lines = status.read_text().splitlines() if status.exists() else []
    return " ".join(line.replace("\t", "") for line in lines if line.startswith(("SigBlk", "SigIgn")))


def processes_under(tmux) -> str:
    """The pane's process tree and who blocks or ignores which signals, for a failure message."""
    pane, server = tmux("display-message", "-p", "-t", "pkg", "#{pane_pid} #{pid}").split()
    tree = subprocess.run(["ps", "-o", "pid,ppid,stat,args", "--ppid", pane, "-p", pane],
                          capture_output=True, text=True).stdout
    return (f"pane process {pane}:\n{tree}\ntmux server {server}: {signal_state(server)}\n"
            f"this test process: {signal_state(os.getpid())}")


def test_installed_tui_browser_opens_in_a_real_terminal(installed: dict[str, Path]) -> None:
    assert shutil.which("tmux"), "tmux is needed for this test (CI installs it)"
    env = user_env(installed["home"])
    socket = f"cka-lab-packaging-{os.getpid()}"

    def tmux(*args: str) -> str:
        result = subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=30,
                                env={**env, "TERM": "xterm-256color"})
        assert result.returncode == 0, f"tmux {' '.join(args)}: {result.stderr}"
        return result.stdout

    env_flags = [flag for key in ("HOME", "CKA_LAB_HOME", "CKA_LAB_CACHE", "CKA_LAB_CONFIG", "XDG_CONFIG_HOME",
                                  "XDG_STATE_HOME", "XDG_CACHE_HOME") for flag in ("-e", f"{key}={env[key]}")]
    # The shell records cka-lab's exit status itself (written whole, then renamed): once in CI, tmux
    # showed the pane dead but never learned its status, which it only gets when it reaps the child.
    exit_file = installed["home"] / f"tui-exit-{os.getpid()}"
    exit_file.unlink(missing_ok=True)
    command = f"cd {installed['home']} && {installed['venv'] / 'bin' / 'cka-lab'}; echo $? > {exit_file}.part; mv {exit_file}.part {exit_file}"
    tmux("new-session", "-d", "-s", "pkg", "-x", "120", "-y", "40", *env_flags, command)
    try:
        tmux("set-option", "-t", "pkg", "remain-on-exit", "on")
        screen = ""
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            screen = tmux("capture-pane", "-p", "-t", "pkg")
            if opened(screen) or failed(screen):
                break
            time.sleep(0.3)
        assert opened(screen) and not failed(screen), f"the browser did not open:\n{screen}"
        tmux("send-keys", "-t", "pkg", "q")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not exit_file.exists():
            time.sleep(0.3)
        status = exit_file.read_text().strip() if exit_file.exists() else "still running after 30 s"
        assert status == "0", (f"cka-lab did not quit cleanly (exit status: {status}):\n"
                               f"{tmux('capture-pane', '-p', '-t', 'pkg')}\n{processes_under(tmux)}")
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=30)
