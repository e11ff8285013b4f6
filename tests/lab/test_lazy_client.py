"""The official client loaded in parts: the same names as the real package, fewer modules.

Each case runs in a fresh interpreter: which modules an import loads is the behaviour under test,
and this test process has long imported the whole client."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lab.lazy_client import _runs_more_than_imports, exports

IDENTITIES = """
import json, sys, types
{prelude}
import kubernetes, kubernetes.client, kubernetes.client.models, kubernetes.client.api
def identity(value):
    if isinstance(value, types.ModuleType):
        return "module " + value.__name__
    return getattr(value, "__module__", "?") + "." + getattr(value, "__qualname__", type(value).__name__)
out = {{}}
for package in (kubernetes, kubernetes.client, kubernetes.client.models, kubernetes.client.api):
    for name in dir(package):
        if not name.startswith("_"):
            out[package.__name__ + "." + name] = identity(getattr(package, name))
out["version"] = kubernetes.__version__ + " " + kubernetes.client.__version__
print(json.dumps(out))
"""


def _python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120).stdout


def test_every_name_of_the_real_package_resolves_to_the_same_object() -> None:
    eager = json.loads(_python(IDENTITIES.format(prelude="")))
    lazy = json.loads(_python(IDENTITIES.format(prelude="import lab; assert 'kubernetes' in sys.modules")))
    assert len(eager) > 1500  # ~840 client names, ~770 models, ~65 API classes
    missing = sorted(set(eager) - set(lazy))
    assert missing == []
    assert {name: lazy[name] for name in eager} == eager


def test_a_client_call_path_loads_what_it_uses_not_every_model() -> None:
    loaded = json.loads(
        _python(
            "import json, sys, lab\n"
            "from kubernetes import client, config\n"
            "from kubernetes.dynamic import DynamicClient\n"
            "api = client.ApiClient(client.Configuration())\n"
            "pod = api._ApiClient__deserialize({'metadata': {'name': 'p'}}, 'V1Pod')\n"
            "assert isinstance(pod, client.V1Pod) and pod.metadata.name == 'p'\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('kubernetes'))))"
        )
    )
    assert "kubernetes.client.models.v1_pod" in loaded
    assert "kubernetes.client.models.v1_node" not in loaded
    assert len(loaded) < 100  # the whole client is ~900 modules


def test_without_lab_the_package_imports_whole() -> None:
    """The shim is cka-lab's choice: nothing of it is left in the package on disk."""
    count = _python("import sys, kubernetes; print(sum(m.startswith('kubernetes.client.models.') for m in sys.modules))")
    assert int(count) > 700


def test_import_lines_become_exports() -> None:
    text = (
        "from __future__ import absolute_import\n"
        "from . import client\n"
        "from kubernetes.client.api.core_v1_api import CoreV1Api\n"
        "from kubernetes.client.models.v1_pod import V1Pod  # noqa: E501\n"
        "from .rest import RESTClient as Rest\n"
    )
    assert exports("kubernetes", text) == {
        "absolute_import": ("__future__", "absolute_import"),  # the real module has it too
        "client": ("kubernetes.client", None),
        "CoreV1Api": ("kubernetes.client.api.core_v1_api", "CoreV1Api"),
        "V1Pod": ("kubernetes.client.models.v1_pod", "V1Pod"),
        "Rest": ("kubernetes.rest", "RESTClient"),
    }


@pytest.mark.parametrize(
    ("text", "more"),
    [
        ('# coding: utf-8\n"""\n  Kubernetes # noqa\n"""\nfrom a import b\n__version__ = "1"\n', False),
        ("__project__ = 'kubernetes'\nfrom . import client\n", False),
        ("from a import b\nb.configure()\n", True),
        ("from a import b\nif True:\n    from c import d\n", True),
    ],
    ids=["generated", "top-level", "a-call", "a-block"],
)
def test_an_init_that_runs_more_than_imports_is_left_alone(text: str, more: bool) -> None:
    assert _runs_more_than_imports(text) is more


def test_the_rest_module_loads_without_requests_which_stays_importable_whole() -> None:
    out = json.loads(
        _python(
            "import json, sys, lab\n"
            "from lab.lazy_client import load_rest_without_requests\n"
            "load_rest_without_requests()\n"
            "from kubernetes.client import rest\n"
            "before = 'requests' in sys.modules\n"
            "bypass = rest.should_bypass_proxies('https://127.0.0.1:6443', no_proxy='127.0.0.1')\n"
            "import requests, requests.utils\n"
            "print(json.dumps({'before': before, 'bypass': bypass, 'real': requests.utils.__file__ is not None,\n"
            "                  'session': hasattr(requests, 'Session')}))"
        )
    )
    assert out == {"before": False, "bypass": True, "real": True, "session": True}
