"""Checks on access control: what a subject may do, asked of the API server's authorizer as
that subject (a SubjectAccessReview, what `kubectl auth can-i --as` asks), never as the admin
the lab itself talks as: a check that passes for admin proves nothing about a Role."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from lab.checks.result import CheckResult
from lab.registry import CHECKS

Verb = Annotated[str, Field(pattern=r"^(\*|[a-z]+)$", max_length=32)]
"""An API verb: get, list, watch, create, update, patch, delete, deletecollection, … or *."""

ResourceName = Annotated[str, Field(pattern=r"^(\*|[a-z0-9][a-z0-9.-]*)$", max_length=253)]
"""A resource as the API names it (plural, lower case): pods, deployments, nodes, …"""

Subject = Annotated[
    str,
    Field(
        pattern=r"^(user:[A-Za-z0-9@._:-]+|serviceaccount:[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9.-]*)$",
        max_length=300,
    ),
]
"""`user:<name>` or `serviceaccount:<namespace>/<name>`."""

GroupName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9@._:-]*$", max_length=253)]


def identity(subject: str, groups: tuple[str, ...] = ()) -> tuple[str, list[str], str]:
    """The user name and groups the API server gives a subject, and how to say it: a
    ServiceAccount authenticates as system:serviceaccount:<ns>:<name> in the groups
    system:serviceaccounts and system:serviceaccounts:<ns>; everyone is system:authenticated."""
    kind, _, rest = subject.partition(":")
    if kind == "serviceaccount":
        namespace, _, name = rest.partition("/")
        user = f"system:serviceaccount:{namespace}:{name}"
        implied = ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"]
        said = f"ServiceAccount {name} (namespace {namespace})"
    else:
        user, implied, said = rest, [], f"user {rest}"
    return user, [*implied, *groups, "system:authenticated"], said


def _action(verb: str, resource: str, group: str, subresource: str | None, namespace: str | None) -> str:
    what = resource + (f"/{subresource}" if subresource else "")
    if group:
        what += f".{group}"
    return f"{verb} {what}" + (f" in namespace {namespace}" if namespace else " cluster-wide")


@CHECKS.register("can-i")
def can_i(
    ctx,
    subject: Subject,
    verb: Verb,
    resource: ResourceName,
    group: Annotated[str, Field(pattern=r"^([a-z0-9][a-z0-9.-]*)?$", max_length=253)] = "",
    namespace: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=63)] | None = None,
    subresource: Annotated[str, Field(pattern=r"^[a-z]+$", max_length=63)] | None = None,
    groups: tuple[GroupName, ...] = (),
    allowed: bool = True,
) -> CheckResult:
    """The subject (`user:jane` or `serviceaccount:ci/deployer`, with extra `groups`) may
    (or, with allowed: false, may not) `verb` the `resource` of API `group` ("" for the core
    group, `apps` for Deployments) in `namespace` (none: cluster-wide), as the API server's
    authorizer answers for that subject (`kubectl auth can-i --as`). Use allowed: false checks
    (as guards) to prove that nothing more than asked was granted."""
    from kubernetes import client

    user, all_groups, said = identity(subject, groups)
    review = client.V1SubjectAccessReview(
        spec=client.V1SubjectAccessReviewSpec(
            user=user,
            groups=all_groups,
            resource_attributes=client.V1ResourceAttributes(
                verb=verb, resource=resource, group=group, namespace=namespace, subresource=subresource
            ),
        )
    )
    answer = client.AuthorizationV1Api(ctx.api).create_subject_access_review(review).status
    action = _action(verb, resource, group, subresource, namespace)
    if bool(answer.allowed) == allowed:
        return CheckResult(True, f"{said} {'may' if allowed else 'may not'} {action}")
    if allowed:
        return CheckResult(False, f"{said} may not {action}")
    return CheckResult(False, f"{said} may {action}, more than asked")

