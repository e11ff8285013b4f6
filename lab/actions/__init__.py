"""Actions change the cluster: faults that break it and the steps of reference solutions.
Each records in the undo ledger what it is about to change *before* changing it.
Importing this package registers them all."""

from lab.actions import (  # noqa: F401  (registration)
    containers,
    etcd,
    files,
    helm,
    manifests,
    membership,
    objects,
    release,
    services,
)
