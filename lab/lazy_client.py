"""The official Kubernetes client, loaded in the parts a command uses.

`import kubernetes` runs the package's `__init__` files, which import every API class and every
model (some 900 modules, 0.36 s of the 0.9 s a whole `cka-lab check` took on the 2-core
development machine), although a check uses a handful. Upstream is moving to lazy exports (PEP
562); until the pinned release has them, `install()` puts module objects for `kubernetes`,
`kubernetes.client`, `kubernetes.client.api` and `kubernetes.client.models` in place before the
package is first imported. They export the same names, read from the `from X import Y` lines of
the real `__init__` files, and import X when a name is first used. The package itself is not
changed, and when its `__init__` files are not shaped as expected nothing is installed."""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import threading
import types
from pathlib import Path

PACKAGES = ("kubernetes", "kubernetes.client", "kubernetes.client.api", "kubernetes.client.models")
"""The packages whose `__init__` imports what they export; parents before children."""

_FROM_IMPORT = re.compile(r"^from (\S+) import (\w+)(?: as (\w+))?\s*(?:#.*)?$", re.MULTILINE)
_VERSION = re.compile(r"^__version__ = ['\"]([^'\"]+)['\"]", re.MULTILINE)


def exports(package: str, init_text: str) -> dict[str, tuple[str, str | None]]:
    """What an `__init__` file's `from X import Y` lines export: name → (module, attribute),
    attribute None when the name is the module itself (`from . import client`)."""
    found: dict[str, tuple[str, str | None]] = {}
    for source, name, alias in _FROM_IMPORT.findall(init_text):
        if source.startswith("."):
            base = package if source == "." else f"{package}.{source.lstrip('.')}"
            if source == ".":
                found[alias or name] = (f"{package}.{name}", None)
                continue
            source = base
        found[alias or name] = (source, name)
    return found


def _lazy_package(package: str, names: dict[str, tuple[str, str | None]], version: str | None) -> types.ModuleType:
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations is not None
    module = importlib.util.module_from_spec(spec)  # __path__, __file__, __spec__; not executed

    def __getattr__(attribute: str) -> object:
        if attribute.startswith("__"):
            raise AttributeError(f"module {package!r} has no attribute {attribute!r}")
        source, inside = names.get(attribute, (f"{package}.{attribute}", None))
        try:
            value: object = importlib.import_module(source)
        except ModuleNotFoundError as exc:
            if exc.name != source:
                raise
            raise AttributeError(f"module {package!r} has no attribute {attribute!r}") from None
        if inside is not None:
            value = getattr(value, inside)
        setattr(module, attribute, value)  # the next lookup is a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted(set(module.__dict__) | set(names))

    module.__getattr__ = __getattr__  # type: ignore[attr-defined]
    module.__dir__ = __dir__  # type: ignore[method-assign]
    module.__all__ = sorted(names)  # type: ignore[attr-defined]
    if version is not None:
        module.__version__ = version  # type: ignore[attr-defined]
    return module


def install() -> bool:
    """Put the lazy packages in place, unless the client is already imported or not installed,
    or its `__init__` files do not look as expected. True when installed."""
    if any(name in sys.modules for name in PACKAGES):
        return False
    top = importlib.util.find_spec("kubernetes")
    if top is None or not top.submodule_search_locations:
        return False
    root = Path(next(iter(top.submodule_search_locations)))
    plans = []
    for package in PACKAGES:
        init = root.joinpath(*package.split(".")[1:], "__init__.py")
        try:
            text = init.read_text(encoding="utf-8")
        except OSError:
            return False
        names = exports(package, text)
        # anything but import lines and a version would be skipped by a lazy package
        if not names or _runs_more_than_imports(text):
            return False
        version = _VERSION.search(text)
        plans.append((package, names, version.group(1) if version else None))
    for package, names, version in plans:  # parents first: find_spec of a child imports its parent
        module = _lazy_package(package, names, version)
        sys.modules[package] = module
        parent, _, child = package.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)
    return True


def _runs_more_than_imports(text: str) -> bool:
    body = re.sub(r'("""|\'\'\')[\s\S]*?\1', "", text, count=1)  # the module docstring
    for line in body.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or _FROM_IMPORT.match(line) or _VERSION.match(line) or line.startswith("__project__ ="):
            continue
        return True
    return False


_REST = "kubernetes.client.rest"
_STAND_IN_LOCK = threading.Lock()


def load_rest_without_requests() -> None:
    """Import the client's REST module without `requests`. It imports requests for one function,
    `should_bypass_proxies`, called only when the client has a proxy (cka-lab's never has), and
    requests with its own dependencies is a twentieth of a second of every command. While the
    module imports, a stand-in `requests.utils` is in `sys.modules` whose function imports the
    real one when first called; it is taken out right after, so a later `import requests` gets
    the real package. Nothing is done when either is imported already."""
    with _STAND_IN_LOCK:
        if _REST in sys.modules or "requests" in sys.modules:
            return
        package, utils = types.ModuleType("requests"), types.ModuleType("requests.utils")

        def should_bypass_proxies(url: str, no_proxy: str | None) -> bool:
            from requests.utils import should_bypass_proxies as real

            return real(url, no_proxy=no_proxy)

        utils.should_bypass_proxies = should_bypass_proxies  # type: ignore[attr-defined]
        package.utils = utils  # type: ignore[attr-defined]
        sys.modules["requests"], sys.modules["requests.utils"] = package, utils
        try:
            importlib.import_module(_REST)
        finally:
            for name, stand_in in (("requests.utils", utils), ("requests", package)):
                if sys.modules.get(name) is stand_in:
                    del sys.modules[name]
