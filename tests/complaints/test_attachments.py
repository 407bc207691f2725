"""Evidence attachments: type by the file's first bytes, size and count limits, scope, audit."""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import struct
import wave
import zlib
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select

from kesu.app import BodyLimit, create_app
from kesu.complaints import attachments, retention
from kesu.store import tables as t
from kesu.store.db import read
from tests.conftest import complaint_body, last_code

A = t.complaint_attachments.c
MISSING = "TS20261128999999"


# -- real little files, built here ---------------------------------------------------


def png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1×1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 800)  # 0.1 s of silence
    return out.getvalue()


def upload(client, number, name, data, content_type="application/octet-stream", headers=None):
    return client.post(
        f"/api/v1/complaints/{number}/attachments",
        files={"file": (name, data, content_type)},
        headers=headers or {},
    )


def stored(rt) -> tuple[int, int, int]:
    """(attachments, attachment events, attachment audit entries) in the database."""
    with read(rt.engine) as conn:
        return (
            conn.execute(select(func.count()).select_from(t.complaint_attachments)).scalar_one(),
            conn.execute(
                select(func.count())
                .select_from(t.complaint_events)
                .where(t.complaint_events.c.type == "attachment_added")
            ).scalar_one(),
            conn.execute(
                select(func.count())
                .select_from(t.audit_log)
                .where(t.audit_log.c.action == "attachment.add")
            ).scalar_one(),
        )


# -- the pure parts -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "content_type"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (png(), "image/png"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (pdf(), "application/pdf"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mpeg"),
        (b"\xff\xfb\x90\x64" + b"\x00" * 8, "audio/mpeg"),  # MPEG-1 layer III frame
        (wav(), "audio/wav"),
        (b"#!AMR\n\x3c\x00", "audio/amr"),
        (b"#!AMR-WB\n\x00", "audio/amr-wb"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "audio/mp4"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00", "audio/mp4"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00", "audio/mp4"),
    ],
)
def test_the_type_comes_from_the_first_bytes(head, content_type):
    assert attachments.sniff(head) == content_type


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00\x03\x00\x00\x00",  # Windows executable
        b"\x7fELF\x02\x01\x01",  # Linux executable
        b"<!DOCTYPE html><script>alert(1)</script>",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
        b"<svg onload=alert(1)>",
        b"PK\x03\x04\x14\x00",  # zip, docx
        b"\xff\xf1\x50\x80",  # ADTS AAC: frame sync, but not layer III
        b"\x00\x00\x00\x18ftypqt  ",  # QuickTime video
        b"RIFF\x24\x00\x00\x00AVI ",
        b"plain text",
    ],
)
def test_anything_else_is_refused(data):
    assert attachments.sniff(data) is None
    with pytest.raises(Exception) as refused:
        attachments.check(data)
    assert refused.value.status == 415 and refused.value.code == "attachment_type_refused"


def test_file_names_are_cleaned():
    clean = attachments.clean_filename
    assert clean("C:\\Users\\张三\\Desktop\\账单截图.png", "image/png") == "账单截图.png"
    assert clean("../../etc/passwd", "application/pdf") == "passwd.pdf"
    assert clean("录音\x00\r\n2026.wav", "audio/wav") == "录音2026.wav"
    # A right-to-left override would show "invoice_gpj.exe" as "invoice_exe.jpg".
    assert clean("invoice_\u202egpj.exe", "image/jpeg") == "invoice_gpj.exe.jpg"
    assert clean("照片.JPG", "image/jpeg") == "照片.JPG"
    assert clean("", "audio/amr") == "附件.amr"
    assert clean("  ...  ", "image/gif") == "附件.gif"
    assert clean('a<b>:"c"|?*.pdf', "application/pdf") == "a_b___c____.pdf"
    long = clean("长" * 300 + ".pdf", "application/pdf")
    assert len(long) == 200 and long.endswith("长.pdf")


