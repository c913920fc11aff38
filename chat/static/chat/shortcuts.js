// The chat page's keyboard shortcuts, listed in the "?" dialog (templates/chat/home.html). Single keys
// work outside text fields only, so typing never triggers one; the Ctrl/Cmd combinations, Shift+Esc
// and Esc work anywhere, as in the chat apps people know.

export class Shortcuts {
  /** @param page the ChatPage */
  constructor(page) {
    this.page = page;
    // Keys outside a text field, no modifier.
    this.keys = {
      n: () => this.newChat(),
      c: () => page.composer.focus(),
      "/": () => this.focusSearch(),
      s: () => this.stopAll(),
      e: () => this.editLast(),
      y: () => this.copyLast(),
      "[": () => this.stepBranch(-1),
      "]": () => this.stepBranch(1),
      "?": () => page.showHelp(),
    };
    // Ctrl (Cmd on a Mac) + these, anywhere.
    this.combos = {
      "shift+o": () => this.newChat(),
      "shift+c": () => this.copyLast(),
      "/": () => page.showHelp(),
    };
    document.addEventListener("keydown", (event) => this.handle(event));
  }

  handle(event) {
    const target = event.target;
    const typing = target.closest && target.closest("input, textarea, select, [contenteditable]");
    const dialogOpen = document.querySelector("dialog[open]");
    if (event.key === "Escape" && event.shiftKey && !dialogOpen) return this.run(event, () => this.page.composer.focus());
    if (event.key === "Escape" && target.id === "message") { target.blur(); return; }
    if (event.key === "ArrowUp" && target.id === "message" && !target.value && !event.shiftKey && !event.altKey
        && !event.ctrlKey && !event.metaKey) {
      return this.run(event, () => this.editLast());
    }
    if (dialogOpen || event.altKey) return;
    if (event.ctrlKey || event.metaKey) {
      const combo = `${event.shiftKey ? "shift+" : ""}${event.key.toLowerCase()}`;
      if (this.combos[combo]) this.run(event, this.combos[combo]);
      return;
    }
    if (!typing && this.keys[event.key]) this.run(event, this.keys[event.key]);
  }

  run(event, action) {
    event.preventDefault();
    action();
  }

  newChat() {
    this.page.closeSidebar();
    this.page.newChat({ push: true });
  }

  focusSearch() {
    const page = this.page;
    if (window.matchMedia("(max-width: 52rem)").matches && !page.root.classList.contains("sidebar-open")) {
      page.toggleSidebar();
    }
    document.getElementById("conversation-filter").focus();
  }

  stopAll() {
    const active = this.page.thread.activeReplies();
    for (const reply of active) this.page.cancel(reply.id);
    if (active.length) this.page.announce(`Stopping ${active.length} repl${active.length === 1 ? "y" : "ies"}`);
  }

  lastTurn() {
    const thread = this.page.thread;
    return thread.turns.get(thread.lastTurnId()) || null;
  }

  editLast() {
    const turn = this.lastTurn();
    if (!turn) { this.page.announce("No message to edit"); return; }
    turn.userEl.scrollIntoView({ block: "nearest" });
    turn.tools.open();
  }

  /** Copies the last turn's reply in view: its selected column's shown version. */
  copyLast() {
    const turn = this.lastTurn();
    const column = turn && turn.columns.get(turn.selected);
    const reply = column && column.replies[column.index];
    if (!reply || reply.active || !reply.message.content) { this.page.announce("No finished reply to copy"); return; }
    reply.foot.copy();
  }

  /** The branch pager of the turn holding the focus, else of the lowest turn that has one. */
  stepBranch(direction) {
    const focused = document.activeElement?.closest?.(".turn");
    const thread = this.page.thread;
    const turns = [...thread.container.querySelectorAll(".turn")]
      .map((node) => thread.turns.get(Number(node.dataset.messageId)))
      .filter((turn) => turn && !turn.tools.pagerEl.hidden);
    const turn = turns.find((t) => t.element === focused) || turns.at(-1);
    if (!turn || !turn.tools.step(direction)) this.page.announce(direction < 0 ? "No earlier branch" : "No later branch");
  }
}
