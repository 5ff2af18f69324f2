#!/usr/bin/env python3
"""Independent check of Protocol/: every valid vector validates against its
message's JSON Schema (2020-12) and is in canonical form; every invalid vector
fails its schema exactly when it says schema_rejects; every message has a schema and
at least one valid and one invalid vector; every expected error code is in
the spec's error table; openapi.yaml is valid OpenAPI 3.1.

Written against the documents only (no Swift), so the documents cannot drift
from the code: the Swift tests check the same vectors against the codec.
"""
import json
import pathlib
import re
import sys

from jsonschema.validators import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from openapi_spec_validator import validate as validate_openapi
from openapi_spec_validator.readers import read_from_filename

ROOT = pathlib.Path(__file__).resolve().parent.parent / "Protocol"
failures = []


def fail(message):
    failures.append(message)
    print(f"FAIL {message}")


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def unique_members(pairs):
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)


def no_floats(text):
    return json.loads(text, parse_float=lambda s: (_ for _ in ()).throw(ValueError(f"float {s}")))


# Schemas: every *.schema.json, registered under its file URI so relative $refs resolve offline.
schema_dir = ROOT / "schema"
resources = {}
for path in sorted(schema_dir.glob("*.schema.json")):
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    resources[path.as_uri()] = Resource.from_contents(schema, default_specification=DRAFT202012)
registry = Registry().with_resources(resources.items())
messages = sorted(p.name[: -len(".schema.json")] for p in schema_dir.glob("*.schema.json") if p.name != "common.schema.json")


def validator_for(message):
    uri = (schema_dir / f"{message}.schema.json").as_uri()
    return Draft202012Validator({"$ref": uri}, registry=registry)


validators = {m: validator_for(m) for m in messages}

# Error codes documented in the spec's table: rows starting with | `code` |.
readme = (ROOT / "README.md").read_text(encoding="utf-8")
documented_codes = set(re.findall(r"^\| `([a-z][a-z0-9_]*)` \|", readme, flags=re.MULTILINE))
if not documented_codes:
    fail("no error codes found in the error table of Protocol/README.md")

seen_valid, seen_invalid = set(), set()
for path in sorted((ROOT / "vectors" / "valid").glob("*.json")):
    message = path.name.split(".")[0]
    seen_valid.add(message)
    if message not in validators:
        fail(f"{path.name}: no schema for message '{message}'")
        continue
    text = path.read_text(encoding="utf-8")
    try:
        body = no_floats(text)
    except ValueError as error:
        fail(f"{path.name}: {error}")
        continue
    errors = list(validators[message].iter_errors(body))
    for error in errors:
        fail(f"{path.name}: {error.json_path}: {error.message}")
    if canonical(body) != text:
        fail(f"{path.name}: not in canonical form (sorted keys, no whitespace, one trailing newline)")

for path in sorted((ROOT / "vectors" / "invalid").glob("*.json")):
    wrapper = json.loads(path.read_text(encoding="utf-8"))
    message = wrapper.get("message")
    seen_invalid.add(message)
    if not path.name.startswith(f"{message}."):
        fail(f"{path.name}: file name does not start with its message '{message}'")
    if message not in validators:
        fail(f"{path.name}: no schema for message '{message}'")
        continue
    if wrapper.get("error") not in documented_codes:
        fail(f"{path.name}: error '{wrapper.get('error')}' is not in the error table of Protocol/README.md")
    if not wrapper.get("description"):
        fail(f"{path.name}: no description")
    if ("body" in wrapper) == ("text" in wrapper):
        fail(f"{path.name}: needs exactly one of body (JSON) or text (raw)")
        continue
    # schema_rejects is checked both ways: true means the schema alone refuses the
    # message, false that it accepts it (the error is the codec's to find).
    if not isinstance(wrapper.get("schema_rejects"), bool):
        fail(f"{path.name}: schema_rejects must be true or false")
        continue
    instance = wrapper.get("body")
    if "text" in wrapper:
        # The message as a JSON Schema validator sees it: parsed, if it is JSON at all
        # (duplicate keys and trailing text are not; a validator reads 1.0 and 1e3 as integers).
        try:
            instance = json.loads(wrapper["text"], object_pairs_hook=unique_members)
        except ValueError:
            if wrapper["schema_rejects"]:
                fail(f"{path.name}: schema_rejects is true, but the text is not JSON a schema could judge")
            continue
    rejects = not validators[message].is_valid(instance)
    if wrapper["schema_rejects"] and not rejects:
        fail(f"{path.name}: schema_rejects is true ({wrapper['error']}), but the schema accepts it")
    elif not wrapper["schema_rejects"] and rejects:
        errors = "; ".join(e.message for e in validators[message].iter_errors(instance))
        fail(f"{path.name}: schema_rejects is false, but the schema refuses it: {errors}")

for message in messages:
    if message not in seen_valid:
        fail(f"message '{message}' has no valid vector")
    if message not in seen_invalid:
        fail(f"message '{message}' has no invalid vector")

# OpenAPI 3.1, with the schema files it references.
openapi_path = ROOT / "openapi.yaml"
try:
    spec, base_uri = read_from_filename(str(openapi_path))
    validate_openapi(spec, base_uri=openapi_path.as_uri())
except Exception as error:  # the validator raises several exception types
    fail(f"openapi.yaml: {error}")
else:
    # The validator does not follow references to other files: check them here.
    def file_refs(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str) and not value.startswith("#"):
                    yield value
                else:
                    yield from file_refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from file_refs(item)

    for target in sorted(set(file_refs(spec))):
        if not (ROOT / target.split("#")[0]).is_file():
            fail(f"openapi.yaml: $ref '{target}' names no file")

valid_count = len(list((ROOT / "vectors" / "valid").glob("*.json")))
invalid_count = len(list((ROOT / "vectors" / "invalid").glob("*.json")))
if failures:
    print(f"protocol: {len(failures)} failure(s)")
    sys.exit(1)
print(f"protocol: {len(messages)} schemas, {valid_count} valid and {invalid_count} invalid vectors, openapi.yaml: ok")
