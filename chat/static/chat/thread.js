// The conversation thread: its turns (turn.js) and every reply by id (reply.js). It routes the
// fetched messages and the socket's events to them, keeps the view pinned to the bottom while it
// is there, and scrolls to a message on request. The page shows the newest turns first; earlier
// ones are added above (`prependMany`) when asked for.

import { Reply } from "./reply.js";
import { Turn } from "./turn.js";

export class Thread {
  /**
   * @param {HTMLElement} container  the scrolling thread element
   * @param {{cancel: Function, regenerate: Function, choose: Function, announce: Function}} actions
   */
  constructor(container, actions) {
    this.container = container;
    this.actions = actions;
    this.turns = new Map();
    this.replies = new Map();
    this.emptyState = container.querySelector("#empty-state");
    // Whether turns older than the first shown are left to load, and the replies the socket
    // reported to those turns: not shown, and no reason to refetch.
    this.earlierLeft = false;
    this.unshown = new Set();
    this.insertAt = null;
  }

  setEarlierLeft(left) { this.earlierLeft = left; }

  /** "own" or "chosen": in "chosen" mode each finished reply offers to be the turn's answer. */
  setContextMode(mode) {
    this.container.classList.toggle("mode-chosen", mode === "chosen");
  }

  clear() {
    this.turns.clear();
    this.replies.clear();
    this.unshown.clear();
    this.earlierLeft = false;
    this.container.querySelectorAll(".turn").forEach((node) => node.remove());
    this.emptyState.hidden = false;
  }

  announce(text) { this.actions.announce(text); }

  /** The id of the last turn shown (the path's leaf once the newest page is loaded), or null. */
  lastTurnId() {
    const turns = this.container.querySelectorAll(".turn");
    return turns.length ? Number(turns[turns.length - 1].dataset.messageId) : null;
  }

  /** Removes a turn and every turn below it: they are on the branch an edit leaves behind. */
  dropFrom(turnId) {
    const from = this.turns.get(turnId);
    if (!from) return;
    const nodes = [...this.container.querySelectorAll(".turn")];
    for (const node of nodes.slice(nodes.indexOf(from.element))) {
      const turn = this.turns.get(Number(node.dataset.messageId));
      for (const reply of turn.replies()) this.replies.delete(reply.id);
      this.turns.delete(turn.id);
      node.remove();
    }
    this.emptyState.hidden = this.turns.size > 0;
  }

  /** Adds or refreshes a message; returns false if it answers a turn this page has not seen. */
  upsert(message) {
    return this.keepingBottom(() => this.upsertOne(message));
  }

  upsertMany(messages) {
    let complete = true;
    this.keepingBottom(() => { for (const m of messages) complete = this.upsertOne(m) && complete; });
    return complete;
  }

  /** A page of earlier turns: they go above the first turn shown, and what is in view stays put. */
  prependMany(messages) {
    const box = this.container;
    const height = box.scrollHeight;
    this.insertAt = box.querySelector(".turn");
    try {
      for (const m of messages) this.upsertOne(m);
    } finally {
      this.insertAt = null;
    }
    box.scrollTop += box.scrollHeight - height;
  }

  /** A reply to a turn older than the first shown, while earlier turns are left to load. */
  isUnshown(message) {
    if (!this.earlierLeft || !this.turns.size || message.reply_to === null) return false;
    return message.reply_to < Math.min(...this.turns.keys());
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
    if (!turn) {
      if (!this.isUnshown(message)) return false;
      this.unshown.add(message.id);
      return true;
    }
    this.unshown.delete(message.id);
    const reply = new Reply(this, message);
    this.replies.set(reply.id, reply);
    turn.addReply(reply);
    return true;
  }

  addTurn(turn) {
    this.turns.set(turn.id, turn);
    this.emptyState.hidden = true;
    if (this.insertAt) this.container.insertBefore(turn.element, this.insertAt);
    else this.container.append(turn.element);
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
        reply.setText(message.content || "", message.seq || 0, message.rendered_html, message.rendered_upto,
          message.open_block);
      }
    });
    return complete;
  }

  /** Returns "ok", "gap" (resync needed) or "unknown" (refetch needed). */
  applyDelta(messageId, seq, text) {
    const reply = this.replies.get(messageId);
    if (!reply) return this.unshown.has(messageId) ? "ok" : "unknown";
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
    if (reply) this.keepingBottom(() => reply.blocks(event.seq, event.start, event.end, event.html, event.open));
  }

  applyFinish(messageId, fields) {
    const reply = this.replies.get(messageId);
    if (!reply) return this.unshown.has(messageId);
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

  /** Scrolls to a message (showing its version and its column) and marks it, and in it the words of
   * `query`; false if not here. */
  reveal(messageId, query = "") {
    const reply = this.replies.get(messageId);
    const turn = this.turns.get(messageId);
    let target = null;
    if (reply) {
      reply.column.show(reply.column.replies.indexOf(reply));
      this.turns.get(reply.message.reply_to)?.select(reply.columnKey);
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
    highlightWords(target, query);
    return true;
  }
}

/**
 * Marks each occurrence of the query's words in `root` with the CSS highlight "search-hit" (the
 * Custom Highlight API: ranges over the text as it is, no element added to the reply's HTML).
 */
function highlightWords(root, query) {
  if (!window.CSS || !CSS.highlights) return;
  CSS.highlights.delete("search-hit");
  const words = query.toLowerCase().split(/\s+/).filter((w) => w.length > 1);
  if (!words.length) return;
  const ranges = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.data.toLowerCase();
    for (const word of words) {
      for (let at = text.indexOf(word); at !== -1; at = text.indexOf(word, at + word.length)) {
        const range = new Range();
        range.setStart(node, at);
        range.setEnd(node, at + word.length);
        ranges.push(range);
      }
    }
  }
  if (ranges.length) CSS.highlights.set("search-hit", new Highlight(...ranges));
}
