#!/usr/bin/env python3
"""Generates jcs-vectors.json: RFC 8785 (JCS) golden vectors from third-party code.

The canonical form of every vector comes from the Trail of Bits RFC 8785
implementation, PyPI package `rfc8785` version 0.1.4, and is cross-checked against a
second one, PyPI package `jcs` version 0.2.1 (Anders Rundgren's reference code, the
author of RFC 8785); the script stops if the two disagree. Neither shares code with
the Rust crates the library uses (serde_json_canonicalizer, ryu-js).

Regenerate with exactly:

    python3 -m venv /tmp/jcsvenv
    /tmp/jcsvenv/bin/pip install rfc8785==0.1.4 jcs==0.2.1
    /tmp/jcsvenv/bin/python attestation/tests/data/gen_jcs_vectors.py \
        > attestation/tests/data/jcs-vectors.json

(run from the workspace root; Python 3.11.7 was used). The Rust test
`canonical.rs::third_party_vectors` replays the output and needs no Python.

Each vector is {"name", "input", "canonical", "sha256"} and, for the hashed objects of
whole CER bundles, "bundle": true. `input` is JSON text (some with unusual number
spellings and escapes); `canonical` is the rfc8785 output as text; `sha256` is the
lowercase hex SHA-256 of the canonical UTF-8 bytes.

Integers: Python's json module reads integers as exact Python ints, and `rfc8785`
refuses ints outside +-(2^53 - 1) (IntegerDomainError), while RFC 8785 §3.2.2.3 reads
every JSON number as the nearest IEEE 754 double. So every integer with
|n| > 2^53 - 1 is converted with float(text) (correctly rounded, as JSON.parse does)
before canonicalizing; smaller integers are exact either way.
"""

import hashlib
import json
import sys

import jcs
import rfc8785

MAX_SAFE = 2**53 - 1


def parse_int(text):
    n = int(text)
    return n if -MAX_SAFE <= n <= MAX_SAFE else float(text)


def load(text):
    return json.loads(text, parse_int=parse_int)


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def content_hash(content):
    """NexArt's content rule: a string hashes as UTF-8, anything else as JCS."""
    if isinstance(content, str):
        return "sha256:" + sha256_hex(content.encode("utf-8"))
    return "sha256:" + sha256_hex(rfc8785.dumps(content))


VECTORS = []


def vector(name, text, bundle=False):
    value = load(text)
    canonical = rfc8785.dumps(value)
    second = jcs.canonicalize(value)
    if canonical != second:
        sys.exit(f"{name}: rfc8785 gives {canonical!r}, jcs gives {second!r}")
    entry = {
        "name": name,
        "input": text,
        "canonical": canonical.decode("utf-8"),
        "sha256": sha256_hex(canonical),
    }
    if bundle:
        entry["bundle"] = True
    VECTORS.append(entry)


# --- Numbers (RFC 8785 §3.2.2.3, ECMA-262 Number::toString) -----------------------
NUMBERS = [
    ("number-zero", "0"),
    ("number-negative-zero-integer", "-0"),
    ("number-negative-zero-float", "-0.0"),
    ("number-0.1", "0.1"),
    ("number-0.10-trailing-zero", "0.10"),
    ("number-1e21", "1e21"),
    ("number-1E21-upper-case", "1E21"),
    ("number-1e+21-plus-sign", "1e+21"),
    ("number-1e20-integer-form", "1e20"),
    ("number-min-subnormal", "5e-324"),
    ("number-negative-min-subnormal", "-5e-324"),
    ("number-1e-7-exponent-form", "1e-7"),
    ("number-0.000001-decimal-form", "0.000001"),
    ("number-0.5e-6", "0.5e-6"),
    ("number-2^53", "9007199254740992"),
    ("number-2^53-as-float-text", "9007199254740992.0"),
    ("number-2^53-minus-1", "9007199254740991"),
    ("number-minus-2^53", "-9007199254740992"),
    ("number-2^53-plus-1-rounds-to-2^53", "9007199254740993"),
    ("number-max-double", "1.7976931348623157e308"),
    ("number-4.35", "4.35"),
    ("number-123456789012345680000", "123456789012345680000"),
    ("number-2^68-exact-integer-text", "295147905179352825856"),
    ("number-rfc8785-333333333.33333329", "333333333.33333329"),
    ("number-rfc8785-1e23", "1e23"),
    ("number-rfc8785-9.999999999999997e22", "9.999999999999997e22"),
    ("number-rfc8785-999999999999999700000", "999999999999999700000"),
    ("number-rfc8785-round-half-even", "1424953923781206.25"),
    ("number-rfc8785-negative-small", "-0.0000033333333333333333"),
    ("number-min-normal", "2.2250738585072014e-308"),
    ("number-1e16", "1e16"),
]
for name, text in NUMBERS:
    vector(name, text)

