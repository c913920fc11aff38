// After a turn, how the conversation goes on (docs/ui.md): the composer's chips already drop a column
// (untick it, or its remove button) and add one ("+ Column"); this adds "Continue with the chosen
// reply only", and for each column that joins mid-conversation (a key no shown turn has) a choice of
// the thread it starts from: the earlier turns with their chosen replies, or a fresh one. The choice
// goes out as the column's `history` ("chosen" or "empty") and the line says which it is.

import { el } from "./dom.js";

const HISTORY_TEXT = { chosen: "Start from the chosen replies", empty: "Start fresh" };

export class Continuing {
  /**
   * @param {HTMLElement} container  the composer's line above the message box
   * @param {{composer: Composer, thread: Thread}} options
   */
  constructor(container, { composer, thread }) {
    this.container = container;
    this.composer = composer;
    this.thread = thread;
    // A joining column's choice, by its key, kept while the user edits the picks.
    this.history = new Map();
    this.onlyButton = el("button", { type: "button", class: "button ghost small continue-chosen" },
      "Continue with the chosen reply only");
    this.onlyButton.addEventListener("click", () => this.keepChosen());
    this.joiningEl = el("div", { class: "joining" });
    container.append(this.onlyButton, this.joiningEl);
  }

  /** The column keys the shown turns have: a pick with another key joins mid-conversation. */
  knownKeys() {
    const keys = new Set();
    for (const turn of this.thread.turns.values()) {
      for (const reply of turn.replies()) keys.add(reply.message.column || reply.message.provider);
    }
    return keys;
  }

  /** The last turn's chosen reply (the star, or a "best" vote), or null. */
  chosenReply() {
    const last = this.thread.turns.get(this.thread.lastTurnId());
    return last ? last.replies().find((reply) => reply.message.chosen && !reply.message.blind_label) || null : null;
  }

  joining(columns) {
    if (!this.thread.turns.size) return [];
    const known = this.knownKeys();
    return columns.filter((column) => !known.has(column.key));
  }

  /** The send's columns, each joining one with the thread it starts from. */
  withHistory(columns) {
    const joining = new Set(this.joining(columns).map((column) => column.key));
    return columns.map((column) => joining.has(column.key)
      ? { ...column, history: this.history.get(column.key) || "chosen" } : column);
  }

  refresh() {
    const columns = this.composer.picks().columns;
    const last = this.thread.turns.get(this.thread.lastTurnId());
    const chosen = this.chosenReply();
    const key = chosen && (chosen.message.column || chosen.message.provider);
    // Offered once a reply of a turn of several columns is chosen, until the picks are that one column
    // (shown only then: the composer keeps its height otherwise).
    this.onlyButton.hidden = !chosen || last.columns.size < 2 || (columns.length === 1 && columns[0].key === key);
    this.onlyButton.title = chosen ? `Only ${key} answers the next message` : "";
    const joining = this.joining(columns);
    // Rebuilt only when the joining columns change, so a choice being made keeps its focus.
    const signature = JSON.stringify(joining.map((column) => [column.key, column.model]));
    if (signature !== this.signature) {
      this.signature = signature;
      this.joiningEl.replaceChildren(...joining.map((column) => this.joiningRow(column)));
    }
    this.container.hidden = this.onlyButton.hidden && !joining.length;
  }

  joiningRow(column) {
    const id = `history-${column.key.replace(/[^\w-]/g, "-")}`;
    const name = column.key === column.provider ? column.provider : `${column.provider} · ${column.model}`;
    const select = el("select", { id, class: "history-choice", "data-column": column.key },
      ...Object.entries(HISTORY_TEXT).map(([value, text]) => el("option", { value }, text)));
    select.value = this.history.get(column.key) || "chosen";
    const said = el("span", { class: "history-said" });
    const say = () => {
      said.textContent = select.value === "chosen"
        ? "it sees the earlier messages with their chosen replies" : "it sees none of the earlier messages";
    };
    select.addEventListener("change", () => { this.history.set(column.key, select.value); say(); });
    say();
    return el("p", { class: "joining-column", "data-column": column.key },
      el("label", { for: id }, `${name} joins mid-conversation:`), " ", select, " ", said);
  }

  keepChosen() {
    const chosen = this.chosenReply();
    if (!chosen) return;
    const m = chosen.message;
    this.composer.keepOnly({ key: m.column || m.provider, provider: m.provider, model: m.model });
    this.composer.focus();
  }
}
