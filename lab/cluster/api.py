"""The Kubernetes API client cka-lab uses, bounded in time, and sentences for its failures.

The official client waits for ever by default and retries a dead connection three times
(a check against an API server stuck on a wrong etcd endpoint took 20 s and ended in
`MaxRetryError: [SSL: UNEXPECTED_EOF_WHILE_READING]`). Every request made through this client
has a connect and a read timeout, connection errors are retried once, and `explain` turns what
comes back into a sentence a trainee can act on; the raw cause stays available."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0
"""Seconds: a healthy lab API server answers in milliseconds; a read may wait on etcd."""


def bounded_client(kubeconfig: Path, read_timeout: float = READ_TIMEOUT) -> Any:
    """An ApiClient bound to this kubeconfig file only, with timeouts on every request."""
    import urllib3
    from kubernetes import client

    from lab.lazy_client import load_rest_without_requests

    load_rest_without_requests()
    configuration = client.Configuration()
    if not _configure_from_embedded_certificates(kubeconfig, configuration):
        from kubernetes import config

        config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration, persist_config=False)
    configuration.retries = _retry_policy()
    api = client.ApiClient(configuration=configuration)
    pool = api.rest_client.pool_manager
    default = urllib3.Timeout(connect=CONNECT_TIMEOUT, read=read_timeout)
    unbounded_request = pool.request

    def request(method: str, url: str, *args: Any, timeout: Any = None, **kwargs: Any) -> Any:
        # the generated client passes timeout=None unless a call sets _request_timeout
        return unbounded_request(method, url, *args, timeout=default if timeout is None else timeout, **kwargs)

    pool.request = request  # type: ignore[method-assign]
    return api


def _configure_from_embedded_certificates(kubeconfig: Path, configuration: Any) -> bool:
    """Fill `configuration` from a kubeconfig of the shape `kind get kubeconfig` writes (its
    current context: an https server, the CA and the client certificate and key embedded as
    base64 data, nothing else to authenticate with); False for any other shape, which the
    client's own loader then reads. Why: that loader imports OAuth and requests modules a
    client certificate never uses, a tenth of a second of every `cka-lab check`."""
    import base64
    import binascii

    import yaml

    try:
        document = yaml.load(kubeconfig.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        current = document["current-context"]
        context = next(c["context"] for c in document["contexts"] if c["name"] == current)
        cluster = next(c["cluster"] for c in document["clusters"] if c["name"] == context["cluster"])
        user = next(u["user"] for u in document["users"] if u["name"] == context["user"])
    except (OSError, yaml.YAMLError, KeyError, TypeError, StopIteration):
        return False
    embedded = {"certificate-authority-data", "client-certificate-data", "client-key-data"}
    if (set(cluster) != {"server", "certificate-authority-data"} or set(user) != embedded - {"certificate-authority-data"}
            or not str(cluster["server"]).startswith("https://")):
        return False
    try:
        pem = {key: base64.b64decode(str(value), validate=True)
               for key, value in {**cluster, **user}.items() if key in embedded}
    except (binascii.Error, ValueError):
        return False
    files = _certificate_files(pem)
    configuration.host = str(cluster["server"]).rstrip("/")
    configuration.ssl_ca_cert = str(files["certificate-authority-data"])
    configuration.cert_file = str(files["client-certificate-data"])
    configuration.key_file = str(files["client-key-data"])
    return True


_WRITTEN: dict[bytes, dict[str, Path]] = {}
"""Certificate files this process wrote, by their content. A client is made per exec stream
(see LabContext.streaming_core): each would otherwise leave a copy of the key until exit, where
the client's own loader reuses its files the same way."""


def _certificate_files(pem: dict[str, bytes]) -> dict[str, Path]:
    content = b"\0".join(pem[key] for key in sorted(pem))
    files = _WRITTEN.get(content)
    if files is None or not all(path.exists() for path in files.values()):
        folder = _private_folder()
        files = {}
        for key, data in pem.items():
            files[key] = folder / key.removesuffix("-data")
            files[key].touch(mode=0o600)
            files[key].write_bytes(data)
        _WRITTEN[content] = files
    return files


