"""The recourse a customer is told about: how to appeal to the appeal centre when the
operator's answer does not satisfy them (national text and the province's own
paragraph, quoted from data/law/replies.yaml with their citations), and the
operator's hotline when one is configured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kesu.data_files import load_yaml

if TYPE_CHECKING:
    from kesu.runtime import Runtime


def appeal_info(rt: Runtime, province: str | None = None) -> dict[str, Any]:
    """How to appeal, quoted from data/law/replies.yaml (national text, and the province's
    own paragraph where its regulation sets one)."""
    common = load_yaml("law/replies.yaml")["common"]
    text = str(common["recourse"])
    heading, _, body = text.partition("\n")
    local = (common.get("recourse_by_province") or {}).get(province or "")
    return {
        "heading": heading if body else "",
        "text": body or text,
        "citations": list(common.get("recourse_citations") or []),
        "province": province if local else None,
        "province_text": local["text"] if local else None,
        "province_citations": list(local.get("citations") or []) if local else [],
        "hotline": _hotline(rt),
    }


def _hotline(rt: Runtime) -> str | None:
    """The operator's hotline when one is configured (not the 【placeholder】)."""
    value = (rt.settings.hotline or "").strip()
    return value if value and not value.startswith("【") else None
