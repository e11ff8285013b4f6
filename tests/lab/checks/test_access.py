"""can-i: the identity a subject is reviewed as, and how its answer grades (no cluster: the
authorizer's answer is scripted; the real RBAC is proven by selftest of rbac-access)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lab.checks import access
from lab.checks.access import identity


def test_a_serviceaccount_is_reviewed_with_the_groups_the_api_server_gives_it() -> None:
    user, groups, said = identity("serviceaccount:ci/deployer")
    assert user == "system:serviceaccount:ci:deployer"
    assert groups == ["system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"]
    assert said == "ServiceAccount deployer (namespace ci)"


def test_a_user_keeps_extra_groups() -> None:
    assert identity("user:jane", ("auditors",)) == ("jane", ["auditors", "system:authenticated"], "user jane")


class ScriptedAuthorizer:
    def __init__(self, allowed: bool):
        self.allowed = allowed
        self.reviews: list = []

    def create_subject_access_review(self, review):
        self.reviews.append(review)
        return SimpleNamespace(status=SimpleNamespace(allowed=self.allowed))


@pytest.fixture
def authorizer(monkeypatch):
    def make(allowed: bool) -> ScriptedAuthorizer:
        scripted = ScriptedAuthorizer(allowed)
        from kubernetes import client

        monkeypatch.setattr(client, "AuthorizationV1Api", lambda api: scripted)
        return scripted

    return make


def test_allowed_passes_and_the_review_names_the_subject_not_the_admin(authorizer) -> None:
    scripted = authorizer(True)
    result = access.can_i(SimpleNamespace(api=None), "serviceaccount:ci/deployer", "create", "deployments", "apps", "ci")
    assert result.passed and result.message == "ServiceAccount deployer (namespace ci) may create deployments.apps in namespace ci"
    spec = scripted.reviews[0].spec
    assert spec.user == "system:serviceaccount:ci:deployer"
    attributes = spec.resource_attributes
    assert (attributes.verb, attributes.resource, attributes.group, attributes.namespace) == ("create", "deployments", "apps", "ci")


def test_a_denied_request_fails_an_allowed_check(authorizer) -> None:
    authorizer(False)
    result = access.can_i(SimpleNamespace(api=None), "user:jane", "list", "nodes")
    assert not result.passed and result.message == "user jane may not list nodes cluster-wide"


def test_more_than_asked_fails_a_not_allowed_check(authorizer) -> None:
    authorizer(True)
    result = access.can_i(SimpleNamespace(api=None), "user:jane", "get", "secrets", namespace="kube-system", allowed=False)
    assert not result.passed and "more than asked" in result.message
    authorizer(False)
    assert access.can_i(SimpleNamespace(api=None), "user:jane", "get", "secrets", allowed=False).passed


def test_the_loader_refuses_a_subject_of_another_form() -> None:
    from pydantic import ValidationError

    from lab.registry import CHECKS

    model = CHECKS.get("can-i").params
    model(type="can-i", subject="user:jane", verb="get", resource="pods")
    for bad in ("jane", "group:admins", "serviceaccount:deployer", "user:"):
        with pytest.raises(ValidationError):
            model(type="can-i", subject=bad, verb="get", resource="pods")
