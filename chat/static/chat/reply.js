// One provider's reply: its head (provider, model, pager, status, Stop), its body, its error and its
// footer, and the rules of its stream: deltas in `seq` order (a gap asks for a resync), a stored copy
// never overrides newer text, and ended is final.

import { el, formatMs, iconButton } from "./dom.js";
import { ReplyBody } from "./reply-body.js";
import { ReplyFoot } from "./reply-foot.js";
import { columnKey, replyName, showIdentity } from "./votes.js";

const ACTIVE = new Set(["pending", "streaming"]);
const STATUS_LABEL = { pending: "Waiting", streaming: "Streaming", error: "Failed", cancelled: "Stopped" };
const ERROR_LABEL = {
  auth: "The provider rejected the API key.",
  rate_limited: "The provider is rate limiting requests.",
  bad_request: "The provider refused the request.",
  model_not_found: "The provider does not know this model.",
  upstream_error: "The provider had an internal error.",
  timeout: "The provider took too long to answer.",
  connection_lost: "The connection to the provider was lost.",
  provider_unknown: "This provider is not configured.",
  orphaned: "The reply was interrupted by a server restart.",
  interrupted: "The server stopped while this reply was streaming; its text so far is kept.",
  deadline_exceeded: "The reply reached its time limit.",
  too_long: "The reply reached its length limit.",
  model_not_allowed: "This model is not allowed on this server.",
};

const EMPTY_TEXT = { complete: "The provider sent an empty reply.", cancelled: "Stopped before any text arrived." };

export class Reply {
  constructor(thread, message) {
    this.thread = thread;
    this.id = message.id;
    this.provider = replyName(message);
    this.columnKey = columnKey(message);  // the turn's column it belongs to
    this.seq = 0;
    this.text = "";
    this.build();
    this.update(message);
  }

  build() {
    const label = `${this.provider} reply`;
    this.statusEl = el("span", { class: "badge status-badge" });
    this.chosenEl = el("span", { class: "badge chosen-badge", hidden: true }, "Chosen");
    this.pagerEl = el("span", { class: "pager", hidden: true });
    this.stopButton = iconButton("i-stop", `Stop ${label}`, () => this.thread.actions.cancel(this.id), "stop");
    this.modelEl = el("span", { class: "model-name" });
    this.headEl = el("header", { class: "reply-head" },
      el("div", { class: "reply-title" }, el("span", { class: "provider-name" }, this.provider), this.modelEl),
      this.pagerEl, this.chosenEl, this.statusEl, this.stopButton);
    this.body = new ReplyBody((text) => this.thread.announce(text));
    this.errorEl = el("div", { class: "reply-error", role: "alert", hidden: true });
    this.foot = new ReplyFoot(label, {
      choose: () => this.thread.actions.choose(this.id),
      regenerate: () => this.thread.actions.regenerate(this.id),
      content: () => this.message.content || "",
      announce: (text) => this.thread.announce(text),
    });
    this.element = el("section", { class: "reply", "data-message-id": this.id, "data-provider": this.provider },
      this.headEl, this.body.element, this.errorEl, this.foot.element);
  }

  get active() { return ACTIVE.has(this.status); }

  /** Applies a full message object (REST or message.created/updated). */
  update(message) {
    // Ended is final: an active copy of an ended reply is an older read (a refetch racing an event).
    if (this.status && !this.active && ACTIVE.has(message.status)) return;
    this.message = { ...this.message, ...message };
    this.modelEl.textContent = message.model || "";
    this.modelEl.title = message.model || "";
    showIdentity(this, this.message);
    const chosen = Boolean(this.message.chosen);
    this.element.dataset.chosen = String(chosen);
    this.chosenEl.hidden = !chosen;
    this.foot.setChosen(chosen);
    this.setStatus(message.status);
    if (ACTIVE.has(message.status)) {
      // A stored checkpoint never overrides text the socket has already delivered.
      if ((message.seq || 0) >= this.seq) {
        this.setText(message.content || "", message.seq || 0, message.rendered_html, message.rendered_upto,
          message.open_block);
      }
    } else {
      this.finish(message);
    }
  }

  setStatus(status) {
    const changed = this.status !== status;
    this.status = status;
    this.element.dataset.status = status;
    this.renderStatusLabel();
    this.stopButton.hidden = !this.active;
    this.foot.setStatus(status, this.active);
    this.body.showTyping(this.active && !this.text);
    this.body.element.setAttribute("aria-busy", String(this.active));
    if (changed && this.turn) this.turn.refresh();
  }

  /** The text so far and its seq, as a snapshot or a fetch has it (with its finished blocks rendered). */
  setText(text, seq, renderedHtml, renderedUpto, openBlock) {
    this.text = text;
    this.body.setText(text, renderedHtml, renderedUpto, openBlock);
    this.seq = seq;
    if (text) this.endRetry();
    this.body.showTyping(this.active && !text);
  }

  /** A streamed delta; returns false when a gap means the socket must resync. */
  delta(seq, text) {
    if (!this.active || seq <= this.seq) return true;
    if (seq > this.seq + 1) return false;
    if (this.status === "pending") this.setStatus("streaming");
    this.body.append(text);
    this.text += text;
    this.seq = seq;
    this.body.showTyping(false);
    this.endRetry();
    return true;
  }

  /** `message.blocks`: taken only while the reply streams, and only for text it already holds. */
  blocks(seq, start, end, html, open) {
    if (!this.active || seq > this.seq) return;
    this.body.addBlocks(start, end, html, open);
  }

  /** Completed, failed or cancelled: the stored text and its server-rendered HTML. */
  finish(fields) {
    const status = fields.status;
    this.message = { ...this.message, ...fields };
    if (typeof fields.seq === "number") this.seq = fields.seq;
    const content = fields.content ?? this.text;
    this.message.content = content;
    this.text = content;
    this.body.end(content, fields.content_html, EMPTY_TEXT[status]);
    this.setStatus(status);
    this.body.element.hidden = status === "error" && !content;
    if (status === "error") {
      const code = fields.error_code || fields.code || "";
      const detail = fields.error_detail || fields.detail || "";
      this.errorEl.replaceChildren(
        el("strong", {}, ERROR_LABEL[code] || "The provider failed."),
        detail ? el("span", { class: "error-detail" }, ` ${detail}`) : "",
        code ? el("code", { class: "error-code" }, code) : "");
      this.errorEl.hidden = false;
    } else {
      this.errorEl.hidden = true;
    }
    this.foot.showFigures(this.message);
  }

  /** message.retrying: the provider failed before any text and is asked again; said until text or the end. */
  retrying({ retry, max_retries: max, code, retry_in_ms: wait }) {
    if (!this.active || this.text) return;
    this.retry = { label: `Retrying (${retry} of ${max})…`,
      reason: `${ERROR_LABEL[code] || "The provider failed."} Next try in ${formatMs(wait)}.` };
    this.renderStatusLabel();
    this.thread.announce(`${this.provider} reply: retrying, ${retry} of ${max}`);
  }

  endRetry() {
    if (!this.retry) return;
    this.retry = null;
    this.renderStatusLabel();
  }

  renderStatusLabel() {
    const retry = this.active ? this.retry : null;
    const label = retry ? retry.label : STATUS_LABEL[this.status] || "";
    this.statusEl.textContent = label;
    this.statusEl.hidden = !label;
    if (retry) this.statusEl.title = retry.reason;
    else this.statusEl.removeAttribute("title");
    this.element.toggleAttribute("data-retrying", Boolean(retry));
  }
}
