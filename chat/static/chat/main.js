// The chat page: wires the sidebar, the thread, the composer, sending (sending.js) and the
// conversation's WebSocket (live.js); routes between conversations and a new chat.

import { Api } from "./api.js";
import { Branches } from "./branches.js";
import { Composer } from "./composer.js";
import { Continuing } from "./continue.js";
import { el } from "./dom.js";
import { Estimate } from "./estimate.js";
import { LiveConversation } from "./live.js";
import { closeMenus, closeMenusOnChoice } from "./menus.js";
import { Sending } from "./sending.js";
import { Sidebar } from "./sidebar.js";
import { Shortcuts } from "./shortcuts.js";
import { ShareDialog } from "./share.js";
import { Thread } from "./thread.js";
import { arenaForm } from "./votes.js";

class ChatPage {
  constructor(root) {
    this.root = root;
    this.api = new Api(root.dataset.apiRoot);
    this.chatUrl = root.dataset.chatUrl;
    this.conversation = null;
    this.live = new LiveConversation(this, { wsRoot: root.dataset.wsRoot,
      connectionEl: document.getElementById("connection-status") });
    this.sending = new Sending(this);
    // The `before` that loads the turns older than those shown; null when none are left.
    this.earlierBefore = null;
    this.loadingEarlier = false;
    // Bumped by every navigation, so a slow load of a conversation left behind is dropped.
    this.navigation = 0;
    this.titleEl = document.getElementById("conversation-title");
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
      api: this.api, payload: () => this.sending.estimatePayload() });
    this.composer = new Composer(document.getElementById("composer"), {
      onSend: (text, picks) => this.sending.send(text, picks),
      onContextMode: (mode) => this.sending.setContextMode(mode),
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
    this.live.close();
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
    this.live.close();
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
    if (navigation === this.navigation) this.live.connect();
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

  // --- Reply actions (sending is sending.js) ----------------------------------------------------

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

const root = document.getElementById("chat-app");
if (root) {
  const page = new ChatPage(root);
  page.start().catch((error) => {
    console.error(error);
    root.dataset.ready = "error";
  });
}
