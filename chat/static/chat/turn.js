// One turn: the user's message and its replies, one column per column key, and "Stop all". On a
// narrow screen the columns become tabs (CSS shows the strip and only the selected column); each
// tab shows its status. The user's message goes in as the server's sanitised `content_html`, or as text.

import { addCodeCopyButtons } from "./codeblocks.js";
import { Column } from "./column.js";
import { el, icon } from "./dom.js";
import { fuseControl } from "./fuse.js";

const TAB_STATUS = { pending: "waiting", streaming: "streaming", complete: "done", error: "failed",
  cancelled: "stopped" };

export class Turn {
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
    this.fuse = fuseControl(this);
  }

  setUser(message) {
    const body = el("div", { class: "bubble md" });
    if (message.content_html) body.innerHTML = message.content_html;
    else body.append(el("p", { class: "plain" }, message.content || ""));
    addCodeCopyButtons(body, (text) => this.thread.announce(text));
    this.userEl.replaceChildren(body);
  }

  addReply(reply) {
    let column = this.columns.get(reply.columnKey);
    if (!column) {
      column = new Column(reply.provider, reply.columnKey);
      this.columns.set(reply.columnKey, column);
      this.repliesEl.append(column.element);
      this.repliesEl.dataset.cols = String(this.columns.size);
      this.addTab(column, reply);
    }
    column.add(reply);
    reply.column = column;
    reply.turn = this;
    if (!this.selected) this.select(reply.columnKey);
    this.refresh();
  }

  addTab(column, reply) {
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
    this.tabsEl.append(tab);
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
    this.fuse.refresh();
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
