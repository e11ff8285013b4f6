"""cka-lab: break a real kind cluster the way the CKA exam does, and grade the repair."""

from lab import lazy_client

__version__ = "0.1.0"

# before anything imports the Kubernetes client: a command loads the parts it uses, not all
lazy_client.install()
