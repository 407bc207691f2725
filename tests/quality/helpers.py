"""Closed complaints handled by named agents, as the quality tests need them."""

from __future__ import annotations

from tests.conftest import bearer, complaint_body

RESOLUTION = {"resolution": "经核查多扣30元流量费，已退还。"}
CLOSE = {"root_cause": "human_error"}


class Floor:
    """Agents (by name) who accept, answer and close complaints the supervisor registers."""

    def __init__(self, client, tokens) -> None:
        self.client = client
        self.tokens = tokens
        self.made = 0

    def headers(self, name: str, role: str = "agent") -> dict[str, str]:
        return bearer(self.tokens(role, username=name))

    def act(self, number: str, action: str, who: dict | None = None, **params) -> dict:
        r = self.client.post(
            f"/api/v1/complaints/{number}/transitions",
            json={"action": action, **params},
            headers=who or {},
        )
        assert r.status_code == 200, f"{action}: {r.text}"
        return r.json()

    def closed(self, agent: str, callback: str = "satisfied", before_close=(), **body) -> str:
        """A complaint accepted, answered, called back and closed by `agent` (its handler)."""
        # A customer of its own each, no province: five of one category from one province
        # within hours would raise the mass-incident flag (and an approval before a reply).
        self.made += 1
        who = {"phone": f"1380000{self.made:04d}", "name": "张三"}
        r = self.client.post("/api/v1/complaints", json=complaint_body(**{"customer": who, **body}))
        assert r.status_code == 201, r.text
        n = r.json()["number"]
        me = self.headers(agent)
        self.act(n, "accept", me)
        for action, params in before_close:
            self.act(n, action, None, **params)
        self.act(n, "reply", me, **RESOLUTION)
        self.act(n, "callback", me, result=callback)
        self.act(n, "close", me, **CLOSE)
        return n


def all_pass(**changes) -> dict:
    marks = {
        "time_limit_told": True,
        "identity_verified": True,
        "category_correct": True,
        "article_cited": True,
        "replied_in_time": True,
        "courtesy": 5,
    }
    return {**marks, **changes}