def test_the_body_limit_is_larger_only_for_uploads():
    async def app(scope, receive, send):
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    limit = BodyLimit(app, max_bytes=100, large_paths_max=1000)

    def status(method: str, path: str, size: int, declared: bool = True) -> int:
        headers = [(b"content-length", str(size).encode())] if declared else []
        scope = {"type": "http", "method": method, "path": path, "headers": headers}
        sent: list[dict] = []
        messages = [{"type": "http.request", "body": b"x" * size, "more_body": False}]

        async def receive():
            return messages.pop(0)

        async def send(message):
            sent.append(message)

        asyncio.run(limit(scope, receive, send))
        return sent[0]["status"]

    for path in (
        "/api/v1/complaints/TS1/attachments",
        "/complaints/TS1/attachments",
        "/portal/complaints/TS1/attachments",
        "/complaints/TS1/attachments/",
    ):
        assert status("POST", path, 500) == 204, path
        assert status("POST", path, 500, declared=False) == 204, path
        assert status("POST", path, 1001) == 413, path
        assert status("POST", path, 1001, declared=False) == 413, path
    assert status("POST", "/api/v1/complaints", 101) == 413
    assert status("POST", "/api/v1/complaints", 101, declared=False) == 413
    assert status("POST", "/api/v1/complaints/TS1/attachments/1", 500) == 413
    assert status("PUT", "/api/v1/complaints/TS1/attachments", 500) == 413


# -- over HTTP ------------------------------------------------------------------------


def test_upload_list_and_download_the_same_bytes(client, rt, make_complaint):
    n = make_complaint()["number"]
    files = {
        "账单截图.png": (png(), "image/png"),
        "缴费凭证.pdf": (pdf(), "application/pdf"),
        "通话录音.wav": (wav(), "audio/wav"),
    }
    made = []
    for name, (data, content_type) in files.items():
        # What the client says the type is does not count: the bytes do.
        r = upload(client, n, name, data, "text/html")
        assert r.status_code == 201, r.text
        meta = r.json()
        assert (
            r.headers["location"]
            == meta["url"]
            == (f"/api/v1/complaints/{n}/attachments/{meta['id']}")
        )
        assert meta["filename"] == name and meta["content_type"] == content_type
        assert meta["size"] == len(data) and meta["sha256"] == hashlib.sha256(data).hexdigest()
        assert meta["source"] == "staff" and meta["uploaded_by"] == "t-supervisor"
        assert meta["uploaded_at"].endswith("+08:00")
        made.append(meta)

    listed = client.get(f"/api/v1/complaints/{n}/attachments")
    assert listed.status_code == 200
    assert listed.json()["items"] == made

    for meta, (name, (data, content_type)) in zip(made, files.items(), strict=True):
        r = client.get(meta["url"])
        assert r.status_code == 200
        assert r.content == data
        assert r.headers["content-type"] == content_type
        assert r.headers["x-content-type-options"] == "nosniff"
        disposition = r.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert disposition.endswith("filename*=UTF-8''" + quote(name, safe=""))

    # The events and the audit log say who added what, and who looked at it.
    events = client.get(f"/api/v1/complaints/{n}/events").json()["items"]
    added = [e for e in events if e["type"] == "attachment_added"]
    assert [e["data"]["attachment_id"] for e in added] == [m["id"] for m in made]
    assert added[0]["type_name"] == "添加附件" and added[0]["actor"] == "t-supervisor"
    assert added[0]["data"] == {
        "attachment_id": made[0]["id"],
        "filename": "账单截图.png",
        "size": len(png()),
        "content_type": "image/png",
    }
    with read(rt.engine) as conn:
        log = conn.execute(
            select(t.audit_log)
            .where(t.audit_log.c.action.like("attachment.%"))
            .order_by(t.audit_log.c.id)
        ).all()
    assert [(e.action, e.actor, e.target_id) for e in log] == [
        *[("attachment.add", "t-supervisor", n)] * 3,
        *[("attachment.view", "t-supervisor", n)] * 3,
    ]
    assert log[0].detail["sha256"] == made[0]["sha256"]
    assert [e.detail["attachment_id"] for e in log[3:]] == [m["id"] for m in made]


