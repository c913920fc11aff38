// Edit and resend, and the branches it makes (docs/ui.md). A conversation is a tree of turns; the page
// shows one path through it, the conversation's `active_leaf`. Each user message has an Edit button
// (an inline editor: Save & send, Cancel, Esc cancels) and, once it has siblings, a pager "2 / 3" like
// a reply's. Sending an edit starts a sibling turn whose replies stream in like a send's; switching
// asks the server to make that branch the active path (so a reload shows it) and redraws the thread.

import { el, iconButton } from "./dom.js";

/** A user message's Edit button, branch pager and inline editor (one per turn). */
export class MessageTools {
  /** @param turn the Turn; its thread's actions give `edit(id, text)` and `branch(id)` */
  constructor(turn) {
    this.turn = turn;
    this.editing = false;
    this.pagerEl = el("span", { class: "pager branch-pager", hidden: true });
    this.editButton = iconButton("i-pencil", "Edit message", () => this.open(), "edit-message");
    this.editButton.dataset.action = "edit";
    this.element = el("div", { class: "message-tools" }, this.pagerEl, this.editButton);
    this.box = el("textarea", { class: "edit-box", rows: "3", "aria-label": "Edit message" });
    this.error = el("p", { class: "error edit-error", role: "alert", hidden: true });
    this.saveButton = el("button", { type: "submit", class: "button primary small" }, "Save & send");
    const cancel = el("button", { type: "button", class: "button ghost small" }, "Cancel");
    cancel.addEventListener("click", () => this.close());
    this.editor = el("form", { class: "message-editor", hidden: true, "aria-label": "Edit message" },
      this.box, this.error, el("div", { class: "editor-actions" }, cancel, this.saveButton));
    this.editor.addEventListener("submit", (event) => { event.preventDefault(); this.save(); });
    this.box.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        this.close();
      } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey) {
        // As in the composer: Enter sends, Shift+Enter adds a line.
        event.preventDefault();
        this.save();
      }
    });
  }

  /** The pager from the message's `branch` ({index, count, siblings}); hidden without siblings. */
  render(message) {
    const branch = message.branch;
    const count = branch ? branch.count : 1;
    this.pagerEl.hidden = count < 2;
    if (count < 2) { this.pagerEl.replaceChildren(); return; }
    const { index, siblings } = branch;
    const prev = iconButton("i-chevron-left", "Previous branch", () => this.turn.thread.actions.branch(siblings[index - 2]),
      "pager-button");
    const next = iconButton("i-chevron-right", "Next branch", () => this.turn.thread.actions.branch(siblings[index]),
      "pager-button");
    prev.dataset.action = "branch-prev";
    next.dataset.action = "branch-next";
    prev.disabled = index <= 1;
    next.disabled = index >= count;
    this.pagerEl.replaceChildren(prev, el("span", { class: "branch-position" }, `${index} / ${count}`), next);
  }

  /** Moves to the previous (-1) or next (+1) branch; false when there is none that way. */
  step(direction) {
    const button = this.pagerEl.querySelector(`[data-action="branch-${direction < 0 ? "prev" : "next"}"]`);
    if (this.pagerEl.hidden || !button || button.disabled) return false;
    button.click();
    return true;
  }

  open() {
    if (this.editing) { this.box.focus(); return; }
    this.editing = true;
    this.box.value = this.turn.userMessage.content || "";
    this.error.hidden = true;
    this.turn.userEl.classList.add("editing");
    this.editor.hidden = false;
    this.box.focus();
    this.box.setSelectionRange(this.box.value.length, this.box.value.length);
  }

  close() {
    this.editing = false;
    this.editor.hidden = true;
    this.turn.userEl.classList.remove("editing");
    this.editButton.focus();
  }

  async save() {
    const text = this.box.value;
    if (!text.trim()) { this.showError("Write a message first."); return; }
    this.saveButton.disabled = true;
    try {
      // On success the thread drops this turn (it is on the branch left behind) with its editor.
      await this.turn.thread.actions.edit(this.turn.id, text);
    } catch (error) {
      this.showError(error.message || "Sending the edit failed.");
    } finally {
      this.saveButton.disabled = false;
    }
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = false;
  }
}

/** The page's side of branches: sending an edit, switching, and following other tabs' switches. */
export class Branches {
  /** @param page the ChatPage (its api, thread, conversation, sidebar, composer) */
  constructor(page) {
    this.page = page;
  }

  /** Sends an edit of a user message; the new turn and its pending replies replace the old branch. */
  async edit(messageId, text) {
    const page = this.page;
    // The server's default columns: the edited turn's own, each on its own thread up to that point.
    const result = await page.api.edit(messageId, { message: text });
    page.conversation = { ...page.conversation, ...result.conversation, active_leaf: result.user_message.id };
    page.sidebar.upsert({ ...result.conversation, preview: text.replace(/\s+/g, " ").trim().slice(0, 160) });
    page.thread.dropFrom(messageId);
    page.thread.upsertMany([result.user_message, ...result.replies]);
    page.thread.scrollToEnd();
    page.continuing.refresh();
    page.announce("Edit sent: a new branch");
  }

  /** Makes the branch through `turnId` the active path and shows it, the switched turn in view. */
  async switchTo(turnId, { messageId = turnId, query = "" } = {}) {
    const page = this.page;
    const conversation = page.conversation;
    if (!conversation) return false;
    const navigation = page.navigation;
    let data;
    try {
      data = await page.api.branch(conversation.id, turnId);
    } catch (error) {
      page.announce(`Could not switch the branch: ${error.message}`);
      return false;
    }
    if (navigation !== page.navigation) return false;
    this.show(data);
    const shown = await page.revealLoading(messageId, navigation, query);
    page.continuing.refresh();
    return shown;
  }

  /** Redraws the thread from a conversation detail (its active path). */
  show(data) {
    const page = this.page;
    const { messages = [], ...conversation } = data;
    page.conversation = { ...page.conversation, ...conversation };
    page.thread.clear();
    page.thread.upsertMany(messages);
    page.setEarlier(data.before);
  }

  /** Another tab switched or edited: the active leaf is not the last turn shown, so load the path. */
  async followLeaf(activeLeaf) {
    const page = this.page;
    // null: a conversation the server has no stored leaf for (it shows the newest line).
    if (activeLeaf == null || !page.conversation || activeLeaf === page.thread.lastTurnId()) return;
    const id = page.conversation.id;
    const navigation = page.navigation;
    try {
      const data = await page.api.conversation(id);
      // A send's own message.created may have shown the leaf meanwhile: then nothing to redraw.
      if (navigation === page.navigation && data.active_leaf === activeLeaf && this.leftPath(data)) this.show(data);
    } catch {
      // The next reconnect's refetch shows the stored state.
    }
  }

  /** Whether a fetched conversation's path ends elsewhere than the thread shown. */
  leftPath(data) {
    return data.active_leaf != null && data.active_leaf !== this.page.thread.lastTurnId();
  }

  /** A user message from the socket the thread has not seen: shown only if it continues the path. */
  continuesPath(message) {
    if (message.role !== "user" || this.page.thread.turns.has(message.id) || !("parent" in message)) return true;
    const last = this.page.thread.lastTurnId();
    return message.parent === last || (last === null && message.parent === null);
  }
}
