// The conversation thread: one turn per user message, one column per provider, replies streaming in.
//
// Safety rule: streamed text only ever reaches the page through a Text node; the only HTML written
// (innerHTML, insertAdjacentHTML) is the server's sanitised Markdown: `content_html`, and while a
// reply streams its finished blocks (`rendered_html`, the `html` of `message.blocks`).

import { addCodeCopyButtons } from "./codeblocks.js";
import { copyText, el, formatMs, icon, iconButton } from "./dom.js";

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
};

const TAB_STATUS = { pending: "waiting", streaming: "streaming", complete: "done", error: "failed",
  cancelled: "stopped" };

const EMPTY_TEXT = { complete: "The provider sent an empty reply.", cancelled: "Stopped before any text arrived." };

/** Where, in UTF-16 units, the first `count` characters (code points, as the server counts) of `text` end. */
function unitsOf(text, count) {
  let index = 0;
  for (let n = 0; n < count && index < text.length; n += 1) {
    const pair = text.charCodeAt(index) >> 10 === 0x36 && text.charCodeAt(index + 1) >> 10 === 0x37;
    index += pair ? 2 : 1;
  }
  return index;
}

class Reply {
  constructor(thread, message) {
    this.thread = thread;
    this.id = message.id;
    this.provider = message.provider;
    this.seq = 0;
    this.text = "";
    // While streaming: the server-rendered finished blocks (HTML as sent) and how much of the text they cover.
    this.renderedHtml = "";
    this.renderedUpto = 0;
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
    this.textNode = document.createTextNode("");
    this.streamEl = el("div", { class: "stream-text" }, this.textNode);
    this.htmlEl = el("div", { class: "md", hidden: true });
    this.typingEl = el("span", { class: "typing", "aria-hidden": "true" }, el("i"), el("i"), el("i"));
    this.bodyEl = el("div", { class: "reply-body", "aria-live": "polite" }, this.htmlEl, this.streamEl, this.typingEl);
    this.errorEl = el("div", { class: "reply-error", role: "alert", hidden: true });
    this.statsEl = el("span", { class: "stats" });
    this.cutEl = el("span", { class: "badge cut-badge", hidden: true, title: "The reply reached its max tokens" },
      "Cut by max tokens");
    this.copyButton = iconButton("i-copy", `Copy ${label}`, () => this.copy(), "copy");
    this.regenButton = iconButton("i-refresh", `Regenerate ${label}`, () => this.thread.actions.regenerate(this.id),
      "regenerate");
    this.chooseButton = iconButton("i-star", `Choose ${label} for follow-ups`, () => this.thread.actions.choose(this.id),
      "choose");
    this.footEl = el("footer", { class: "reply-foot" }, this.cutEl, this.statsEl,
      el("div", { class: "reply-actions" }, this.chooseButton, this.copyButton, this.regenButton));
    this.element = el("section", { class: "reply", "data-message-id": this.id, "data-provider": this.provider },
      this.headEl, this.bodyEl, this.errorEl, this.footEl);
  }

  get active() { return ACTIVE.has(this.status); }