def test_a_personal_number_in_a_file_name_is_masked(client, make_complaint):
    n = make_complaint()["number"]
    r = upload(client, n, "13912345678的账单.pdf", pdf())
    assert r.status_code == 201, r.text
    assert r.json()["filename"] == "139****5678的账单.pdf"
    assert "13912345678" not in client.get(f"/api/v1/complaints/{n}/events").text


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 60, 415, "attachment_type_refused"),
        ("截图.png", b"<!DOCTYPE html><html><script>alert(1)</script></html>", 415, None),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', 415, None),
        ("空文件.pdf", b"", 422, "attachment_empty"),
        (
            "太大.png",
            b"\x89PNG\r\n\x1a\n" + b"\x00" * attachments.MAX_FILE_BYTES,
            413,
            "attachment_too_large",
        ),
    ],
)
def test_refused_files_leave_nothing(client, rt, make_complaint, name, data, status, code):
    n = make_complaint()["number"]
    r = upload(client, n, name, data, "image/png")
    assert r.status_code == status, r.text[:300]
    problem = r.json()
    assert problem["code"] == (code or "attachment_type_refused")
    assert re.search(r"[\u4e00-\u9fff]", problem["detail"])
    if status == 415:
        assert "PDF" in problem["detail"] and "JPEG" in problem["detail"]
    assert stored(rt) == (0, 0, 0)
    assert client.get(f"/api/v1/complaints/{n}/attachments").json()["items"] == []


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(client, rt, make_complaint):
    n = make_complaint()["number"]
    r = upload(client, n, "巨大.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * (12 * 1024 * 1024))
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"
    assert stored(rt) == (0, 0, 0)


def test_twenty_files_at_most_and_fifty_mb_in_all(client, rt, make_complaint, monkeypatch):
    n = make_complaint()["number"]
    for i in range(attachments.MAX_FILES):
        assert upload(client, n, f"照片{i}.png", png()).status_code == 201
    r = upload(client, n, "第21个.png", png())
    assert r.status_code == 409 and r.json()["code"] == "attachment_limit"
    assert "20" in r.json()["detail"]
    assert stored(rt) == (20, 20, 20)
    assert len(client.get(f"/api/v1/complaints/{n}/attachments").json()["items"]) == 20

    other = make_complaint(customer={"phone": "13800009999"})["number"]
    monkeypatch.setattr(attachments, "MAX_TOTAL_BYTES", 2 * len(pdf()) + 10)
    assert upload(client, other, "a.pdf", pdf()).status_code == 201
    assert upload(client, other, "b.pdf", pdf()).status_code == 201
    r = upload(client, other, "c.pdf", pdf())
    assert r.status_code == 409 and r.json()["code"] == "attachment_limit"
    assert stored(rt) == (22, 22, 22)


def test_a_reseller_sees_no_attachment_outside_its_organisation(client, rt, as_role):
    ours, theirs = as_role("reseller", "代理商甲"), as_role("reseller", "代理商乙")
    r = client.post("/api/v1/complaints", json=complaint_body(), headers=ours)
    assert r.status_code == 201, r.text
    a = r.json()["number"]
    r = upload(client, a, "合同.pdf", pdf(), headers=ours)  # its own: allowed
    assert r.status_code == 201, r.text
    url = r.json()["url"]
    assert client.get(url, headers=ours).content == pdf()
    before = stored(rt)

    for number, path in ((a, url), (MISSING, url.replace(a, MISSING))):
        listed = client.get(f"/api/v1/complaints/{number}/attachments", headers=theirs)
        got = client.get(path, headers=theirs)
        added = upload(client, number, "x.pdf", pdf(), headers=theirs)
        for answer in (listed, got, added):
            # As for a number that does not exist: nothing tells it is there.
            assert (answer.status_code, answer.json()["code"]) == (404, "not_found"), answer.text
            assert "合同" not in answer.text
    assert stored(rt) == before
    # The supervisor (scope all) sees it; an id of another complaint is not found.
    other = client.post("/api/v1/complaints", json=complaint_body()).json()["number"]
    assert client.get(url).status_code == 200
    wrong = client.get(url.replace(a, other))
    assert wrong.status_code == 404 and wrong.json()["code"] == "attachment_not_found"


def test_an_auditor_may_look_but_not_upload(client, rt, as_role, make_complaint):
    n = make_complaint()["number"]
    url = upload(client, n, "截图.png", png()).json()["url"]
    before = stored(rt)
    auditor = as_role("auditor")
    r = upload(client, n, "截图2.png", png(), headers=auditor)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert stored(rt) == before
    assert client.get(f"/api/v1/complaints/{n}/attachments", headers=auditor).status_code == 200
    assert client.get(url, headers=auditor).content == png()
    # The agent answers at first contact: it may add evidence.
    assert upload(client, n, "截图3.png", png(), headers=as_role("agent")).status_code == 201


def test_a_customer_adds_evidence_to_their_own_open_complaint(client, rt, act):
    mine = client.post(
        "/api/v1/complaints", json=complaint_body(customer={"phone": "13700001111"})
    ).json()["number"]
    done = client.post(
        "/api/v1/complaints", json=complaint_body(customer={"phone": "13700001111"})
    ).json()["number"]
    act(done, "invalidate", reason="not_specific")
    other = client.post(
        "/api/v1/complaints", json=complaint_body(customer={"phone": "13700002222"})
    ).json()["number"]
    with TestClient(create_app(rt, watcher=False)) as web:
        web.post("/api/v1/portal/code", json={"phone": "13700001111"})
        r = web.post("/api/v1/portal/login", json={"phone": "13700001111", "code": last_code(rt)})
        assert r.status_code == 200, r.text
        csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
        assert upload(web, mine, "x.png", png()).json()["code"] == "csrf_failed"
        r = upload(web, mine, "停机短信.png", png(), headers=csrf)
        assert r.status_code == 201, r.text
        assert r.json()["source"] == "customer" and r.json()["uploaded_by"] == "客户"
        assert web.get(r.json()["url"]).content == png()
        closed = upload(web, done, "补充.png", png(), headers=csrf)
        assert closed.status_code == 409 and closed.json()["code"] == "complaint_closed"
        assert upload(web, other, "x.png", png(), headers=csrf).status_code == 404
        assert web.get(f"/api/v1/complaints/{other}/attachments").status_code == 404
    assert stored(rt) == (1, 1, 1)
    # Staff may still add to a closed complaint (e.g. evidence found later).
    assert upload(client, done, "回执.pdf", pdf()).status_code == 201
    items = client.get(f"/api/v1/complaints/{mine}/attachments").json()["items"]
    assert [(i["source"], i["uploaded_by"]) for i in items] == [("customer", "客户")]


def _closed(client, act, phone: str) -> str:
    n = client.post("/api/v1/complaints", json=complaint_body(customer={"phone": phone})).json()[
        "number"
    ]
    act(n, "accept")
    act(n, "reply", resolution="已核实并退费。")
    act(n, "callback", result="satisfied")
    act(n, "close")
    return n


def test_retention_empties_the_files_unless_held(client, rt, act, clock):
    plain = _closed(client, act, "13912340001")
    held = _closed(client, act, "13912340002")
    urls = {}
    for n in (plain, held):
        r = upload(client, n, "13912340001的账单.png", png())
        assert r.status_code == 201, r.text
        urls[n] = r.json()["url"]
    r = client.post(f"/api/v1/complaints/{held}/legal-hold", json={"reason": "诉讼中"})
    assert r.status_code == 200, r.text
    clock.advance(days=731)
    assert retention.run(rt, "test")["anonymised"] == 1

    with read(rt.engine) as conn:
        rows = {
            r.number: r
            for r in conn.execute(
                select(t.complaints.c.number, A.data, A.deleted_at, A.filename, A.size).join(
                    t.complaints, t.complaints.c.id == A.complaint_id
                )
            ).all()
        }
    assert bytes(rows[plain].data) == b"" and rows[plain].deleted_at is not None
    assert "13912340001" not in rows[plain].filename and rows[plain].size == len(png())
    assert bytes(rows[held].data) == png() and rows[held].deleted_at is None
    assert client.get(f"/api/v1/complaints/{plain}/attachments").json()["items"] == []
    gone = client.get(urls[plain])
    assert gone.status_code == 404 and gone.json()["code"] == "attachment_not_found"
    assert len(client.get(f"/api/v1/complaints/{held}/attachments").json()["items"]) == 1
    assert client.get(urls[held]).content == png()
    # An anonymised complaint takes no new files.
    r = upload(client, plain, "新.png", png())
    assert r.status_code == 409 and r.json()["code"] == "already_anonymised"


def test_the_migrated_table_matches_the_metadata(rt):
    insp = inspect(rt.engine)
    columns = {c["name"]: c for c in insp.get_columns("complaint_attachments")}
    assert set(columns) == {c.name for c in t.complaint_attachments.columns}
    for c in t.complaint_attachments.columns:
        assert columns[c.name]["nullable"] == c.nullable, c.name
    indexes = {i["name"]: i["column_names"] for i in insp.get_indexes("complaint_attachments")}
    assert indexes["ix_complaint_attachments_complaint"] == ["complaint_id"]
    fks = insp.get_foreign_keys("complaint_attachments")
    assert [(f["referred_table"], f["constrained_columns"]) for f in fks] == [
        ("complaints", ["complaint_id"])
    ]
    if rt.engine.dialect.name == "postgresql":
        assert str(columns["data"]["type"]) == "BYTEA"
