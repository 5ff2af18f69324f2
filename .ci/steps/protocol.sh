#!/usr/bin/env bash
# Checks Protocol/ independently of the Swift code: vectors against the JSON
# Schemas (Python jsonschema) and openapi.yaml (openapi-spec-validator), and
# the state vectors against an independent reference of Protocol/state.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! python3 -c "import jsonschema, openapi_spec_validator" >/dev/null 2>&1; then
    echo "installing jsonschema and openapi-spec-validator"
    python3 -m pip install -q jsonschema openapi-spec-validator
fi
python3 .ci/validate_protocol.py
python3 .ci/reference_state.py
