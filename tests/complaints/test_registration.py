"""Registration holds the writer lock only for the history queries and the inserts.

The classifier and the signal detection run before the write transaction opens
(issue 12): a slow text never keeps other registrations (or the watcher) waiting
for the SQLite writer lock. Checked with spies around the real functions.
"""

from __future__ import annotations

from contextlib import contextmanager

from kesu.complaints import registration
from kesu.complaints.schemas import ComplaintIn
from kesu.triage import arrival, model
from tests.conftest import complaint_body


def test_text_work_runs_before_the_write_transaction_and_history_inside_it(rt, monkeypatch):
    state = {"writing": False}
    seen: dict[str, list[bool]] = {"predict": [], "detect": [], "history": []}
    real_write = registration.write

    @contextmanager
    def watched_write(engine):
        with real_write(engine) as conn:
            state["writing"] = True
            try:
                yield conn
            finally:
                state["writing"] = False

    clf = model.shipped()
    real_detect, real_history = arrival.detect, arrival.history_flags

    class Watched:  # the shipped classifier, its predictions recorded
        meta = clf.meta

        def predict(self, texts):
            seen["predict"].append(state["writing"])
            return clf.predict(texts)

    def detect(text):
        seen["detect"].append(state["writing"])
        return real_detect(text)

    def history(*args, **kwargs):
        seen["history"].append(state["writing"])
        return real_history(*args, **kwargs)

    monkeypatch.setattr(registration, "write", watched_write)
    monkeypatch.setattr(model, "shipped", Watched)
    monkeypatch.setattr(arrival, "detect", detect)
    monkeypatch.setattr(arrival, "history_flags", history)

    body = ComplaintIn.model_validate(complaint_body()).model_dump()  # no category given
    view, created = registration.register(rt, body, "test")

    assert created and view["number"].startswith("TS")
    assert seen["predict"] == [False]  # classified outside the transaction
    assert seen["detect"] == [False]  # signals read outside the transaction
    assert seen["history"] == [True]  # repeat / mass incident read inside it


def test_an_empty_idempotency_key_is_no_key(client):
    body = complaint_body(category="billing")
    first = client.post("/api/v1/complaints", json=body, headers={"Idempotency-Key": ""})
    second = client.post("/api/v1/complaints", json=body, headers={"Idempotency-Key": ""})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["number"] != second.json()["number"]