  /** Applies a full message object (REST or message.created/updated). */
  update(message) {
    // Ended is final: an active copy of an ended reply is an older read (a refetch racing an event).
    if (this.status && !this.active && ACTIVE.has(message.status)) return;
    this.message = { ...this.message, ...message };
    this.modelEl.textContent = message.model || "";
    this.modelEl.title = message.model || "";
    const chosen = Boolean(this.message.chosen);
    this.element.dataset.chosen = String(chosen);
    this.chosenEl.hidden = !chosen;
    this.chooseButton.setAttribute("aria-pressed", String(chosen));
    this.setStatus(message.status);
    if (ACTIVE.has(message.status)) {
      // A stored checkpoint never overrides text the socket has already delivered.
      if ((message.seq || 0) >= this.seq) {
        this.setText(message.content || "", message.seq || 0, message.rendered_html, message.rendered_upto);
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
    this.copyButton.hidden = this.active;
    this.regenButton.hidden = this.active;
    this.chooseButton.hidden = status !== "complete";
    this.typingEl.hidden = !(this.active && !this.text);
    this.bodyEl.setAttribute("aria-busy", String(this.active));
    this.footEl.hidden = this.active;
    if (changed && this.turn) this.turn.refresh();
  }

  /** The text so far, as a snapshot or a fetch has it: its finished blocks rendered, the rest as text. */
  setText(text, seq, renderedHtml = "", renderedUpto = 0) {
    this.text = text;
    this.setRendered(renderedHtml || "", renderedHtml ? renderedUpto : 0);
    this.textNode.data = text.slice(unitsOf(text, this.renderedUpto));
    this.seq = seq;
    if (text) this.endRetry();
    this.typingEl.hidden = !(this.active && !text);
  }

  setRendered(html, upto) {
    if (html !== this.renderedHtml) {
      this.htmlEl.innerHTML = html;
      addCodeCopyButtons(this.htmlEl, (text) => this.thread.announce(text));
    }
    this.renderedHtml = html;
    this.renderedUpto = upto;
    this.htmlEl.hidden = !html;
  }

  /** A streamed delta; returns false when a gap means the socket must resync. */
  delta(seq, text) {
    if (!this.active || seq <= this.seq) return true;
    if (seq > this.seq + 1) return false;
    if (this.status === "pending") this.setStatus("streaming");
    this.textNode.appendData(text);
    this.text += text;
    this.seq = seq;
    this.typingEl.hidden = true;
    this.endRetry();
    return true;
  }

  /**
   * Finished blocks of `text[start:end]`, rendered by the server. Blocks that do not start where the
   * shown ones end (the server says they always do) are left out: the rest of the reply would then
   * stay text until its final render.
   */
  blocks(seq, start, end, html) {
    if (!this.active || start !== this.renderedUpto || end <= start || seq > this.seq) return;
    // Appended, never re-rendered: the blocks above stay where they are.
    this.htmlEl.insertAdjacentHTML("beforeend", html);
    addCodeCopyButtons(this.htmlEl, (text) => this.thread.announce(text));
    this.htmlEl.hidden = false;
    this.renderedHtml += html;
    this.renderedUpto = end;
    const tail = this.textNode.data;
    this.textNode.data = tail.slice(unitsOf(tail, end - start));
  }

  /** Completed, failed or cancelled: the stored text and its server-rendered HTML. */
  finish(fields) {
    const status = fields.status;
    this.message = { ...this.message, ...fields };
    if (typeof fields.seq === "number") this.seq = fields.seq;
    const content = fields.content ?? this.text;
    this.message.content = content;
    this.text = content;
    if (fields.content_html) {
      const shown = this.renderedHtml;
      if (shown && fields.content_html.startsWith(shown)) {
        // The blocks rendered while streaming are the start of the final HTML: add the rest only,
        // so the column does not jump when the reply ends.
        this.htmlEl.insertAdjacentHTML("beforeend", fields.content_html.slice(shown.length));
      } else {
        this.htmlEl.innerHTML = fields.content_html;
      }
      addCodeCopyButtons(this.htmlEl, (text) => this.thread.announce(text));
      this.renderedHtml = fields.content_html;
      this.renderedUpto = 0;
      this.htmlEl.hidden = false;
      this.streamEl.hidden = true;
      this.textNode.data = "";
    } else {
      this.textNode.data = content || EMPTY_TEXT[status] || "";
      this.setRendered("", 0);
      this.streamEl.hidden = false;
    }
    this.streamEl.classList.toggle("placeholder", !content);
    this.setStatus(status);
    this.bodyEl.hidden = status === "error" && !content;
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
    this.renderStats();
  }

  renderStats() {
    const m = this.message;
    const parts = [];
    const tokens = m.usage && m.usage.completion_tokens;
    if (tokens != null) parts.push(`${tokens} tokens`);
    if (m.ttft_ms != null) parts.push(`${formatMs(m.ttft_ms)} to first token`);
    if (m.duration_ms != null) parts.push(`${formatMs(m.duration_ms)} total`);
    this.statsEl.textContent = parts.join(" · ");
    // finish_reason "length": the provider stopped at max tokens, the text is not the whole answer.
    this.cutEl.hidden = !(m.status === "complete" && m.finish_reason === "length");
    if (m.usage && m.usage.prompt_tokens != null) this.statsEl.title = `${m.usage.prompt_tokens} prompt tokens`;
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

  async copy() {
    await copyText(this.message.content || "");
    this.copyButton.classList.add("done");
    this.copyButton.querySelector("use").setAttribute("href", "#i-check");
    this.thread.announce(`${this.provider} reply copied`);
    setTimeout(() => {
      this.copyButton.classList.remove("done");
      this.copyButton.querySelector("use").setAttribute("href", "#i-copy");
    }, 1500);
  }
}

/** The replies of one provider in one turn: the newest shown, earlier ones a click away. */
class Column {
  constructor(provider) {
    this.provider = provider;
    this.replies = [];
    this.index = 0;
    this.element = el("div", { class: "column", "data-provider": provider });
  }

  add(reply) {
    this.replies.push(reply);
    this.element.append(reply.element);
    this.index = this.replies.length - 1;
    this.refresh();
  }

  show(index) {
    this.index = Math.max(0, Math.min(this.replies.length - 1, index));
    this.refresh();
    this.replies[this.index]?.turn?.refresh();
  }

  refresh() {
    const count = this.replies.length;
    this.replies.forEach((reply, i) => {
      reply.element.hidden = i !== this.index;
      reply.pagerEl.hidden = count < 2;
      if (count < 2) return;
      const prev = iconButton("i-chevron-left", `Earlier ${this.provider} reply`, () => this.show(i - 1), "pager-button");
      const next = iconButton("i-chevron-right", `Later ${this.provider} reply`, () => this.show(i + 1), "pager-button");
      prev.disabled = i === 0;
      next.disabled = i === count - 1;
      reply.pagerEl.replaceChildren(prev, el("span", {}, `${i + 1}/${count}`), next);
    });
  }
}

/**
 * One user message and its replies, one column per provider. On a narrow screen the columns
 * become tabs (CSS shows the strip and only the selected column); each tab shows its status.
 */
class Turn {
  constructor(thread, userMessage) {
    this.thread = thread;
    this.id = userMessage.id;
    this.columns = new Map();
    this.tabs = new Map();
    this.selected = null;
    this.userEl = el("div", { class: "user-message" });
    this.stopAll = el("button", { type: "button", class: "button ghost small stop-turn", hidden: true },
      icon("i-stop"), el("span", {}, "Stop all"));
    this.stopAll.addEventListener("click", () => this.cancelAll());
    this.tabsEl = el("div", { class: "column-tabs", role: "tablist", "aria-label": "Replies" });
    this.tabsEl.addEventListener("keydown", (event) => this.tabKey(event));
    this.repliesEl = el("div", { class: "replies" });
    this.element = el("article", { class: "turn", "data-message-id": this.id, "aria-label": "Turn" },
      el("div", { class: "turn-head" }, this.userEl, this.stopAll), this.tabsEl, this.repliesEl);
    this.setUser(userMessage);
  }

  setUser(message) {
    const body = el("div", { class: "bubble md" });
    if (message.content_html) body.innerHTML = message.content_html;
    else body.append(el("p", { class: "plain" }, message.content || ""));
    addCodeCopyButtons(body, (text) => this.thread.announce(text));
    this.userEl.replaceChildren(body);
  }

  addReply(reply) {
    let column = this.columns.get(reply.provider);
    if (!column) {
      column = new Column(reply.provider);
      this.columns.set(reply.provider, column);
      this.repliesEl.append(column.element);
      this.repliesEl.dataset.cols = String(this.columns.size);
      this.addTab(column);
    }
    column.add(reply);
    reply.column = column;
    reply.turn = this;
    if (!this.selected) this.select(reply.provider);
    this.refresh();
  }

  addTab(column) {
    const id = `tab-${this.id}-${this.columns.size}`;
    const status = el("span", { class: "tab-status" });
    const tab = el("button", { type: "button", role: "tab", class: "column-tab", id, "aria-selected": "false",
      "data-provider": column.provider, tabindex: "-1" }, el("span", { class: "tab-name" }, column.provider), status);
    tab.addEventListener("click", () => this.select(column.provider));
    column.element.setAttribute("aria-labelledby", id);
    this.tabs.set(column.provider, { tab, status });
    this.tabsEl.append(tab);
  }

  select(provider) {
    this.selected = provider;
    for (const [name, column] of this.columns) {
      const on = name === provider;
      column.element.classList.toggle("selected", on);
      const { tab } = this.tabs.get(name);
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
    }
  }

  tabKey(event) {
    const names = [...this.columns.keys()];
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    event.preventDefault();
    const next = names[(names.indexOf(this.selected) + step + names.length) % names.length];
    this.select(next);
    this.tabs.get(next).tab.focus();
  }

  replies() { return [...this.columns.values()].flatMap((c) => c.replies); }

  refresh() {
    this.stopAll.hidden = this.replies().filter((r) => r.active).length < 2;
    for (const [name, column] of this.columns) {
      const reply = column.replies[column.index];
      const { tab, status } = this.tabs.get(name);
      const state = reply ? reply.status : "pending";
      tab.dataset.status = state;
      status.textContent = TAB_STATUS[state] || "";
    }
  }

  cancelAll() {
    for (const reply of this.replies()) if (reply.active) this.thread.actions.cancel(reply.id);
  }
}

export class Thread {
  /**
   * @param {HTMLElement} container  the scrolling thread element
   * @param {{cancel: Function, regenerate: Function, announce: Function}} actions
   */
  constructor(container, actions) {
    this.container = container;
    this.actions = actions;
    this.turns = new Map();
    this.replies = new Map();
    this.emptyState = container.querySelector("#empty-state");
  }

  /** "own" or "chosen": in "chosen" mode each finished reply offers to be the turn's answer. */
  setContextMode(mode) {
    this.container.classList.toggle("mode-chosen", mode === "chosen");
  }

  clear() {
    this.turns.clear();
    this.replies.clear();
    this.container.querySelectorAll(".turn").forEach((node) => node.remove());
    this.emptyState.hidden = false;
  }

  announce(text) { this.actions.announce(text); }

  /** Adds or refreshes a message; returns false if it answers a turn this page has not seen. */
  upsert(message) {
    return this.keepingBottom(() => this.upsertOne(message));
  }

  upsertMany(messages) {
    let complete = true;
    this.keepingBottom(() => { for (const m of messages) complete = this.upsertOne(m) && complete; });
    return complete;
  }

  upsertOne(message) {
    if (message.role === "user") {
      const turn = this.turns.get(message.id);
      if (turn) turn.setUser(message);
      else this.addTurn(new Turn(this, message));
      return true;
    }
    if (message.role !== "assistant") return true;
    const known = this.replies.get(message.id);
    if (known) {
      known.update(message);
      this.turns.get(message.reply_to)?.refresh();
      return true;
    }
    const turn = this.turns.get(message.reply_to);
    if (!turn) return false;
    const reply = new Reply(this, message);
    this.replies.set(reply.id, reply);
    turn.addReply(reply);
    return true;
  }

  addTurn(turn) {
    this.turns.set(turn.id, turn);
    this.emptyState.hidden = true;
    this.container.append(turn.element);
  }

  activeReplies() { return [...this.replies.values()].filter((r) => r.active); }

  /** Snapshot entries are authoritative: replace the text and the seq. */
  applySnapshot(entries) {
    let complete = true;
    this.keepingBottom(() => {
      for (const message of entries) {
        const reply = this.replies.get(message.id);
        if (!reply) { complete = this.upsertOne(message) && complete; continue; }
        if (!reply.active) continue; // ended is final: a snapshot taken just before cannot revive it
        reply.setStatus(message.status || reply.status);
        reply.setText(message.content || "", message.seq || 0, message.rendered_html, message.rendered_upto);
      }
    });
    return complete;
  }

  /** Returns "ok", "gap" (resync needed) or "unknown" (refetch needed). */
  applyDelta(messageId, seq, text) {
    const reply = this.replies.get(messageId);
    if (!reply) return "unknown";
    let ok = true;
    this.keepingBottom(() => { ok = reply.delta(seq, text); });
    return ok ? "ok" : "gap";
  }

  /** A retry of a reply's provider; a reply this page does not know is simply not shown retrying. */
  applyRetry(messageId, event) {
    this.replies.get(messageId)?.retrying(event);
  }

  applyBlocks(event) {
    const reply = this.replies.get(event.message_id);
    if (reply) this.keepingBottom(() => reply.blocks(event.seq, event.start, event.end, event.html));
  }

  applyFinish(messageId, fields) {
    const reply = this.replies.get(messageId);
    if (!reply) return false;
    this.keepingBottom(() => reply.finish(fields));
    this.turns.get(reply.message.reply_to)?.refresh();
    const outcome = { complete: "finished", error: "failed", cancelled: "was stopped" }[fields.status];
    this.announce(`${reply.provider} reply ${outcome}`);
    return true;
  }

  /** Runs `change` and keeps the view pinned to the bottom if it was there before. */
  keepingBottom(change) {
    const box = this.container;
    const pinned = box.scrollHeight - box.scrollTop - box.clientHeight < 96;
    const result = change();
    if (pinned) box.scrollTop = box.scrollHeight;
    return result;
  }

  scrollToEnd() { this.container.scrollTop = this.container.scrollHeight; }

  /** Scrolls to a message (showing its version and its column) and marks it; false if not here. */
  reveal(messageId) {
    const reply = this.replies.get(messageId);
    const turn = this.turns.get(messageId);
    let target = null;
    if (reply) {
      reply.column.show(reply.column.replies.indexOf(reply));
      this.turns.get(reply.message.reply_to)?.select(reply.provider);
      target = reply.element;
    } else if (turn) {
      target = turn.userEl;
    }
    if (!target) return false;
    target.scrollIntoView({ block: "center" });
    target.classList.add("found");
    target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: true });
    window.setTimeout(() => target.classList.remove("found"), 4000);
    return true;
  }
}
