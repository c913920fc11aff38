// The conversation list: newest activity first, filter by title, rename, archive, delete; and the
// search box's second half, matches inside messages (GET /api/chat/search).

import { debounce, el, iconButton } from "./dom.js";

export class Sidebar {
  /**
   * @param {HTMLElement} root  the <aside>
   * @param {{api: Api, chatUrl: string, onOpen: Function, onRemoved: Function, onChanged: Function}} options
   */
  constructor(root, { api, chatUrl, onOpen, onRemoved, onChanged }) {
    this.root = root;
    this.api = api;
    this.chatUrl = chatUrl;
    this.onOpen = onOpen;
    this.onRemoved = onRemoved;
    this.onChanged = onChanged;
    this.list = root.querySelector("#conversation-list");
    this.empty = root.querySelector("#conversation-empty");
    this.error = root.querySelector("#sidebar-error");
    this.loadMore = root.querySelector("#load-more");
    this.filter = root.querySelector("#conversation-filter");
    this.activeTab = root.querySelector("#show-active");
    this.archivedTab = root.querySelector("#show-archived");
    this.renameDialog = document.getElementById("rename-dialog");
    this.deleteDialog = document.getElementById("delete-dialog");
    this.archived = false;
    this.page = 1;
    this.currentId = null;
    this.items = new Map();
    this.generation = 0;

    this.searchSection = root.querySelector("#search-section");
    this.searchResults = root.querySelector("#search-results");
    this.searchEmpty = root.querySelector("#search-empty");
    this.searchCount = root.querySelector("#search-count");
    this.searchMore = root.querySelector("#search-more");
    this.searchPage = 1;
    this.searchGeneration = 0;

    this.importInput = root.querySelector("#import-file");
    this.importStatus = root.querySelector("#import-status");
    this.importInput.addEventListener("change", () => this.importChosen());

    this.filter.addEventListener("input", debounce(() => { this.reload(); this.search(1); }, 200));
    this.searchMore.addEventListener("click", () => this.search(this.searchPage + 1));
    this.loadMore.addEventListener("click", () => this.fetchPage(this.page + 1));
    this.activeTab.addEventListener("click", () => this.showArchived(false));
    this.archivedTab.addEventListener("click", () => this.showArchived(true));
    for (const dialog of [this.renameDialog, this.deleteDialog]) {
      for (const button of dialog.querySelectorAll("[data-close]")) {
        button.addEventListener("click", () => dialog.close("cancel"));
      }
    }
  }

  url(id) { return `${this.chatUrl}c/${id}/`; }

  showArchived(archived) {
    this.archived = archived;
    this.activeTab.setAttribute("aria-pressed", String(!archived));
    this.archivedTab.setAttribute("aria-pressed", String(archived));
    this.reload();
  }

  async reload() {
    this.items.clear();
    this.list.replaceChildren();
    await this.fetchPage(1);
  }

  async fetchPage(page) {
    const generation = ++this.generation;
    let data;
    try {
      data = await this.api.conversations({ q: this.filter.value.trim(), archived: this.archived, page });
    } catch {
      this.empty.textContent = "Could not load conversations.";
      this.empty.hidden = false;
      return;
    }
    if (generation !== this.generation) return; // a newer filter won
    if (page === 1) { this.items.clear(); this.list.replaceChildren(); }
    this.page = page;
    for (const conversation of data.results) this.upsert(conversation, { append: true });
    this.loadMore.hidden = !data.next;
    this.renderEmpty();
  }

  renderEmpty() {
    this.empty.hidden = this.items.size > 0;
    if (this.filter.value.trim()) this.empty.textContent = "No conversation matches.";
    else this.empty.textContent = this.archived ? "No archived conversations." : "No conversations yet.";
  }

  matches(conversation) {
    const q = this.filter.value.trim().toLowerCase();
    return Boolean(conversation.archived) === this.archived
      && (!q || (conversation.title || "").toLowerCase().includes(q));
  }