def _private_folder() -> Path:
    """A folder only this user can read, removed when the process exits (the TLS library reads
    certificates and keys from files, as the client's own loader writes them)."""
    import atexit
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="cka-lab-tls-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def _retry_policy() -> Any:
    """One retry of a connection that failed to open, and one of an idempotent request whose
    kept-alive connection the server closed as it was sent (the API server drops connections
    idle for 90 s; a request racing that close gets `RemoteDisconnected`). A read timeout is
    never retried: it would double the bound."""
    import urllib3
    from urllib3.exceptions import ProtocolError

    class ClosedConnectionRetry(urllib3.Retry):
        def _is_read_error(self, err: Exception) -> bool:
            return isinstance(err, ProtocolError)

    return ClosedConnectionRetry(total=2, connect=1, read=1, status=0, other=0, redirect=2, raise_on_status=False)


def transient_api_errors() -> tuple[type[BaseException], ...]:
    """What a call to a restarting or unreachable API server raises: worth waiting out."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    from lab.errors import ApiUnreachable

    return (ApiException, HTTPError, ApiUnreachable)


def explain(exc: BaseException, host: str = "", read_timeout: float = READ_TIMEOUT) -> str | None:
    """A sentence for an API failure, or None when `exc` is not one (`read_timeout`: the bound
    the failed request had, for the sentence)."""
    from kubernetes.client.exceptions import ApiException
    from urllib3 import exceptions as u3

    where = f"API server at {host}" if host else "the API server"
    cause: BaseException = exc
    if isinstance(exc, u3.MaxRetryError) and exc.reason is not None:
        cause = exc.reason
    text = str(cause)
    if isinstance(cause, u3.ReadTimeoutError) or "Read timed out" in text:
        return f"{where} is not answering: no reply within {read_timeout:g}s"
    if "Connection refused" in text:  # NewConnectionError is a ConnectTimeoutError subclass
        return f"{where} is not answering: connection refused"
    if isinstance(cause, u3.ConnectTimeoutError):
        return f"{where} is not answering: connection timed out"
    if isinstance(cause, u3.SSLError | u3.ProtocolError) or "EOF occurred" in text:
        if "EOF" in text or "RemoteDisconnected" in text or "Connection aborted" in text:
            return f"{where} is not answering: TLS handshake closed"
        return f"{where} is not answering: {type(cause).__name__}"
    if isinstance(cause, ApiException) or type(cause).__name__.endswith("ApiError"):
        status = getattr(cause, "status", None)
        reason = _api_message(cause)
        if status == 401:
            return f"{where} refused the lab's credentials (Unauthorized)"
        if status == 403:
            return f"forbidden: {reason}"
        if status == 404:
            return f"not found: {reason}"
        if status is not None and status >= 500:
            return f"{where} answered with an error ({status}): {reason}"
        return f"{reason} ({status})" if status else reason
    return None


def _api_message(exc: BaseException) -> str:
    import json

    body = getattr(exc, "body", None)
    if body:
        try:
            return str(json.loads(body).get("message") or getattr(exc, "reason", "") or body)[:300]
        except (ValueError, AttributeError, TypeError):
            pass
    summary = getattr(exc, "summary", None)
    if callable(summary):
        return summary()[:300]
    return (getattr(exc, "reason", None) or str(exc)).strip()[:300]


def ready_condition(obj: Any) -> Any:
    """A node's or pod's `Ready` condition as the API reports it, None while it has none."""
    return next((c for c in (obj.status.conditions if obj.status else None) or [] if c.type == "Ready"), None)


def is_ready(obj: Any) -> bool:
    """A node or pod whose `Ready` condition is True."""
    condition = ready_condition(obj)
    return condition is not None and condition.status == "True"
