"""The JSON Schema of scenario files, generated from the models and committed beside them so
editors can validate scenarios (see README: the yaml-language-server modeline)."""

from __future__ import annotations

import json
from pathlib import Path

from lab.scenario.models import Scenario

SCHEMA_PATH = Path(__file__).with_name("scenario.schema.json")


def generate() -> str:
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "cka-lab scenario"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write() -> Path:
    SCHEMA_PATH.write_text(generate())
    return SCHEMA_PATH
