// One turn: the user's message and its replies, one column per column key, and "Stop all". On a
// narrow screen the columns become tabs (CSS shows the strip and only the selected column); each
// tab shows its status. The user's message goes in as the server's sanitised `content_html`, or as text.

import { MessageTools } from "./branches.js";
import { markColumnVision, renderMessageAttachments } from "./attachments.js";
import { addCodeCopyButtons } from "./codeblocks.js";
import { Column } from "./column.js";
import { el, icon } from "./dom.js";
import { fuseControl } from "./fuse.js";
import { VoteBar, columnBefore } from "./votes.js";

const LONG_MESSAGE_CHARS = 2000;
const TAB_STATUS = { pending: "waiting", streaming: "streaming", complete: "done", error: "failed",
  cancelled: "stopped" };

export class Turn {
  constructor(thread, userMessage) {
    this.thread = thread;
    this.id = userMessage.id;
    this.columns = new Map();
    this.tabs = new Map();
    this.selected = null;
    this.userEl = el("div", { class: "user-message", "data-message-id": this.id });
    this.stopAll = el("button", { type: "button", class: "button ghost small stop-turn", hidden: true },
      icon("i-stop"), el("span", {}, "Stop all"));
    this.stopAll.addEventListener("click", () => this.cancelAll());
    this.tabsEl = el("div", { class: "column-tabs", role: "tablist", "aria-label": "Replies" });
    this.tabsEl.addEventListener("keydown", (event) => this.tabKey(event));
    this.repliesEl = el("div", { class: "replies" });
    this.votes = new VoteBar(this, thread.actions);
    this.tools = new MessageTools(this);
    this.element = el("article", { class: "turn", "data-message-id": this.id, "aria-label": "Turn" },
      el("div", { class: "turn-head" }, this.userEl, this.stopAll), this.tabsEl, this.repliesEl, this.votes.element);
    this.setUser(userMessage);
    this.fuse = fuseControl(this);
  }

  setUser(message) {
    const body = el("div", { class: "bubble md" });
    if (message.content_html) body.innerHTML = message.content_html;
    else body.append(el("p", { class: "plain" }, message.content || ""));
    addCodeCopyButtons(body, (text) => this.thread.announce(text));
    renderMessageAttachments(body, message);
    this.userMessage = message;
    // Only the bubble (and its fold button) is redrawn: the editor stays where it is, so an edit in
    // progress keeps its focus when the message is brought up to date (a refetch after a reconnect).
    this.foldToggle?.remove();
    this.foldToggle = null;
    if (this.bodyEl) this.bodyEl.replaceWith(body);
    else this.userEl.replaceChildren(body, this.tools.editor, this.tools.element);
    this.bodyEl = body;
    this.tools.render(message);
    if ("vote" in message) this.votes.setVote(message.vote);
    // A long message is shown folded (a few lines), with a button to unfold it.
    if ((message.content || "").length > LONG_MESSAGE_CHARS || (message.content || "").split("\n").length > 24) {
      body.classList.add("folded");
      const toggle = el("button", { type: "button", class: "button ghost small fold-toggle", "aria-expanded": "false" },
        "Show all");
      toggle.addEventListener("click", () => {
        const folded = body.classList.toggle("folded");
        toggle.textContent = folded ? "Show all" : "Show less";
        toggle.setAttribute("aria-expanded", String(!folded));
      });
      this.userEl.append(toggle);
      this.foldToggle = toggle;
    }
  }

  addReply(reply) {
    const key = reply.columnKey;
    let column = this.columns.get(key);
    if (!column) {
      // A blind column is named by its letter, revealed or not.
      column = new Column(reply.message.blind_label ? key : reply.provider, key);
      const before = columnBefore(this, key);
      this.columns.set(key, column);
      this.repliesEl.insertBefore(column.element, before ? before.element : null);
      this.repliesEl.dataset.cols = String(this.columns.size);
      this.addTab(column, reply, before);
    }
    column.add(reply);
    markColumnVision(column.element, this.userMessage, reply.message);
    reply.column = column;
    reply.turn = this;
    if (!this.selected) this.select(key);
    this.refresh();
  }

  addTab(column, reply, before = null) {
    const id = `tab-${this.id}-${this.columns.size}`;
    const status = el("span", { class: "tab-status" });
    // A provider's further columns are told apart by their model.
    const name = column.key === column.provider ? column.provider : `${column.provider} · ${reply.message.model}`;
    const tab = el("button", { type: "button", role: "tab", class: "column-tab", id, "aria-selected": "false",
      "data-provider": column.provider, "data-column": column.key, tabindex: "-1" },
    el("span", { class: "tab-name" }, name), status);
    tab.addEventListener("click", () => this.select(column.key));
    column.element.setAttribute("aria-labelledby", id);
    this.tabs.set(column.key, { tab, status });
    this.tabsEl.insertBefore(tab, before ? this.tabs.get(before.key).tab : null);
  }

  select(key) {
    this.selected = key;
    for (const [name, column] of this.columns) {
      const on = name === key;
      column.element.classList.toggle("selected", on);
      const { tab } = this.tabs.get(name);
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
    }
  }

  tabKey(event) {
    const names = [...this.tabsEl.children].map((tab) => tab.dataset.column);
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
    this.fuse.refresh();
    for (const [name, column] of this.columns) {
      const reply = column.replies[column.index];
      const { tab, status } = this.tabs.get(name);
      const state = reply ? reply.status : "pending";
      tab.dataset.status = state;
      status.textContent = TAB_STATUS[state] || "";
    }
    this.votes.refresh();
  }

  cancelAll() {
    for (const reply of this.replies()) if (reply.active) this.thread.actions.cancel(reply.id);
  }
}
