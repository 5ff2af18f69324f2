#!/usr/bin/env python3
"""An independent reference for Protocol/state.md: the state a client computes
from a history of changes, and its canonical export.

Written from Protocol/ alone (no Swift), Python 3 stdlib only. For every
conformance vector in Protocol/vectors/state/*.json it applies `changes` in
the file's order, reversed, and in seeded shuffles with repeats, and compares
the canonical export (bytes) with the vector's `export` written canonically
plus one newline. Exits non-zero naming the vector and the first differing
path; prints one line per vector that passes.

The layout follows state.md: "Comparing stamps", "Applying one change" (one
function per row of its table), "The canonical export".
"""
import json
import pathlib
import random
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "Protocol"

# --- Canonical encoding (README.md, "Values on the wire") --------------------

NAMED_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def utf8(text):
    """Sort key: record ids, customer ids, set elements and object keys sort by UTF-8 bytes."""
    return text.encode("utf-8")


def encode_string(text):
    # Minimal escapes: `"`, `\` and control characters (taken as U+0000..U+001F,
    # the JSON definition); `/` and non-ASCII (U+007F included) as they are.
    out = []
    for ch in text:
        if ch in NAMED_ESCAPES:
            out.append(NAMED_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def canonical(value):
    """No whitespace, keys sorted by UTF-8 bytes, minimal escapes, shortest integers."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return encode_string(value)
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=utf8)
        return "{" + ",".join(encode_string(k) + ":" + canonical(value[k]) for k in keys) + "}"
    raise TypeError(f"not an exact value: {value!r}")  # floats never occur on the wire


def load_exact(path):
    """Read a JSON file as the wire does: no floats, no duplicate keys."""
    def pairs(items):
        keys = [k for k, _ in items]
        if len(keys) != len(set(keys)):
            raise ValueError(f"{path.name}: duplicate key")
        return dict(items)

    def no_float(text):
        raise ValueError(f"{path.name}: fractional number {text}")

    return json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=pairs, parse_float=no_float)


# --- Comparing stamps ---------------------------------------------------------
# An HLC's text orders as the stamp: compare as byte strings (all ASCII here).

HLC = re.compile(r"^[0-9]{15}-[0-9]{6}-([A-Za-z0-9._:-]{1,64})$")
IDENTIFIER = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
TOKEN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def by_hlc(items):
    return sorted(items, key=lambda item: utf8(item["hlc"]))


def latest(items):
    return max(items, key=lambda item: utf8(item["hlc"]))


def heads(writes):
    """Writes whose HLC no write of the same group lists in `observed`."""
    observed = {hlc for w in writes for hlc in w.get("observed", [])}
    return [w for w in writes if w["hlc"] not in observed]


# --- Applying one change ------------------------------------------------------


class Customer:
    def __init__(self, cid):
        self.id = cid
        self.registers = {}  # field -> the change with the latest HLC
        self.guarded = {}  # field -> {hlc: change}: every write
        self.set_adds = {}  # (field, element key) -> {tag hlc: element}
        self.set_removed = {}  # (field, element key) -> {tag hlcs a removal observed}
        self.notes = {}  # record -> change
        self.revisions = {}  # record -> change (kept before its note arrives)
        self.redactions = {}  # note id -> [changes]
        self.consents = {}  # record -> change
        self.life_events = {}  # record -> change
        self.contacts = {}  # record -> change


class State:
    def __init__(self):
        self.customers = {}  # id -> Customer
        self.erased = set()  # tombstones
        self.aside = []  # invalid or unknown changes: kept, never applied


def check(change):
    """A change checked on its own, without the state (a subset of the schema
    plus the rules state.md names). Returns the rule to apply, or None."""
    try:
        m = HLC.match(change["hlc"])
        if not m or m.group(1) != change["replica"] or not IDENTIFIER.match(change["customer"]):
            return None
        if "observed" in change and (not change["observed"] or not all(HLC.match(h) for h in change["observed"])):
            return None
        if "value" not in change:
            return None
        rule = RULES.get((change["entity"], change["kind"]))
        if rule is None:
            return None
        needs_field, needs_record = NEEDS[change["entity"]]
        if needs_field and not TOKEN.match(change.get("field", "")):
            return None
        if needs_record and not IDENTIFIER.match(change.get("record", "")):
            return None
        return rule
    except (KeyError, TypeError):
        return None


def apply(state, change):
    rule = check(change)
    if rule is None:
        state.aside.append(change)
        return
    cid = change["customer"]
    if cid in state.erased:  # 1. the customer: an erased customer ignores every change
        return
    if rule is apply_erasure:
        apply_erasure(state, change)
        return
    customer = state.customers.setdefault(cid, Customer(cid))  # exists from its first applied change
    rule(customer, change)  # 2. by entity and kind


def first_of_record(table, change):
    """An appended record is identified by its `record`: a second change with the
    same id changes nothing. (Two *different* changes with one id: keep the
    earliest HLC, so the result does not depend on order; state.md is silent.)"""
    old = table.get(change["record"])
    if old is None or utf8(change["hlc"]) < utf8(old["hlc"]):
        table[change["record"]] = change


def apply_register(customer, change):
    """profile/register: per field, the change with the latest HLC (null: cleared)."""
    old = customer.registers.get(change["field"])
    if old is None or utf8(change["hlc"]) > utf8(old["hlc"]):
        customer.registers[change["field"]] = change


def apply_guarded_register(customer, change):
    """profile/guarded_register: per field, every write (HLC, value, observed)."""
    customer.guarded.setdefault(change["field"], {})[change["hlc"]] = change


def apply_add_wins_set(customer, change):
    """profile/add_wins_set: per field and element, add tags and which a removal observed."""
    value = change["value"]
    if not isinstance(value, dict) or set(value) != {"element", "op"} or value["op"] not in ("add", "remove"):
        return  # not the form of a set change (the check should have refused it)
    key = (change["field"], canonical(value["element"]))
    if value["op"] == "add":
        customer.set_adds.setdefault(key, {})[change["hlc"]] = value["element"]
    else:  # marks the tags in observed, also of adds not received yet
        customer.set_removed.setdefault(key, set()).update(change.get("observed", []))


def apply_note(customer, change):
    """note/append_only_log: the note; its text is its first revision."""
    first_of_record(customer.notes, change)


def apply_note_revision(customer, change):
    """note_revision/append_only_log: a revision of value.note, kept even before its note."""
    first_of_record(customer.revisions, change)


def apply_note_redaction(customer, change):
    """note_redaction/append_only_log: of the redactions of note `record`, the earliest."""
    found = customer.redactions.setdefault(change["record"], [])
    if all(r["hlc"] != change["hlc"] for r in found):
        found.append(change)


def apply_consent(customer, change):
    """consent/consent: every decision, per purpose (field)."""
    first_of_record(customer.consents, change)


def apply_life_event(customer, change):
    first_of_record(customer.life_events, change)


def apply_contact(customer, change):
    first_of_record(customer.contacts, change)


def apply_erasure(state, change):
    """customer/erasure: a tombstone; the customer and everything of it is removed."""
    state.customers.pop(change["customer"], None)
    state.erased.add(change["customer"])


RULES = {
    ("profile", "register"): apply_register,
    ("profile", "guarded_register"): apply_guarded_register,
    ("profile", "add_wins_set"): apply_add_wins_set,
    ("note", "append_only_log"): apply_note,
    ("note_revision", "append_only_log"): apply_note_revision,
    ("note_redaction", "append_only_log"): apply_note_redaction,
    ("consent", "consent"): apply_consent,
    ("life_event", "append_only_log"): apply_life_event,
    ("contact", "append_only_log"): apply_contact,
    ("customer", "erasure"): apply_erasure,
}
# entity -> (needs `field`, needs `record`)
NEEDS = {"profile": (True, False), "consent": (True, True), "customer": (False, False),
         "note": (False, True), "note_revision": (False, True), "note_redaction": (False, True),
         "life_event": (False, True), "contact": (False, True)}

# --- The canonical export -----------------------------------------------------

KNOWN_CONSENT_STATUSES = ("granted", "withdrawn")  # data-model.md is not in Protocol/: assumed


def export_fields(c):
    fields = {f: {"hlc": ch["hlc"], "value": ch["value"]} for f, ch in c.registers.items()}
    for f, writes in c.guarded.items():
        shown = latest(heads(list(writes.values())))  # the latest head
        fields[f] = {"hlc": shown["hlc"], "value": shown["value"]}
    return fields


def export_sets(c):
    sets = {}
    for (f, element_key), tags in c.set_adds.items():
        removed = c.set_removed.get((f, element_key), set())
        live = [e for tag, e in tags.items() if tag not in removed]
        if live:  # present while one of its add tags is not removed
            sets.setdefault(f, []).append(live[0])
    return {f: sorted(els, key=lambda e: utf8(e) if isinstance(e, str) else utf8(canonical(e)))
            for f, els in sets.items()}


def export_consents(c):
    return [{"at": d["value"]["at"], "hlc": d["hlc"], "id": d["record"], "observed": d.get("observed", []),
             "purpose": d["field"], "source": d["value"]["source"],
             "status": d["value"]["status"] if d["value"]["status"] in KNOWN_CONSENT_STATUSES else "unknown"}
            for d in by_hlc(c.consents.values())]


def export_consent_state(c):
    purposes = {}
    for d in c.consents.values():
        purposes.setdefault(d["field"], []).append(d)
    state = {}
    for purpose, decisions in purposes.items():
        in_force = heads(decisions)
        withdrawals = [d for d in in_force if d["value"]["status"] != "granted"]
        state[purpose] = "withdrawn" if withdrawals else "granted"
    return state


def export_notes(c):
    notes = []
    for note in by_hlc(c.notes.values()):
        nid, v = note["record"], note["value"]
        found = c.redactions.get(nid)
        redaction = None
        if found:
            r = min(found, key=lambda r: utf8(r["hlc"]))
            redaction = {"at": r["value"]["at"], "by": r["value"]["by"], "hlc": r["hlc"], "note": nid,
                         "reason": r["value"].get("reason")}
        first = {"at": v["at"], "author": v["author"], "hlc": note["hlc"], "id": nid, "note": nid,
                 "text": v.get("text")}
        later = [{"at": r["value"]["at"], "author": r["value"]["author"], "hlc": r["hlc"], "id": r["record"],
                  "note": nid, "text": r["value"].get("text")}
                 for r in by_hlc(c.revisions.values()) if r["value"].get("note") == nid and r["record"] != nid]
        revisions = [first] + later
        if redaction is not None:
            for rev in revisions:
                rev["text"] = None
        notes.append({"at": v["at"], "author": v["author"], "channel": v["channel"],
                      "follow_up": v.get("follow_up"), "hlc": note["hlc"], "id": nid, "redaction": redaction,
                      "revisions": revisions, "sentiment": v.get("sentiment")})
    return notes


def export_life_events(c):
    return [{"confidence": e["value"].get("confidence"), "date": e["value"].get("date"),
             "detail": e["value"].get("detail"), "hlc": e["hlc"], "id": e["record"],
             "source": e["value"].get("source"), "type": e["value"].get("type")}
            for e in by_hlc(c.life_events.values())]


def export_contacts(c):
    return [{"at": k["value"].get("at"), "channel": k["value"].get("channel"), "hlc": k["hlc"], "id": k["record"],
             "outcome": k["value"].get("outcome"), "purpose": k["value"].get("purpose"),
             "topic": k["value"].get("topic")}
            for k in by_hlc(c.contacts.values())]


def export(state):
    customers = [{"consent_state": export_consent_state(c), "consents": export_consents(c),
                  "contacts": export_contacts(c), "fields": export_fields(c), "id": c.id,
                  "life_events": export_life_events(c), "notes": export_notes(c), "sets": export_sets(c)}
                 for _, c in sorted(state.customers.items(), key=lambda item: utf8(item[0]))]
    return {"customers": customers, "format": "oxpecker-export", "schema_version": 3}


def export_bytes(changes):
    state = State()
    for change in changes:
        apply(state, change)
    return (canonical(export(state)) + "\n").encode("utf-8")


# --- Bootstrap by state (README.md, "bootstrap_page", version 3) --------------

RECORD_KINDS = {"note": "append_only_log", "note_revision": "append_only_log", "note_redaction": "append_only_log",
                "consent": "consent", "life_event": "append_only_log", "contact": "append_only_log"}


def state_changes(customer, state):
    """The change each entry of a customer's state stands for (the table of the
    bootstrap_page section): replica is the stamp's, no number."""
    def change(hlc, entity, kind, value, field=None, record=None, observed=None):
        made = {"customer": customer, "entity": entity, "hlc": hlc, "kind": kind, "replica": HLC.match(hlc).group(1),
                "schema_version": 1, "value": value}
        if field is not None:
            made["field"] = field
        if record is not None:
            made["record"] = record
        if observed:
            made["observed"] = observed
        return made
    for entry in state["registers"]:
        yield change(entry["hlc"], "profile", "register", entry["value"], field=entry["field"])
    for entry in state["guarded"]:
        yield change(entry["hlc"], "profile", "guarded_register", entry["value"], field=entry["field"], observed=entry.get("observed"))
    for entry in state["set_tags"]:
        if "removed" in entry:
            yield change(entry["removed"], "profile", "add_wins_set", {"element": entry["element"], "op": "remove"},
                         field=entry["field"], observed=[entry["tag"]])
        else:
            yield change(entry["tag"], "profile", "add_wins_set", {"element": entry["element"], "op": "add"}, field=entry["field"])
    for entry in state["records"]:
        yield change(entry["hlc"], entry["entity"], RECORD_KINDS[entry["entity"]], entry["value"], field=entry.get("field"),
                     record=entry["record"], observed=entry.get("observed"))


