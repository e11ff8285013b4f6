"""Verifier functions: each looks at the real cluster and says pass or fail with a message the
trainee can act on. Importing this package registers them all."""

from lab.checks import access, cluster, controlplane, helm, nodes, pods, watchdog  # noqa: F401  (registration)
from lab.checks.result import CheckResult, run_check, run_checks  # noqa: F401
