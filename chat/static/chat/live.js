// The open conversation's WebSocket: connects, shows the connection's state, and applies its events
// to the page (the thread, the sidebar, the title), fetching the stored conversation when an event
// cannot be applied.

import { ConversationSocket, socketUrl } from "./socket.js";

const CONTINUING_EVENTS = new Set(["message.created", "message.updated", "turn.voted", "message.completed"]);
const CONNECTION_TEXT = { connecting: "Connecting…", reconnecting: "Reconnecting…", offline: "Offline, retrying…",
  online: "" };

export class LiveConversation {
  /**
   * @param {ChatPage} page  what the events change: its thread, branches, sidebar, title and conversation
   * @param {{wsRoot: string, connectionEl: HTMLElement}} options
   */
  constructor(page, { wsRoot, connectionEl }) {
    this.page = page;
    this.wsRoot = wsRoot;
    this.connectionEl = connectionEl;
    this.socket = null;
    this.resyncPending = false;
    this.connectedOnce = false;
    this.refetching = null;
  }

  connect() {
    this.close();
    const page = this.page;
    const id = page.conversation.id;
    this.connectedOnce = false;
    this.socket = new ConversationSocket(socketUrl(this.wsRoot, id), {
      onEvent: (event) => this.onEvent(event),
      onConnect: () => { this.resyncPending = true; },
      onState: (state) => this.setConnection(state),
      onFatal: (code) => {
        this.setConnection("online");
        if (code === 4401) window.location.assign(`/accounts/login/?next=${encodeURIComponent(location.pathname)}`);
        else page.setTitle(null, "Conversation not found");
      },
    });
    this.socket.open();
  }

  close() {
    if (this.socket) this.socket.close();
    this.socket = null;
    this.setConnection("online");
  }

  setConnection(state) {
    this.connectionEl.textContent = CONNECTION_TEXT[state] || "";
    this.connectionEl.dataset.state = state;
  }

  onEvent(event) {
    this.applyEvent(event);
    // What follows a turn depends on its columns and its chosen reply.
    if (CONTINUING_EVENTS.has(event.type)) this.page.continuing.refresh();
  }

  applyEvent(event) {
    const page = this.page;
    const thread = page.thread;
    switch (event.type) {
      case "snapshot": {
        const complete = thread.applySnapshot(event.replies || []);
        // A full snapshot (on connect and for a resync; "partial": false) lists every active reply;
        // one still active here that it leaves out has ended meanwhile, so fetch the stored state.
        // A partial one only repairs the replies it lists.
        const full = event.partial === undefined ? this.resyncPending : !event.partial;
        if (full) this.resyncPending = false;
        const listed = new Set((event.replies || []).map((r) => r.id));
        const ended = thread.activeReplies().some((r) => !listed.has(r.id));
        if (!complete || (full && (ended || this.connectedOnce))) this.refetch();
        this.connectedOnce = true;
        break;
      }
      case "message.created":
        if (!page.branches.continuesPath(event.message)) break;  // a turn on another branch
        if (!thread.upsert(event.message)) this.refetch();
        if (page.conversation) page.sidebar.upsert({ ...page.conversation, updated_at: event.message.created_at });
        break;
      case "message.updated":
        if (!page.branches.continuesPath(event.message)) break;
        if (!thread.upsert(event.message)) this.refetch();
        break;
      case "turn.voted":
        thread.turns.get(event.message_id)?.votes.setVote(event.vote);
        break;
      case "message.delta": {
        const outcome = thread.applyDelta(event.message_id, event.seq, event.text);
        if (outcome === "gap") this.resync();
        else if (outcome === "unknown") this.refetch();
        break;
      }
      case "message.retrying":
        thread.applyRetry(event.message_id, event);
        break;
      case "message.blocks":
        thread.applyBlocks(event);
        break;
      case "message.completed":
        if (!thread.applyFinish(event.message_id, { ...event, status: "complete" })) this.refetch();
        break;
      case "message.error":
        if (!thread.applyFinish(event.message_id, { ...event, status: "error" })) this.refetch();
        break;
      case "message.cancelled":
        if (!thread.applyFinish(event.message_id, { ...event, status: "cancelled" })) this.refetch();
        break;
      case "conversation.updated":
        page.conversationUpdated(event.conversation);
        break;
      case "conversation.deleted":
        if (page.conversation) page.sidebar.remove(page.conversation.id);
        page.newChat({ push: true });
        break;
      case "error":
        console.warn("webox socket:", event.code, event.detail);
        break;
      default:
        break;
    }
  }

  resync() {
    if (this.resyncPending) return;
    if (this.socket && this.socket.send({ type: "resync" })) this.resyncPending = true;
  }

  /** Brings finished and unseen messages up to date from the stored conversation. */
  refetch() {
    const page = this.page;
    if (this.refetching || !page.conversation) return;
    const id = page.conversation.id;
    this.refetching = window.setTimeout(async () => {
      try {
        const data = await page.api.conversation(id);
        if (!page.conversation || page.conversation.id !== id) return;
        // Another branch is shown now (an edit or a switch elsewhere): draw it, not a mix of both.
        if (page.branches.leftPath(data)) page.branches.show(data);
        else page.thread.upsertMany(data.messages || []);
      } catch {
        // The next reconnect or event tries again.
      } finally {
        this.refetching = null;
      }
    }, 50);
  }
}