  async importChosen() {
    const [file] = this.importInput.files;
    if (!file) return;
    this.importInput.closest("details").open = false;
    this.importStatus.classList.remove("error");
    this.importStatus.textContent = `Importing ${file.name}…`;
    this.importStatus.hidden = false;
    try {
      const result = await this.api.importFile(file);
      const count = result.conversations.length;
      this.importStatus.textContent = `Imported ${count} conversation${count === 1 ? "" : "s"}.`;
      await this.reload();
    } catch (error) {
      this.importStatus.classList.add("error");
      this.importStatus.textContent = `Nothing imported: ${error.message}`;
    } finally {
      this.importInput.value = "";
    }
  }

  /** Matches inside messages for the search box's text; clears them for an empty box. */
  async search(page) {
    const generation = ++this.searchGeneration;
    const q = this.filter.value.trim();
    if (!q) {
      this.searchSection.hidden = true;
      this.searchResults.replaceChildren();
      return;
    }
    let data;
    try {
      data = await this.api.search(q, page);
    } catch (error) {
      if (generation !== this.searchGeneration) return;
      this.searchEmpty.textContent = error.message || "Search failed.";
      this.searchEmpty.hidden = false;
      this.searchSection.hidden = false;
      return;
    }
    if (generation !== this.searchGeneration) return;
    if (page === 1) this.searchResults.replaceChildren();
    this.searchPage = page;
    for (const result of data.results) this.searchResults.append(this.buildResult(result));
    this.searchCount.textContent = `(${data.count})`;
    this.searchEmpty.textContent = "No message matches.";
    this.searchEmpty.hidden = data.count > 0;
    this.searchMore.hidden = !data.next;
    this.searchSection.hidden = false;
  }

  buildResult(result) {
    const who = result.role === "assistant" ? result.provider : "You";
    const link = el("a", { class: "conv-link search-hit", href: `${this.url(result.conversation_id)}#m${result.message_id}`,
      "data-message-id": result.message_id },
      el("span", { class: "conv-title" }, result.conversation_title || "Untitled conversation"),
      el("span", { class: "hit-snippet" }, el("span", { class: "hit-who" }, `${who}: `), ...snippetNodes(result.snippet)));
    link.addEventListener("click", (event) => {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      // `turn`: the hit's turn (a message of yours is its own), opened as the branch shown when it is
      // on another one.
      const turn = result.turn ?? (result.role === "user" ? result.message_id : null);
      this.onOpen(result.conversation_id, { messageId: result.message_id, query: this.filter.value.trim(), turn });
    });
    return el("li", { class: "conv-item" }, link);
  }

  /** Adds or refreshes a conversation; new activity moves it to the top unless `append`. */
  upsert(conversation, { append = false, moveToTop = !append } = {}) {
    let item = this.items.get(conversation.id);
    if (!this.matches(conversation)) {
      if (item) this.remove(conversation.id);
      return;
    }
    if (!item) {
      item = this.buildItem(conversation);
      this.items.set(conversation.id, item);
      if (append) this.list.append(item.element);
      else this.list.prepend(item.element);
    } else if (moveToTop && this.list.firstElementChild !== item.element) {
      this.list.prepend(item.element);
    }
    item.conversation = { ...item.conversation, ...conversation };
    this.renderItem(item);
    this.renderEmpty();
  }

  buildItem(conversation) {
    const item = { conversation };
    item.title = el("span", { class: "conv-title" });
    item.preview = el("span", { class: "conv-preview" });
    item.link = el("a", { class: "conv-link", href: this.url(conversation.id) }, item.title, item.preview);
    item.link.addEventListener("click", (event) => {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      this.onOpen(conversation.id);
    });
    item.rename = iconButton("i-pencil", "Rename", () => this.act(() => this.rename(item)));
    item.archive = iconButton("i-archive", "Archive", () => this.act(() => this.toggleArchive(item)));
    item.remove = iconButton("i-trash", "Delete", () => this.act(() => this.confirmDelete(item)), "danger");
    item.element = el("li", { class: "conv-item", "data-id": conversation.id }, item.link,
      el("div", { class: "conv-actions" }, item.rename, item.archive, item.remove));
    return item;
  }

