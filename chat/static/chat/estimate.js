// What the turn will cost before it is sent (POST /api/chat/estimate), shown under the composer
// and updated as the user types: asked at most once per pause in typing, an answer to an older
// question dropped. After the turn, each reply's foot shows its real cost beside its estimate.

import { el } from "./dom.js";

const PAUSE_MS = 350;

function money(amount, currency) {
  const value = Number(amount);
  const digits = value === 0 ? 2 : value < 0.01 ? 5 : value < 1 ? 4 : 2;
  return `${currency === "USD" || !currency ? "$" : `${currency} `}${value.toFixed(digits)}`;
}

function range(low, high, currency) {
  return low === high ? money(low, currency) : `${money(low, currency)}–${money(high, currency)}`;
}

/** "2,345 tokens": marked "≈" where the count only approximates the model's own tokenizer. */
function tokens(count, exact) { return `${exact ? "" : "≈"}${count.toLocaleString("en")} tokens in`; }

export class Estimate {
  /**
   * @param {HTMLElement} after  the element the estimate line goes after
   * @param {{api: object, payload: Function}} options  `payload()` is the send's body, or null for none
   */
  constructor(after, { api, payload }) {
    this.api = api;
    this.payload = payload;
    this.asked = 0;
    this.timer = null;
    this.summary = el("span", { class: "estimate-summary" });
    this.list = el("ul", { class: "estimate-columns" });
    this.element = el("details", { class: "estimate", id: "turn-estimate", hidden: true },
      el("summary", {}, this.summary), this.list);
    after.after(this.element);
  }

  /** Asks again once typing pauses. */
  schedule() {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.refresh(), PAUSE_MS);
  }

  async refresh() {
    const body = this.payload();
    const asked = ++this.asked;
    if (!body) { this.element.hidden = true; return; }
    let answer;
    try {
      answer = await this.api.estimate(body);
    } catch {
      answer = null; // an unfinished pick (a column without a model): nothing to show yet
    }
    if (asked !== this.asked) return; // a newer question is on its way
    if (!answer) { this.element.hidden = true; return; }
    this.render(answer);
  }

  render({ columns, turn }) {
    const parts = [tokens(turn.input_tokens, turn.exact)];
    if (turn.cost_low !== null && turn.price_unknown.length < columns.length) {
      parts.push(range(turn.cost_low, turn.cost_high, turn.currency));
    }
    if (turn.price_unknown.length) parts.push(`price unknown for ${turn.price_unknown.length} of ${columns.length}`);
    this.summary.textContent = `Estimate: ${parts.join(" · ")}`;
    this.summary.title = this.summary.textContent; // cut to fit the composer's bar: whole on hover
    this.list.replaceChildren(...columns.map((column) => el("li", { "data-column": column.key },
      el("span", { class: "provider-name" }, column.provider), " ", el("span", { class: "model-name" }, column.model),
      ` · ${tokens(column.input_tokens, column.exact)} · `,
      column.price_known ? range(column.cost_low, column.cost_high, column.currency) : "price unknown",
      column.max_output_assumed ? ` (reply up to ${column.max_output_tokens} tokens assumed)` : "")));
    this.element.hidden = false;
  }
}

/** What a reply's turn estimated for it, for its foot beside the real cost (shown with its figures); "" for none. */
export function estimateText(message) {
  const estimate = message.estimate;
  if (!estimate) return "";
  return estimate.price_known ? `estimated ${range(estimate.cost_low, estimate.cost_high, estimate.currency)}`
    : "estimate: price unknown";
}
