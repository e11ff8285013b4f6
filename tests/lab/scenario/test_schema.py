from lab.scenario import schema


def test_committed_schema_matches_the_models() -> None:
    """Fails when the models change without `cka-lab schema --write` (editors would validate
    scenario files against a stale schema)."""
    assert schema.SCHEMA_PATH.read_text() == schema.generate()


def test_schema_lists_every_fault_and_check_with_parameters() -> None:
    import json

    from lab.registry import CHECKS, FAULTS

    defs = json.loads(schema.generate())["$defs"]
    titles = {d.get("title") for d in defs.values()}
    for registry in (FAULTS, CHECKS):
        for name in registry.names():
            assert registry.get(name).params.__name__ in titles
    assert defs["EditManifest"]["properties"]["type"]["const"] == "edit-manifest"
    assert "manifest" in defs["EditManifest"]["required"]