vector(
    "numbers-array-mixed-spellings",
    "[0, -0, -0.0, 0.1, 1E21, 1e+21, 1e20, 5e-324, 1e-7, 0.000001, 9007199254740992, "
    "9007199254740992.0, -9007199254740991, 1.5, 100, 1e2, 12e-1]",
)

# --- Strings (RFC 8785 §3.2.2.2) --------------------------------------------------
vector("string-non-ascii-raw", '"caf\u00e9 \u65e5\u672c\u8a9e \U0001f600"')
vector("string-non-ascii-escaped", '"caf\\u00e9 \\u65e5\\u672c\\u8a9e \\ud83d\\ude00"')
vector("string-all-controls", json.dumps("".join(chr(c) for c in range(0x20))))
vector("string-escapes", '"quote \\" backslash \\\\ slash / \\/ del \u007f"')
vector("string-line-separators", '"\\u2028 \\u2029 \\ufeff \\uffff \\ue000"')
vector("string-empty", '""')

# --- Objects (RFC 8785 §3.2.3) ----------------------------------------------------
vector(
    "object-utf16-order",
    '{"z": 1, "\\ufb01": 2, "\\ud83d\\ude00": 3, "": 4, "a": 5, "\\u00e9": 6, '
    '"\\u007f": 7, "aa": 8, "A": 9}',
)
vector(
    "object-rfc8785-sorting-example",
    '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", '
    '"\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", '
    '"\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", '
    '"\\u00f6": "Latin Small Letter O With Diaeresis"}',
)
vector(
    "object-rfc8785-example",
    '{\n  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n'
    '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n'
    '  "literals": [null, true, false]\n}',
)
vector(
    "object-nested",
    '{"b": [[], {}, [{"y": null, "x": [true, false]}], {"\\u00e9": {"\\u0000": -0.0}}],'
    ' "a": {"c": {"d": {"e": {"f": [1e21, 0.1, "\\t"]}}}}}',
)
vector("whitespace-everywhere", ' \n\t{ "b" :\r\n [ 1 , 2 ] ,\t"a" : { } }\n ')

# --- Hashed objects of CER v1 bundles ---------------------------------------------
D1 = "sha256:" + "ab" * 32
D2 = "sha256:" + "0123456789abcdef" * 4

minimal = {
    "bundleType": "cer.ai.execution.v1",
    "version": "0.1",
    "createdAt": "2026-02-12T00:00:00.000Z",
    "snapshot": {
        "type": "ai.execution.v1",
        "protocolVersion": "1.3.0",
        "executionId": "run-1",
        "provider": "local",
        "model": "llama3:8b",
        "inputHash": D1,
        "outputHash": D2,
        "parameters": {"temperature": None, "maxTokens": None, "topP": None, "seed": None},
    },
}
vector("bundle-minimal", json.dumps(minimal, indent=2), bundle=True)

tricky = {
    "snapshot": {
        "type": "ai.execution.v1",
        "protocolVersion": "1.3.0",
        "executionId": "ex\u00e9cution-\u65e5\u672c-\U0001f600",
        "provider": 'quote" back\\ slash/ tab\t nul\u0000 del\u007f ls\u2028',
        "model": "mod\u00e8le",
        "inputHash": D2,
        "outputHash": D1,
        "appId": "\ufb01app",
        "parameters": {
            "temperature": 0.1,
            "maxTokens": MAX_SAFE,
            "topP": 5e-324,
            "seed": -MAX_SAFE,
            "nested": {
                "floats": [0.1, 1e21, 5e-324, -0.0, 1e-7, 4.35],
                "ints": [0, -1, MAX_SAFE, -MAX_SAFE, 2**53],
                "deep": {"\U0001f600": {"\ufb01": [{"z": None, "": True}]}},
            },
            "stop": ["\n\n", "</s>"],
        },
        "extraTopLevelSnapshotKey": {"x\u00e9": [1, "two", {"three": 3.0}]},
    },
    "createdAt": "2026-02-12T23:59:59.999Z",
    "version": "0.1",
    "bundleType": "cer.ai.execution.v1",
}
# 2**53 is above the safe range: written as an int in the text, read back by `load`
# (and by every JSON reader RFC 8785 targets) as the double 9007199254740992.
vector("bundle-non-ascii-escapes-nested-floats", json.dumps(tricky, ensure_ascii=False), bundle=True)

