"""What every page's template can use: sizes and fractions as a person reads them, and the states."""

from __future__ import annotations

from app.domain import captions
from app.domain.states import CANCELLABLE_STATES, State
from app.pages.blueprint import blueprint


@blueprint.app_template_filter("size")
def human_size(size: int | None) -> str:
    if not size:
        return ""
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


@blueprint.app_template_filter("percent")
def percent(fraction: float | None) -> str:
    return f"{(fraction or 0) * 100:.0f}%"


@blueprint.app_context_processor
def states():
    return {
        "final_states": {state.value for state in State if state.is_final},
        "cancellable": {state.value for state in CANCELLABLE_STATES},
        "takes_captions": {state.value for state in captions.TAKES_CAPTIONS},
    }
