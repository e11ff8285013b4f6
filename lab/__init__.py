"""cka-lab: break a real kind cluster the way the CKA exam does, and grade the repair."""

import os

from lab import lazy_client

__version__ = "0.1.0"

# cka-lab uses no pydantic plugins: looking for them reads every installed distribution's entry
# points when the first model is built, in every command (pydantic's documented switch; a value
# set by the user stands)
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

# before anything imports the Kubernetes client: a command loads the parts it uses, not all
lazy_client.install()