with_context = {
    "bundleType": "cer.ai.execution.v1",
    "version": "0.1",
    "createdAt": "2026-02-12T00:00:00.000Z",
    "snapshot": {
        "type": "ai.execution.v1",
        "protocolVersion": "1.3.0",
        "executionId": "run-ctx",
        "provider": "llama.cpp",
        "model": "qwen2.5-0.5b-instruct-q4_k_m.gguf",
        "inputHash": D1,
        "outputHash": D1,
        "parameters": {"temperature": 0, "maxTokens": 128, "topP": 0.95, "seed": 42},
        "runtime": {
            "binary": {"path": "/usr/bin/llama-cli", "size": 1048576, "digest": D2},
            "modelFiles": [{"path": "/models/q.gguf", "size": 2**53 - 1, "digest": D1}],
            "argv": ["llama-cli", "-m", "/models/q.gguf", "-p", "h\u00e9llo \"w\""],
            "host": {
                "osRelease": "Debian GNU/Linux 12 (bookworm)",
                "kernel": "6.1.0-28-amd64",
                "arch": "x86_64",
                "cerdVersion": "0.1.0",
            },
        },
    },
    "context": {"signals": [{"name": "review", "score": 0.1}], "\u00e9tat": "ok"},
    "contextSummary": {"count": 1, "hash": D2},
    "policyEvaluation": {"policy": "p\u00f6licy-1", "passed": True, "limits": [1e21, -0.0]},
}
vector("bundle-runtime-context-policy", json.dumps(with_context, indent=1), bundle=True)

nexart_input = "Summarise: caf\u00e9 \U0001f600\n"
nexart_output = {"summary": "ok", "tokens": [1, 2.5, 1e21], "\ufb01": "\u2028"}
nexart = {
    "bundleType": "cer.ai.execution.v1",
    "version": "0.1",
    "createdAt": "2025-12-31T12:34:56.789Z",
    "snapshot": {
        "type": "ai.execution.v1",
        "protocolVersion": "1.2.0",
        "executionId": "nexart-1",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "modelVersion": None,
        "prompt": "You are terse.",
        "input": nexart_input,
        "inputHash": content_hash(nexart_input),
        "output": nexart_output,
        "outputHash": content_hash(nexart_output),
        "parameters": {"temperature": 0.7, "maxTokens": 1024, "topP": None, "seed": None},
        "timestamp": "2025-12-31T12:34:56.789Z",
        "appId": None,
    },
}
vector("bundle-nexart-1.2.0-inline-content", json.dumps(nexart), bundle=True)

# The same hashed object as bundle-minimal, but with a parameter and its numbers
# spelled by hand: the canonical form (and so the certificateHash) must not change
# with the spelling.
vector(
    "bundle-number-spellings",
    '{"bundleType":"cer.ai.execution.v1","version":"0.1",'
    '"createdAt":"2026-02-12T00:00:00.000Z","snapshot":{"type":"ai.execution.v1",'
    '"protocolVersion":"1.3.0","executionId":"run-1","provider":"local",'
    '"model":"llama3:8b","inputHash":"' + D1 + '","outputHash":"' + D2 + '",'
    '"parameters":{"temperature":-0.0,"maxTokens":1E2,"topP":0.10,"seed":null,'
    '"spellings":[1E21,1e+21,5e-324,9007199254740992.0,0.5e-6,12e-1]}}}',
    bundle=True,
)

json.dump(VECTORS, sys.stdout, ensure_ascii=False, indent=1)
sys.stdout.write("\n")
print(f"{len(VECTORS)} vectors", file=sys.stderr)