  renderItem(item) {
    const c = item.conversation;
    const title = c.title || "Untitled conversation";
    item.title.textContent = title;
    item.preview.textContent = c.preview || "";
    item.preview.hidden = !c.preview;
    const archived = Boolean(c.archived);
    item.rename.setAttribute("aria-label", `Rename “${title}”`);
    item.archive.setAttribute("aria-label", `${archived ? "Unarchive" : "Archive"} “${title}”`);
    item.archive.title = archived ? "Unarchive" : "Archive";
    item.archive.querySelector("use").setAttribute("href", archived ? "#i-unarchive" : "#i-archive");
    item.remove.setAttribute("aria-label", `Delete “${title}”`);
    if (c.id === this.currentId) item.link.setAttribute("aria-current", "page");
    else item.link.removeAttribute("aria-current");
  }

  setCurrent(id) {
    this.currentId = id;
    for (const item of this.items.values()) this.renderItem(item);
  }

  remove(id) {
    const item = this.items.get(id);
    if (!item) return;
    item.element.remove();
    this.items.delete(id);
    this.renderEmpty();
  }

  /** Runs a list action, showing its failure instead of losing it. */
  async act(action) {
    this.error.hidden = true;
    try {
      await action();
    } catch (error) {
      this.error.textContent = error.message || "That did not work.";
      this.error.hidden = false;
    }
  }

  async rename(item) {
    const input = this.renameDialog.querySelector("#rename-input");
    input.value = item.conversation.title || "";
    const answer = await this.ask(this.renameDialog, input);
    const title = input.value.trim();
    if (answer !== "ok" || !title || title === item.conversation.title) return;
    const conversation = await this.api.updateConversation(item.conversation.id, { title });
    this.upsert(conversation, { moveToTop: false });
    this.onChanged(conversation);
  }

  async toggleArchive(item) {
    const conversation = await this.api.updateConversation(item.conversation.id,
      { archived: !item.conversation.archived });
    this.upsert(conversation, { moveToTop: false });
    this.onChanged(conversation);
  }

  async confirmDelete(item) {
    this.deleteDialog.querySelector("#delete-name").textContent = item.conversation.title || "Untitled conversation";
    const answer = await this.ask(this.deleteDialog, this.deleteDialog.querySelector("[data-close]"));
    if (answer !== "ok") return;
    const id = item.conversation.id;
    await this.api.deleteConversation(id);
    this.remove(id);
    this.onRemoved(id);
  }

  /** Opens a modal dialog and resolves with the value of the button that closed it. */
  ask(dialog, focusTarget) {
    const opener = document.activeElement;
    dialog.returnValue = "cancel";
    dialog.showModal();
    focusTarget.focus();
    if (focusTarget.select) focusTarget.select();
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => {
        if (opener && opener.isConnected) opener.focus();
        resolve(dialog.returnValue);
      }, { once: true });
    });
  }
}

/**
 * The server's snippet is escaped text with <mark> around matches. It is rebuilt here from text
 * nodes and fresh <mark> elements only, so nothing else it might hold can reach the page.
 */
function snippetNodes(snippet) {
  const parsed = new DOMParser().parseFromString(`<p>${snippet}</p>`, "text/html").body;
  const nodes = [];
  for (const node of parsed.querySelector("p")?.childNodes || []) {
    if (node.nodeName === "MARK") nodes.push(el("mark", {}, node.textContent));
    else nodes.push(document.createTextNode(node.textContent));
  }
  return nodes;
}