def snapshot_changes(snapshots):
    return [made for customer in sorted(snapshots, key=utf8) for made in state_changes(customer, snapshots[customer])]


# --- Running the vectors ------------------------------------------------------


def first_difference(got, want, path=""):
    """The JSON Pointer of the first place two values differ, or None."""
    if type(got) is not type(want):
        return path or "/"
    if isinstance(want, dict):
        for key in sorted(set(got) | set(want), key=utf8):
            if key not in got or key not in want:
                return f"{path}/{key}"
            found = first_difference(got[key], want[key], f"{path}/{key}")
            if found:
                return found
        return None
    if isinstance(want, list):
        for i, (g, w) in enumerate(zip(got, want)):
            found = first_difference(g, w, f"{path}/{i}")
            if found:
                return found
        return f"{path}/{min(len(got), len(want))}" if len(got) != len(want) else None
    return None if got == want else (path or "/")


def deliveries(changes, seeds=(1, 2, 3, 4, 5)):
    yield "file order", list(changes)
    yield "reversed", list(reversed(changes))
    for seed in seeds:
        rng = random.Random(seed)
        order = list(changes) + [rng.choice(changes) for _ in range(len(changes) // 2 + 1)]
        rng.shuffle(order)
        yield f"shuffle seed {seed} with repeats", order


def self_test():
    # The encoder against the documented rules (and one vector in canonical form).
    assert canonical({"b": 1, "a": [True, None], "\u00e9": "x/\u00e9"}) == '{"a":[true,null],"b":1,"\u00e9":"x/\u00e9"}'
    assert canonical("\t\"\\\u0001\u001f\u007f") == '"\\t\\"\\\\\\u0001\\u001f\u007f"'
    assert canonical({"\U0001f600": 1, "\uffff": 2}) == '{"\uffff":2,"\U0001f600":1}'  # UTF-8 bytes, not UTF-16
    text = (ROOT / "vectors" / "valid" / "change.exact_values.json").read_text(encoding="utf-8")
    assert canonical(load_exact(ROOT / "vectors" / "valid" / "change.exact_values.json")) + "\n" == text


def first_failure(changes, want):
    """The first delivery order of `changes` whose export differs from `want`
    (the vector's export), and where: (order, JSON Pointer); None if none does."""
    want_bytes = (canonical(want) + "\n").encode("utf-8")
    for how, order in deliveries(changes):
        got = export_bytes(order)
        if got != want_bytes:
            return how, first_difference(json.loads(got), want) or "bytes only"
    return None


def main():
    self_test()
    paths = sorted((ROOT / "vectors" / "state").glob("*.json"))
    if not paths:
        print("FAIL no vectors in Protocol/vectors/state")
        return 1
    failed = 0
    for path in paths:
        vector = load_exact(path)
        if "snapshots" not in vector:
            print(f"FAIL {path.name}: no snapshots")
            failed += 1
            continue
        entries = snapshot_changes(vector["snapshots"])
        # The history, and the states a server sends for it (version 3 bootstrap): each gives the export.
        for what, changes, ok in [
            ("", vector["changes"], f"{len(vector['changes'])} changes, every delivery order gives the export"),
            (" snapshots", entries, f"its snapshots ({len(entries)} entries) load the export in every order"),
        ]:
            failure = first_failure(changes, vector["export"])
            if failure:
                print(f"FAIL {path.name}{what} ({failure[0]}): first difference at {failure[1]}")
                failed += 1
            else:
                print(f"ok   {path.name}: {ok}")
    if failed:
        print(f"{failed} failures over {len(paths)} state vectors: they differ from Protocol/state.md as implemented here")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
