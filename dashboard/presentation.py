"""How dashboard figures read on the page (the JSON API and CSV keep the raw values)."""

from __future__ import annotations

from decimal import Decimal

DASH = "–"


def amount(value: str | Decimal, currency: str) -> str:
    value = Decimal(value)
    if value == 0:
        return f"0.00 {currency}"
    places = 2 if value >= 10 else 4 if value >= Decimal("0.01") else 6
    text = f"{value:.{places}f}"
    # Small amounts keep their significant digits, not trailing zeros (0.0068, not 0.006800).
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0").ljust(2, "0")
    return f"{whole}.{fraction} {currency}"


def costs(by_currency: dict[str, str]) -> str:
    """``0.0123 USD`` (several currencies joined with +); no price known at all is "unknown"."""
    if not by_currency:
        return "unknown"
    return " + ".join(amount(v, c) for c, v in by_currency.items())


def rate(value: float | None) -> str:
    return DASH if value is None else f"{value * 100:.1f} %"


def ms(value: float | None) -> str:
    return DASH if value is None else f"{value:,.0f} ms"


def per_second(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f}"


def change(value: float | None, *, points: bool = False) -> str:
    """Relative change in percent (or the difference in percentage points for a rate)."""
    if value is None:
        return DASH
    number = value * 100
    sign = "+" if number > 0 else "−" if number < 0 else "±"
    return f"{sign}{abs(number):.1f} {'pp' if points else '%'}"


def _known_costs(cost: dict[str, dict], key: str) -> str:
    """The currencies with an amount; a known zero stays zero ("0.00 USD"), never "unknown"."""
    amounts = {c: f[key] for c, f in cost.items()}
    spent = {c: v for c, v in amounts.items() if Decimal(v)}
    return costs(spent or amounts)


def summary_display(summary: dict) -> dict:
    totals = summary["totals"]
    cards = []
    for key, label in (("replies", "Replies"), ("prompt_tokens", "Tokens in"), ("completion_tokens", "Tokens out"),
                       ("errors", "Errors")):
        figure = totals[key]
        cards.append({"key": key, "label": label, "value": f"{figure['value']:,}", "change": change(figure["change"]),
                      "previous": f"{figure['previous']:,}"})
    cost = totals["cost"]
    cards.append({
        "key": "cost", "label": "Cost",
        "value": _known_costs(cost, "value") if cost else "unknown",
        "change": " / ".join(change(f["change"]) for f in cost.values()) or DASH,
        "previous": _known_costs(cost, "previous") if cost else DASH,
    })
    error_rate = totals["error_rate"]
    cards.append({"key": "error_rate", "label": "Error rate", "value": rate(error_rate["value"]),
                  "change": change(error_rate["change"], points=True), "previous": rate(error_rate["previous"])})
    return {**summary, "cards": cards, "unpriced": totals["unpriced"]["value"]}


def model_rows_display(models: list[dict]) -> list[dict]:
    return [{
        **row,
        "cost_display": costs(row["cost"]),
        "cost_per_reply_display": costs(row["cost_per_reply"]),
        "ttft_p50_display": ms(row["ttft_ms_p50"]), "ttft_p95_display": ms(row["ttft_ms_p95"]),
        "duration_p50_display": ms(row["duration_ms_p50"]), "duration_p95_display": ms(row["duration_ms_p95"]),
        "tps_display": per_second(row["tokens_per_second_p50"]),
        "error_rate_display": rate(row["error_rate"]), "cancel_rate_display": rate(row["cancel_rate"]),
    } for row in models]
