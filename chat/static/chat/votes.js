// Votes and the blind arena on the chat page. Each turn has a vote bar: tick the finished replies,
// then "Best" (one ticked), "Tie" (two or more) or "All bad"; "Withdraw" removes the vote. The star
// of a reply (choose) is the same thing: a "best" vote. A blind turn's replies are "Model A, B, …",
// in the letter order, until the vote or "Reveal"; the server sends nothing that names them before.
// The arena form asks N random models blind, in a new blind conversation.

import { el } from "./dom.js";

const OUTCOME_TEXT = { best: "Best", tie: "Tie", all_bad: "All bad" };

/** What a reply is called on the page: "Model A" while blind, else its provider. */
export function replyName(message) {
  if (!message.blind_label) return message.provider;
  return message.hidden ? `Model ${message.blind_label}` : `${message.provider} (Model ${message.blind_label})`;
}

/** A reply in the vote bar: its name, and its model for a provider's further columns (as their tabs). */
function pickName(message) {
  const name = replyName(message);
  const further = !message.blind_label && message.column && message.column !== message.provider;
  return further ? `${name} · ${message.model}` : name;
}

/** The column a reply goes in: a blind turn's columns are its letters (sorted), others their column's key. */
export function columnKey(message) {
  return message.blind_label ? `Model ${message.blind_label}` : (message.column || message.provider);
}

/** Where a new column goes: blind columns in letter order, the rest at the end. */
export function columnBefore(turn, key) {
  if (!key.startsWith("Model ")) return null;
  for (const [name, column] of turn.columns) if (name.startsWith("Model ") && name > key) return column;
  return null;
}

/** The reply head's names: "Model A" while hidden; after the reveal the provider, with its letter kept. */
export function showIdentity(reply, message) {
  const hidden = Boolean(message.blind_label && message.hidden);
  reply.headEl.querySelector(".provider-name").textContent = replyName(message);
  reply.element.dataset.hidden = String(hidden);
  if (message.blind_label) reply.element.dataset.blindLabel = message.blind_label;
}

export class VoteBar {
  /** @param turn the Turn; `api` the page's Api, `announce` its live region */
  constructor(turn, { api, announce }) {
    this.turn = turn;
    this.api = api;
    this.announce = announce;
    this.vote = null;
    this.statusEl = el("span", { class: "vote-status" });
    this.picksEl = el("span", { class: "vote-picks" });
    this.bestButton = this.button("Best", "vote-best", () => this.cast("best"));
    this.tieButton = this.button("Tie", "vote-tie", () => this.cast("tie"));
    this.badButton = this.button("All bad", "vote-all-bad", () => this.cast("all_bad"));
    this.withdrawButton = this.button("Withdraw", "vote-withdraw", () => this.withdraw());
    this.revealButton = this.button("Reveal", "vote-reveal", () => this.reveal());
    this.element = el("div", { class: "vote-bar", role: "group", "aria-label": "Vote on this turn", hidden: true },
      el("span", { class: "vote-label" }, "Vote:"), this.picksEl, this.bestButton, this.tieButton, this.badButton,
      this.withdrawButton, this.revealButton, this.statusEl);
  }

  button(text, name, action) {
    const button = el("button", { type: "button", class: `button ghost small ${name}` }, text);
    button.addEventListener("click", action);
    return button;
  }

  /** The replies one votes on: the shown version of each column, finished. */
  candidates() {
    return [...this.turn.columns.values()].map((c) => c.replies[c.index]).filter((r) => r && r.status === "complete");
  }

  ticked() {
    return [...this.picksEl.querySelectorAll("input:checked")].map((input) => Number(input.value));
  }

  setVote(vote) {
    this.vote = vote;
    this.refresh();
  }

  refresh() {
    const replies = this.candidates();
    const before = new Set(this.ticked());
    const winners = new Set(this.vote ? this.vote.winners : []);
    this.picksEl.replaceChildren(...replies.map((reply) => {
      // Named apart from the composer's provider checkboxes (same provider names).
      const input = el("input", { type: "checkbox", value: String(reply.id),
        "aria-label": `Tick ${pickName(reply.message)} for the vote` });
      input.checked = before.has(reply.id) || (!before.size && winners.has(reply.id));
      input.addEventListener("change", () => this.refreshButtons());
      return el("label", { class: "vote-pick" }, input, ` ${pickName(reply.message)}`);
    }));
    const blindHidden = this.turn.replies().some((r) => r.message.blind_label && r.message.hidden);
    this.revealButton.hidden = !blindHidden;
    this.element.hidden = !replies.length;
    this.element.dataset.outcome = this.vote ? this.vote.outcome : "";
    this.statusEl.textContent = this.describe();
    this.refreshButtons();
  }

  refreshButtons() {
    const count = this.ticked().length;
    this.bestButton.disabled = count !== 1;
    this.tieButton.disabled = count < 2;
    this.withdrawButton.hidden = !this.vote;
  }

  describe() {
    if (!this.vote) return "not voted";
    const names = this.vote.winners.map((id) => {
      const reply = this.turn.replies().find((r) => r.id === id);
      return reply ? pickName(reply.message) : `reply ${id}`;
    });
    const apart = this.vote.revealed_before ? " (after the reveal)" : "";
    return `${OUTCOME_TEXT[this.vote.outcome]}${names.length ? `: ${names.join(", ")}` : ""}${apart}`;
  }

  async cast(outcome) {
    const winners = outcome === "all_bad" ? [] : this.ticked();
    try {
      this.setVote(await this.api.vote(this.turn.id, { outcome, winners }));
      this.announce(`Vote saved: ${this.describe()}`);
    } catch (error) {
      this.announce(`Could not save the vote: ${error.message}`);
    }
  }

  async withdraw() {
    try {
      await this.api.withdrawVote(this.turn.id);
      this.picksEl.querySelectorAll("input").forEach((input) => { input.checked = false; });
      this.setVote(null);
      this.announce("Vote withdrawn");
    } catch (error) {
      this.announce(`Could not withdraw the vote: ${error.message}`);
    }
  }

  async reveal() {
    try {
      const { replies } = await this.api.reveal(this.turn.id);
      for (const message of replies) this.turn.thread.upsert(message);
      this.refresh();
    } catch (error) {
      this.announce(`Could not reveal the models: ${error.message}`);
    }
  }
}

/** The arena form: N random models, blind, in a new conversation; `onStarted` gets the send's result. */
export function arenaForm({ api, announce, onStarted }) {
  const message = el("input", { type: "text", name: "arena-message", placeholder: "Ask random models, blind…",
    "aria-label": "Arena question", required: true });
  const count = el("select", { name: "arena-count", "aria-label": "How many models" },
    ...[2, 3, 4, 5, 6, 7, 8].map((n) => el("option", { value: String(n) }, `${n} models`)));
  const start = el("button", { type: "submit", class: "button small" }, "Pick random models");
  const form = el("form", { class: "arena-form", "aria-label": "Blind arena" }, message, count, start);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!message.value.trim()) return;
    start.disabled = true;
    try {
      const result = await api.arena({ message: message.value, count: Number(count.value) });
      message.value = "";
      onStarted(result);
    } catch (error) {
      announce(`Could not start the arena: ${error.message}`);
    } finally {
      start.disabled = false;
    }
  });
  return form;
}
