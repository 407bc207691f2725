"""Retention and legal hold: personal data goes after its period; a hold keeps everything."""

from sqlalchemy import select, text
from typer.testing import CliRunner

from kesu.cli import app
from kesu.complaints import retention
from kesu.store import tables as t
from kesu.store.db import read
from tests.conftest import complaint_body

runner = CliRunner()
PERSONAL = "我是王小明，手机13912345678，住幸福路12号3栋501室，宽带断网三天。"


def _closed(client, act, **overrides):
    body = complaint_body(
        description=PERSONAL,
        customer={
            "phone": "13912345678",
            "name": "王小明",
            "account": "KD0755123456",
            "province": "河南省",
            "city": "郑州市",
        },
        category="network",
        **overrides,
    )
    r = client.post("/api/v1/complaints", json=body)
    assert r.status_code == 201, r.text
    n = r.json()["number"]
    act(n, "accept")
    act(n, "reply", resolution="已修复。王小明表示认可。")
    act(n, "callback", result="satisfied")
    act(n, "close")
    return n


def _raw(rt, number):
    with read(rt.engine) as conn:
        return conn.execute(
            text(
                "SELECT customer_phone, customer_name, customer_account, customer_phone_hash, "
                "description, resolution, customer_province, category, anonymised_at "
                "FROM complaints WHERE number = :n"
            ),
            {"n": number},
        ).one()


def test_closed_complaints_are_anonymised_after_two_years_unless_held(
    client, act, rt, clock, as_role
):
    plain = _closed(client, act)
    held = _closed(client, act)
    r = client.post(f"/api/v1/complaints/{held}/legal-hold", json={"reason": "用户已起诉，诉讼中"})
    assert r.status_code == 200 and r.json()["legal_hold"] is True
    recent = None

    clock.advance(days=365)
    recent = _closed(client, act)  # closed a year later: not yet due
    clock.advance(days=366)

    preview = retention.run(rt, "test", dry_run=True)
    assert preview["due"] == 1 and preview["numbers"] == [plain]
    assert [h["number"] for h in preview["held"]] == [held]
    assert _raw(rt, plain).anonymised_at is None  # a dry run changes nothing

    done = retention.run(rt, "test")
    assert done["anonymised"] == 1
    row = _raw(rt, plain)
    assert row.anonymised_at is not None
    assert row.customer_phone == "" and row.customer_name is None and row.customer_account is None
    assert row.customer_phone_hash is None
    for personal in ("王小明", "13912345678", "幸福路12号"):
        assert personal not in (row.description or "") + (row.resolution or "")
    assert "宽带断网三天" in row.description  # the substance stays
    assert row.customer_province == "河南省" and row.category == "network"  # statistics stay
    # The held and the recent complaints keep everything.
    for number in (held, recent):
        assert _raw(rt, number).anonymised_at is None and "王小明" in _raw(rt, number).description
    # Anonymised: no longer found by the number, event written, audited.
    found = client.get("/api/v1/complaints", params={"customer_phone": "13912345678"}).json()
    assert plain not in [c["number"] for c in found["items"]]
    events = client.get(f"/api/v1/complaints/{plain}/events").json()["items"]
    assert events[-1]["type"] == "anonymised"
    audit = client.get(
        "/api/v1/audit", params={"action": "retention.run"}, headers=as_role("auditor")
    )
    assert audit.json()["items"][0]["detail"]["anonymised"] == 1
    # Releasing the hold lets the next run take it.
    r = client.delete(f"/api/v1/complaints/{held}/legal-hold")
    assert r.status_code == 200 and r.json()["legal_hold"] is False
    assert retention.run(rt, "test")["anonymised"] == 1
    r = client.post(f"/api/v1/complaints/{held}/legal-hold", json={"reason": "晚了"})
    assert r.status_code == 409 and r.json()["code"] == "already_anonymised"


def test_legal_hold_needs_the_permission_and_a_reason(client, act, as_role):
    n = _closed(client, act)
    r = client.post(
        f"/api/v1/complaints/{n}/legal-hold", json={"reason": "诉讼"}, headers=as_role("agent")
    )
    assert r.status_code == 403
    r = client.post(f"/api/v1/complaints/{n}/legal-hold", json={"reason": ""})
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/complaints/{n}/legal-hold", json={"reason": "仲裁中"}, headers=as_role("legal")
    )
    assert r.status_code == 200
    r = client.post(f"/api/v1/complaints/{n}/legal-hold", json={"reason": "仲裁中"})
    assert r.status_code == 409 and r.json()["code"] == "hold_unchanged"


