// The chat page: wires the sidebar, the thread, the composer and the conversation's WebSocket.

import { Api } from "./api.js";
import { Branches } from "./branches.js";
import { Composer } from "./composer.js";
import { Continuing } from "./continue.js";
import { el } from "./dom.js";
import { Estimate } from "./estimate.js";
import { Sidebar } from "./sidebar.js";
import { Shortcuts } from "./shortcuts.js";
import { ConversationSocket, socketUrl } from "./socket.js";
import { ShareDialog } from "./share.js";
import { Thread } from "./thread.js";
import { arenaForm } from "./votes.js";

const CONTINUING_EVENTS = new Set(["message.created", "message.updated", "turn.voted", "message.completed"]);
const CONNECTION_TEXT = { connecting: "Connecting…", reconnecting: "Reconnecting…", offline: "Offline, retrying…",
  online: "" };

class ChatPage {
  constructor(root) {
    this.root = root;
    this.api = new Api(root.dataset.apiRoot);
    this.wsRoot = root.dataset.wsRoot;
    this.chatUrl = root.dataset.chatUrl;
    this.conversation = null;
    this.socket = null;
    this.resyncPending = false;
    this.connectedOnce = false;
    this.refetching = null;
    // The `before` that loads the turns older than those shown; null when none are left.
    this.earlierBefore = null;
    this.loadingEarlier = false;
    // Bumped by every navigation, so a slow load of a conversation left behind is dropped.
    this.navigation = 0;
    this.titleEl = document.getElementById("conversation-title");
    this.connectionEl = document.getElementById("connection-status");
    this.announcer = document.getElementById("announcer");
    this.menu = document.getElementById("conversation-menu");
    this.archivedBanner = document.getElementById("archived-banner");
    // Absent when share links are off for this user or the site.
    this.shareButton = document.getElementById("share-button");
    if (this.shareButton) {
      this.shareDialog = new ShareDialog(document.getElementById("share-dialog"), {
        api: this.api, conversation: () => this.conversation, announce: (text) => this.announce(text) });
      this.shareButton.addEventListener("click", () => { closeMenus(document); this.shareDialog.open(); });
    }
    document.getElementById("unarchive-button").addEventListener("click", () => this.unarchive());
    this.earlierButton = document.getElementById("load-earlier");
    this.earlierButton.addEventListener("click", () => this.loadEarlier());

    this.thread = new Thread(document.getElementById("thread"), {
      cancel: (id) => this.cancel(id),
      regenerate: (id) => this.regenerate(id),
      choose: (id) => this.choose(id),
      edit: (id, text) => this.branches.edit(id, text),
      branch: (id) => this.branches.switchTo(id),
      announce: (text) => this.announce(text),
      api: this.api,
    });
    // The arena starts a new (blind) conversation: it sits with "New chat", not over the thread.
    document.querySelector(".sidebar-head").append(el("details", { class: "arena" },
      el("summary", {}, "Blind arena"),
      arenaForm({
        api: this.api, announce: (text) => this.announce(text),
        onStarted: (result) => {
          this.sidebar.upsert(result.conversation);
          this.open(result.conversation.id, { push: true });
        },
      })));
    this.branches = new Branches(this);
    this.estimate = new Estimate(document.getElementById("composer-hint"), {
      api: this.api, payload: () => this.estimatePayload() });
    this.composer = new Composer(document.getElementById("composer"), {
      onSend: (text, picks) => this.send(text, picks),
      onContextMode: (mode) => this.setContextMode(mode),
      maxChars: Number(root.dataset.maxMessageChars) || 0,
      onChange: () => { this.estimate.schedule(); this.continuing?.refresh(); },
    });
    this.continuing = new Continuing(document.getElementById("continuing"), { composer: this.composer,
      thread: this.thread });
    this.sidebar = new Sidebar(document.getElementById("sidebar"), {
      api: this.api,
      chatUrl: this.chatUrl,
      onOpen: (id, { messageId, query, turn } = {}) => {
        this.closeSidebar();
        this.open(id, { push: true, messageId, query, turn });
      },
      onRemoved: (id) => { if (this.conversation && this.conversation.id === id) this.newChat({ push: true }); },
      onChanged: (conversation) => this.conversationUpdated(conversation),
    });

    document.getElementById("new-chat").addEventListener("click", (event) => {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      this.closeSidebar();
      this.newChat({ push: true });
    });
    this.sidebarToggle = document.getElementById("sidebar-toggle");
    this.sidebarToggle.addEventListener("click", () => this.toggleSidebar());
    document.getElementById("scrim").addEventListener("click", () => this.closeSidebar());
    root.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && root.classList.contains("sidebar-open")) {
        this.closeSidebar();
        this.sidebarToggle.focus();
      }
    });
    window.addEventListener("popstate", () => this.route());
    this.helpDialog = document.getElementById("help-dialog");
    document.getElementById("help-button").addEventListener("click", () => this.showHelp());
    this.shortcuts = new Shortcuts(this);
    closeMenusOnChoice(document);
  }

  async start() {
    const [providers, preferences] = await Promise.all([
      this.api.providers().catch(() => []),
      this.api.preferences().catch(() => null),
      this.sidebar.reload(),
    ]);
    this.composer.setProviders(providers);
    this.composer.setUserDefault(preferences);
    await this.route();
    this.root.dataset.ready = "true";
  }

  /** Opens what the address names: /c/<id>/ or a new chat. */
  route() {
    const match = window.location.pathname.match(/\/c\/(\d+)\/?$/);
    const found = window.location.hash.match(/^#m(\d+)$/);
    if (match) return this.open(Number(match[1]), { push: false, messageId: found ? Number(found[1]) : null });
    return this.newChat({ push: false });
  }

  newChat({ push }) {
    this.navigation += 1;
    this.closeSocket();
    this.conversation = null;
    this.thread.clear();
    this.setEarlier(null);
    this.setTitle(null);
    this.sidebar.setCurrent(null);
    this.composer.applyDefaults(null);
    this.thread.setContextMode(this.composer.picks().contextMode);
    this.continuing.refresh();
    if (push && window.location.pathname !== this.chatUrl) window.history.pushState({}, "", this.chatUrl);
    this.composer.focus();
  }

  /** Opens a conversation; a search hit (`messageId`) on another branch opens that branch (`turn`). */
  async open(id, { push, messageId = null, query = "", turn = null }) {
    const navigation = ++this.navigation;
    this.closeSocket();
    this.thread.clear();
    this.setEarlier(null);
    this.sidebar.setCurrent(id);
    if (push) window.history.pushState({}, "", this.sidebar.url(id) + (messageId ? `#m${messageId}` : ""));
    let data;
    try {
      data = await this.api.conversation(id);
    } catch (error) {
      if (navigation !== this.navigation) return;
      this.conversation = null;
      this.setTitle(null, error.status === 404 ? "Conversation not found" : "Could not load the conversation");
      return;
    }
    if (navigation !== this.navigation) return;
    const { messages = [], ...conversation } = data;
    this.conversation = conversation;
    this.setTitle(conversation);
    this.composer.applyDefaults(conversation);
    this.thread.setContextMode(conversation.context_mode);
    this.thread.upsertMany(messages);
    this.setEarlier(data.before);
    this.continuing.refresh();
    const shown = messageId && (await this.revealLoading(messageId, navigation, query)
      || (turn && navigation === this.navigation && await this.branches.switchTo(turn, { messageId, query })));
    if (!shown) this.thread.scrollToEnd();
    if (navigation === this.navigation) this.connect();
  }

  setEarlier(before) {
    this.earlierBefore = before ?? null;
    this.earlierButton.hidden = this.earlierBefore === null;
    this.thread.setEarlierLeft(this.earlierBefore !== null);
  }

  /** Adds the page of turns just older than those shown; false if there is none or it failed. */
  async loadEarlier() {
    const conversation = this.conversation;
    const before = this.earlierBefore;
    if (!conversation || before === null || this.loadingEarlier) return false;
    const navigation = this.navigation;
    this.loadingEarlier = true;
    this.earlierButton.disabled = true;
    try {
      const data = await this.api.conversation(conversation.id, before);
      if (navigation !== this.navigation) return false;
      this.thread.prependMany(data.messages || []);
      this.setEarlier(data.before);
      return true;
    } catch {
      if (navigation === this.navigation) this.announce("Could not load earlier messages");
      return false;
    } finally {
      this.loadingEarlier = false;
      this.earlierButton.disabled = false;
    }
  }

  /** Scrolls to a message, loading earlier pages until it is there; false if it is nowhere. */
  async revealLoading(messageId, navigation, query = "") {
    while (!this.thread.reveal(messageId, query)) {
      if (this.earlierBefore === null || !(await this.loadEarlier()) || navigation !== this.navigation) return false;
    }
    return true;
  }

  /** What belongs to the open conversation: its export links and the archived banner. */
  renderConversationChrome() {
    const c = this.conversation;
    this.menu.hidden = !c;
    if (this.shareButton) this.shareButton.hidden = !c;
    this.archivedBanner.hidden = !(c && c.archived);
    if (!c) return;
    this.menu.querySelector("#export-json").href = this.api.exportUrl(c.id, "json");
    this.menu.querySelector("#export-md").href = this.api.exportUrl(c.id, "md");
  }

  async unarchive() {
    if (!this.conversation) return;
    try {
      this.conversationUpdated(await this.api.updateConversation(this.conversation.id, { archived: false }));
      this.announce("Conversation unarchived");
    } catch (error) {
      this.announce(`Could not unarchive: ${error.message}`);
    }
  }

  setTitle(conversation, fallback = "New chat") {
    this.renderConversationChrome();
    const title = conversation ? conversation.title || "Untitled conversation" : fallback;
    this.titleEl.textContent = title;
    document.title = `${title} · webox`;
  }

  conversationUpdated(conversation) {
    this.sidebar.upsert(conversation, { moveToTop: false });
    if (this.conversation && this.conversation.id === conversation.id) {
      this.conversation = { ...this.conversation, ...conversation };
      this.setTitle(this.conversation);
      this.branches.followLeaf(conversation.active_leaf);
    }
  }

  // --- Sending and reply actions ---------------------------------------------------------------

  /** The body of a send (and of its estimate): the turn's columns, the shared settings. */
  sendPayload(text, picks) {
    const columns = this.continuing.withHistory(picks.columns);
    const payload = { message: text, columns, system_prompt: picks.systemPrompt, ...picks.params };
    if (this.conversation) payload.conversation_id = this.conversation.id;
    if (picks.attachments?.length) payload.attachments = picks.attachments;
    return payload;
  }

  /** The estimate's body: the send as it stands, or null while a column has no model yet. */
  estimatePayload() {
    const picks = this.composer.picks();
    if (!picks.columns.length || picks.columns.some((column) => !column.model)) return null;
    return this.sendPayload(this.composer.message.value, picks);
  }

  async send(text, picks) {
    const result = await this.api.send(this.sendPayload(text, picks));
    this.estimate.schedule(); // the thread grew and the box is emptied
    const conversation = result.conversation;
    const isNew = !this.conversation || this.conversation.id !== conversation.id;
    this.conversation = { ...this.conversation, ...conversation };
    this.setTitle(this.conversation);
    // The list's preview is the latest message: this one, until a reply has text (the server's on reload).
    this.sidebar.upsert({ ...conversation, preview: text.replace(/\s+/g, " ").trim().slice(0, 160) });
    this.sidebar.setCurrent(conversation.id);
    this.thread.upsertMany([result.user_message, ...result.replies]);
    this.thread.scrollToEnd();
    this.continuing.refresh();
    if (isNew) {
      window.history.pushState({}, "", this.sidebar.url(conversation.id));
      this.connect();
    }
    this.rememberPicks(picks);
  }

  /** Stores the picks on the conversation when they differ from what it has. */
  rememberPicks(picks) {
    const c = this.conversation;
    const params = { ...picks.params };
    if (Object.keys(picks.providerParams).length) params.provider_params = picks.providerParams;
    this.rememberUserDefault(picks, params);
    const wanted = { default_providers: picks.providers, default_models: picks.models, default_params: params,
      default_columns: picks.columns };
    const same = JSON.stringify([c.default_providers, c.default_models, c.default_params, c.default_columns])
      === JSON.stringify([wanted.default_providers, wanted.default_models, wanted.default_params,
        wanted.default_columns]);
    const fields = same ? {} : wanted;
    if ((c.system_prompt || "") !== picks.systemPrompt) fields.system_prompt = picks.systemPrompt;
    if ((c.context_mode || "own") !== picks.contextMode) fields.context_mode = picks.contextMode;
    if (!Object.keys(fields).length) return;
    const id = c.id;
    this.api.updateConversation(id, fields)
      .then((updated) => { if (this.conversation && this.conversation.id === id) this.conversation = updated; })
      .catch(() => {});
  }

  /** The latest picks become the user's default for a new chat, on the server. */
  rememberUserDefault(picks, params) {
    const preferences = { providers: picks.providers, models: picks.models, params, context_mode: picks.contextMode,
      columns: picks.columns };
    if (JSON.stringify(preferences) === JSON.stringify(this.composer.userDefault)) return;
    this.composer.setUserDefault(preferences);
    this.api.updatePreferences(preferences).catch(() => {});
  }

  /** The conversation's context mode changed in the settings; a new chat stores it on its first send. */
  setContextMode(mode) {
    this.thread.setContextMode(mode);
    if (!this.conversation) return;
    const id = this.conversation.id;
    this.api.updateConversation(id, { context_mode: mode })
      .then((updated) => { if (this.conversation && this.conversation.id === id) this.conversation = updated; })
      .catch((error) => this.announce(`Could not change the context mode: ${error.message}`));
  }

  async cancel(messageId) {
    // The socket's message.cancelled event finishes the reply; the response only confirms.
    try {
      await this.api.cancel(messageId);
    } catch (error) {
      if (error.status !== 409) this.announce(`Could not stop the reply: ${error.message}`);
    }
  }

  async choose(messageId) {
    try {
      this.thread.upsert(await this.api.choose(messageId));
      this.continuing.refresh();
    } catch (error) {
      this.announce(`Could not choose the reply: ${error.message}`);
    }
  }

  async regenerate(messageId) {
    try {
      const result = await this.api.regenerate(messageId);
      this.thread.upsert(result.reply);
    } catch (error) {
      this.announce(`Could not regenerate: ${error.message}`);
    }
  }

  announce(text) {
    // Clearing first makes screen readers repeat an identical message.
    this.announcer.textContent = "";
    window.setTimeout(() => { this.announcer.textContent = text; }, 30);
  }

  // --- The socket ------------------------------------------------------------------------------

  connect() {
    this.closeSocket();
    const id = this.conversation.id;
    this.connectedOnce = false;
    this.socket = new ConversationSocket(socketUrl(this.wsRoot, id), {
      onEvent: (event) => this.onEvent(event),
      onConnect: () => { this.resyncPending = true; },
      onState: (state) => this.setConnection(state),
      onFatal: (code) => {
        this.setConnection("online");
        if (code === 4401) window.location.assign(`/accounts/login/?next=${encodeURIComponent(location.pathname)}`);
        else this.setTitle(null, "Conversation not found");
      },
    });
    this.socket.open();
  }

  closeSocket() {
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
    if (CONTINUING_EVENTS.has(event.type)) this.continuing.refresh();
  }

  applyEvent(event) {
    const thread = this.thread;
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
        if (!this.branches.continuesPath(event.message)) break;  // a turn on another branch
        if (!thread.upsert(event.message)) this.refetch();
        if (this.conversation) this.sidebar.upsert({ ...this.conversation, updated_at: event.message.created_at });
        break;
      case "message.updated":
        if (!this.branches.continuesPath(event.message)) break;
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
        this.conversationUpdated(event.conversation);
        break;
      case "conversation.deleted":
        if (this.conversation) this.sidebar.remove(this.conversation.id);
        this.newChat({ push: true });
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
    if (this.refetching || !this.conversation) return;
    const id = this.conversation.id;
    this.refetching = window.setTimeout(async () => {
      try {
        const data = await this.api.conversation(id);
        if (!this.conversation || this.conversation.id !== id) return;
        // Another branch is shown now (an edit or a switch elsewhere): draw it, not a mix of both.
        if (this.branches.leftPath(data)) this.branches.show(data);
        else this.thread.upsertMany(data.messages || []);
      } catch {
        // The next reconnect or event tries again.
      } finally {
        this.refetching = null;
      }
    }, 50);
  }

  // --- Keyboard shortcuts (shortcuts.js; listed in the help dialog) ---------------------------

  showHelp() {
    closeMenus(document);
    const opener = document.activeElement;
    this.helpDialog.showModal();
    this.helpDialog.addEventListener("close", () => { if (opener && opener.isConnected) opener.focus(); },
      { once: true });
  }

  // --- Narrow screens: the sidebar slides over the thread -----------------------------------

  toggleSidebar() {
    const open = !this.root.classList.contains("sidebar-open");
    this.root.classList.toggle("sidebar-open", open);
    this.sidebarToggle.setAttribute("aria-expanded", String(open));
    if (open) document.getElementById("conversation-filter").focus();
  }

  closeSidebar() {
    this.root.classList.remove("sidebar-open");
    this.sidebarToggle.setAttribute("aria-expanded", "false");
  }
}

/** Closes every open menu (a <details class="menu">) under `root` but `except`. */
function closeMenus(root, except = null) {
  for (const menu of root.querySelectorAll("details.menu[open]")) if (menu !== except) menu.open = false;
}

/**
 * Menus close after a choice, on Escape, on a click elsewhere, and when a dialog opens: an open
 * menu never stays over what the choice led to.
 */
function closeMenusOnChoice(doc) {
  doc.addEventListener("click", (event) => {
    const item = event.target.closest(".menu-item");
    if (item && !item.matches("label")) closeMenus(doc);  // the import label closes once a file is chosen
  });
  doc.addEventListener("pointerdown", (event) => closeMenus(doc, event.target.closest("details.menu")));
  doc.addEventListener("keydown", (event) => { if (event.key === "Escape") closeMenus(doc); });
  for (const dialog of doc.querySelectorAll("dialog")) {
    new MutationObserver(() => { if (dialog.open) closeMenus(doc); }).observe(dialog, { attributes: true,
      attributeFilter: ["open"] });
  }
}

const root = document.getElementById("chat-app");
if (root) {
  const page = new ChatPage(root);
  page.start().catch((error) => {
    console.error(error);
    root.dataset.ready = "error";
  });
}
