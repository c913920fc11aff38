// A reply's footer, shown once it has ended: its figures (tokens, cost, time to first token, total time),
// the estimate its turn was sent with (beside the real cost),
// the "Cut by max tokens" badge, and its actions: choose for follow-ups, copy, regenerate.

import { copyText, el, formatMs, iconButton } from "./dom.js";
import { estimateText } from "./estimate.js";

export class ReplyFoot {
  /**
   * @param {string} label  "openai reply": the buttons' names say which reply they act on
   * @param {{choose: Function, regenerate: Function, content: Function, announce: Function}} actions
   *   `content` gives the Markdown the copy button copies
   */
  constructor(label, { choose, regenerate, content, announce }) {
    this.label = label;
    this.content = content;
    this.announce = announce;
    this.statsEl = el("span", { class: "stats" });
    this.estimateEl = el("span", { class: "cost-estimate" });
    this.cutEl = el("span", { class: "badge cut-badge", hidden: true, title: "The reply reached its max tokens" },
      "Cut by max tokens");
    this.copyButton = iconButton("i-copy", `Copy ${label}`, () => this.copy(), "copy");
    this.regenButton = iconButton("i-refresh", `Regenerate ${label}`, regenerate, "regenerate");
    this.chooseButton = iconButton("i-star", `Choose ${label} for follow-ups`, choose, "choose");
    this.element = el("footer", { class: "reply-foot" }, this.cutEl, this.statsEl, this.estimateEl,
      el("div", { class: "reply-actions" }, this.chooseButton, this.copyButton, this.regenButton));
  }

  /** Shown once the reply has ended; only a complete reply can be chosen, only one with text copied. */
  setStatus(status, active) {
    this.copyButton.hidden = active || !this.content();
    this.regenButton.hidden = active;
    this.chooseButton.hidden = status !== "complete";
    this.element.hidden = active;
  }

  setChosen(chosen) { this.chooseButton.setAttribute("aria-pressed", String(chosen)); }

  /** The figures of an ended reply (`m` is its message as the server sent it). */
  showFigures(m) {
    const parts = [];
    const tokens = m.usage && m.usage.completion_tokens;
    if (tokens != null) parts.push(`${tokens} tokens`);
    if (m.usage) parts.push(costText(m.usage));
    if (m.ttft_ms != null) parts.push(`${formatMs(m.ttft_ms)} to first token`);
    if (m.duration_ms != null) parts.push(`${formatMs(m.duration_ms)} total`);
    this.statsEl.textContent = parts.join(" · ");
    this.estimateEl.textContent = estimateText(m);
    // finish_reason "length": the provider stopped at max tokens, the text is not the whole answer.
    this.cutEl.hidden = !(m.status === "complete" && m.finish_reason === "length");
    if (m.usage && m.usage.prompt_tokens != null) this.statsEl.title = `${m.usage.prompt_tokens} prompt tokens`;
  }

  async copy() {
    await copyText(this.content());
    this.copyButton.classList.add("done");
    this.copyButton.querySelector("use").setAttribute("href", "#i-check");
    this.announce(`${this.label} copied`);
    setTimeout(() => {
      this.copyButton.classList.remove("done");
      this.copyButton.querySelector("use").setAttribute("href", "#i-copy");
    }, 1500);
  }
}

/** "0.0042 USD", "≈0.0042 USD" when it counts estimated tokens, or "price unknown" (null: never shown as 0). */
export function costText(usage) {
  if (usage.cost == null) return "price unknown";
  const [whole, fraction = ""] = String(usage.cost).split(".");
  // Significant digits, not the stored eight places: 0.0000042, 0.12, 3.00.
  const digits = fraction.replace(/0+$/, "").padEnd(2, "0");
  const approx = usage.cost_estimated ? "≈" : "";
  return `${approx}${whole}.${digits} ${usage.cost_currency || ""}`.trim();
}