def test_worker_runs_retention_once_a_day(client, act, rt, clock):
    _closed(client, act)
    clock.advance(days=800)
    first = retention.run_daily(rt)
    assert first is not None and first["anonymised"] == 1
    assert retention.run_daily(rt) is None  # same Beijing day
    clock.advance(days=1)
    assert retention.run_daily(rt) is not None


def test_cli_dry_run_reports_and_changes_nothing(client, act, rt, clock, database_url, monkeypatch):
    n = _closed(client, act)
    clock.advance(days=800)
    monkeypatch.setenv("KESU_DATABASE_URL", database_url)
    r = runner.invoke(app, ["retention", "run", "--dry-run"])
    # The CLI's own clock is the real one (2026): nothing is two years old for it.
    assert r.exit_code == 0 and "将匿名化" in r.output and "未做任何修改" in r.output
    with read(rt.engine) as conn:
        assert (
            conn.execute(
                select(t.complaints.c.anonymised_at).where(t.complaints.c.number == n)
            ).scalar()
            is None
        )


def test_the_mail_and_the_referral_it_came_from_are_anonymised_with_it(client, act, rt, clock):
    import json
    from datetime import date

    from sqlalchemy import insert, update

    from kesu.accounts import crypto
    from kesu.channels import mail_in
    from kesu.store.db import write

    number, other = _closed(client, act), _closed(client, act)
    kept = {}
    for n in (number, other):
        mail = (
            f"From: wxm@example.com\r\nTo: ts@example.cn\r\nSubject: 投诉\r\n"
            f"Message-ID: <{n}@example.com>\r\n\r\n{PERSONAL}"
        ).encode()
        mail_id, _ = mail_in.store(rt, mail, "smtp")
        original = {"phone": "13912345678", "name": "王小明", "issue": PERSONAL}
        with write(rt.engine) as conn:  # as the mail and the regulator's referral left them
            conn.execute(
                update(t.mail_inbox)
                .where(t.mail_inbox.c.id == mail_id)
                .values(status="held", complaint_number=n, note=f"王小明来信：{PERSONAL}")
            )
            conn.execute(
                insert(t.referrals).values(
                    ref=f"ZB-{n}",
                    complaint_number=n,
                    linked=False,
                    appeal_received_on=date(2026, 1, 5),
                    reply_due_on=date(2026, 1, 20),
                    issue=PERSONAL,
                    original=json.dumps(original, ensure_ascii=False),
                    handling="已联系王小明（13912345678）。",
                    created_by="test",
                    created_at=clock(),
                )
            )
        kept[n] = mail_id
    r = client.post(f"/api/v1/complaints/{other}/legal-hold", json={"reason": "诉讼中"})
    assert r.status_code == 200
    clock.advance(days=2 * 365 + 31)
    assert retention.run(rt, "test")["anonymised"] == 1

    def stored(n):
        with read(rt.engine) as conn:
            mail = conn.execute(
                select(t.mail_inbox.c.raw, t.mail_inbox.c.note).where(t.mail_inbox.c.id == kept[n])
            ).one()
            ref = conn.execute(
                text("SELECT original, issue, handling FROM referrals WHERE complaint_number = :n"),
                {"n": n},
            ).one()
        original = crypto.keyring().decrypt(ref.original)
        return mail, (original, ref.issue, ref.handling)

    mail, (original, issue, handling) = stored(number)
    assert mail.raw is None
    for personal in ("王小明", "13912345678", "幸福路12号"):
        assert personal not in mail.note + original + issue + handling
    assert "宽带断网三天" in issue  # the substance stays, as in the complaint
    assert list(json.loads(original)) == ["anonymised_at"]
    # The held complaint's mail and referral keep everything.
    mail, (original, issue, handling) = stored(other)
    assert PERSONAL in bytes(mail.raw).decode() and json.loads(original)["name"] == "王小明"
