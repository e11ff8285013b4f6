import pytest

from lab.jsonpath import JsonPathError, assign, lookup

OBJ = {"spec": {"replicas": 2, "containers": [{"name": "a", "image": "nginx"}, {"name": "b", "image": "busybox"}]}}


@pytest.mark.parametrize(
    ("path", "value"),
    [(".spec.replicas", 2), ("{.spec.replicas}", 2), ("spec.containers[1].image", "busybox"), (".spec.containers[name=a].image", "nginx")],
)
def test_lookup(path: str, value: object) -> None:
    assert lookup(OBJ, path) == value


def test_lookup_names_the_missing_part() -> None:
    with pytest.raises(JsonPathError, match="no field 'status'"):
        lookup(OBJ, ".status.phase")
    with pytest.raises(JsonPathError, match=r"no item \[5\]"):
        lookup(OBJ, ".spec.containers[5]")


def test_assign_creates_mappings() -> None:
    obj: dict = {"spec": {"containers": [{"name": "a"}]}}
    assign(obj, ".spec.containers[name=a].securityContext.privileged", True)
    assign(obj, ".metadata.labels.app", "x")
    assert obj["spec"]["containers"][0]["securityContext"] == {"privileged": True}
    assert obj["metadata"] == {"labels": {"app": "x"}}


def test_a_key_with_dots_is_written_in_quotes_in_brackets() -> None:
    from lab.jsonpath import assign, lookup, parse

    obj = {"data": {"application.conf": "mode=production\n"}}
    assert parse('.data["application.conf"]') == parse(".data['application.conf']") == [
        ("key", "data"), ("key", "application.conf")
    ]
    assert lookup(obj, '.data["application.conf"]') == "mode=production\n"
    assign(obj, ".data['application.conf']", "mode=test\n")
    assert obj["data"]["application.conf"] == "mode=test\n"
