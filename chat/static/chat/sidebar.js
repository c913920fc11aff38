// The conversation list: pinned first, then newest activity first; filter by title and by folder,
// rename, pin, move to a folder, archive, delete; the folders themselves. The search box's matches
// inside messages are sidebar-search.js; importing a file, sidebar-import.js.

import { ask } from "./dialogs.js";
import { debounce, el, icon, iconButton } from "./dom.js";
import { ImportFile } from "./sidebar-import.js";
import { MessageSearch } from "./sidebar-search.js";

// The folder filter is remembered in this browser: "" all, "none" in no folder, or a folder's id.
const FOLDER_KEY = "webox.sidebar.folder";

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
    this.folderDialog = document.getElementById("folder-dialog");
    this.folderDeleteDialog = document.getElementById("folder-delete-dialog");
    this.moveDialog = document.getElementById("move-dialog");
    this.folderFilter = root.querySelector("#folder-filter");
    this.renameFolderButton = root.querySelector("#rename-folder");
    this.deleteFolderButton = root.querySelector("#delete-folder");
    this.folders = new Map();
    this.foldersLoaded = false;
    this.folder = localStorage.getItem(FOLDER_KEY) || "";
    this.archived = false;
    this.page = 1;
    this.currentId = null;
    this.items = new Map();
    this.generation = 0;

    this.messageSearch = new MessageSearch(root, {
      api, onOpen, query: () => this.filter.value.trim(), url: (id) => this.url(id) });
    this.importFile = new ImportFile(root, { api, onImported: () => this.reload() });

    this.filter.addEventListener("input", debounce(() => { this.reload(); this.messageSearch.search(1); }, 200));
    this.loadMore.addEventListener("click", () => this.fetchPage(this.page + 1));
    this.activeTab.addEventListener("click", () => this.showArchived(false));
    this.archivedTab.addEventListener("click", () => this.showArchived(true));
    this.folderFilter.addEventListener("change", () => this.showFolder(this.folderFilter.value));
    root.querySelector("#new-folder").addEventListener("click", () => this.act(() => this.createFolder()));
    this.renameFolderButton.addEventListener("click", () => this.act(() => this.renameFolder()));
    this.deleteFolderButton.addEventListener("click", () => this.act(() => this.deleteFolder()));
    for (const dialog of [this.renameDialog, this.deleteDialog, this.folderDialog, this.folderDeleteDialog,
      this.moveDialog]) {
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

  showFolder(folder) {
    this.folder = folder;
    localStorage.setItem(FOLDER_KEY, folder);
    this.renderFolders();
    this.reload();
  }

  /** Reloads the list (and the folders, the first time or when asked). */
  async reload({ folders = !this.foldersLoaded } = {}) {
    this.items.clear();
    this.list.replaceChildren();
    if (folders) await this.loadFolders();
    await this.fetchPage(1);
  }

  async loadFolders() {
    try {
      const folders = await this.api.folders();
      this.folders = new Map(folders.map((folder) => [String(folder.id), folder]));
      this.foldersLoaded = true;
    } catch {
      return; // the list still loads, unfiltered by a folder it cannot name
    }
    // A folder deleted elsewhere (another tab): back to all.
    if (this.folder !== "" && this.folder !== "none" && !this.folders.has(this.folder)) this.showFolderSilently("");
    this.renderFolders();
    for (const item of this.items.values()) this.renderItem(item);
  }

  showFolderSilently(folder) {
    this.folder = folder;
    localStorage.setItem(FOLDER_KEY, folder);
  }

  renderFolders() {
    const fixed = [...this.folderFilter.querySelectorAll("option")].slice(0, 2);
    const options = [...this.folders.values()].map((folder) => el("option", { value: folder.id }, folder.name));
    this.folderFilter.replaceChildren(...fixed, ...options);
    this.folderFilter.value = this.folder;
    const one = this.folders.get(this.folder);
    this.renameFolderButton.hidden = this.deleteFolderButton.hidden = !one;
    if (one) {
      this.renameFolderButton.setAttribute("aria-label", `Rename folder “${one.name}”`);
      this.deleteFolderButton.setAttribute("aria-label", `Delete folder “${one.name}”`);
    }
  }

  async createFolder() {
    const input = this.folderDialog.querySelector("#folder-name");
    this.folderDialog.querySelector("#folder-heading").textContent = "New folder";
    input.value = "";
    if (await ask(this.folderDialog, input) !== "ok" || !input.value.trim()) return;
    const folder = await this.api.createFolder(input.value.trim());
    this.folders.set(String(folder.id), folder);
    await this.loadFolders();
  }

  async renameFolder() {
    const folder = this.folders.get(this.folder);
    if (!folder) return;
    const input = this.folderDialog.querySelector("#folder-name");
    this.folderDialog.querySelector("#folder-heading").textContent = "Rename folder";
    input.value = folder.name;
    if (await ask(this.folderDialog, input) !== "ok") return;
    const name = input.value.trim();
    if (!name || name === folder.name) return;
    await this.api.renameFolder(folder.id, name);
    await this.loadFolders();
  }

  async deleteFolder() {
    const folder = this.folders.get(this.folder);
    if (!folder) return;
    this.folderDeleteDialog.querySelector("#folder-delete-name").textContent = folder.name;
    const answer = await ask(this.folderDeleteDialog, this.folderDeleteDialog.querySelector("[data-close]"));
    if (answer !== "ok") return;
    await this.api.deleteFolder(folder.id);
    this.showFolderSilently("");
    await this.reload({ folders: true });
  }

  async fetchPage(page) {
    const generation = ++this.generation;
    let data;
    try {
      data = await this.api.conversations({ q: this.filter.value.trim(), archived: this.archived, page,
        folder: this.folder });
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
    const folder = conversation.folder == null ? "none" : String(conversation.folder);
    return Boolean(conversation.archived) === this.archived
      && (!q || (conversation.title || "").toLowerCase().includes(q))
      && (this.folder === "" || this.folder === folder);
  }

  /**
   * Adds or refreshes a conversation. Unless `append`, new activity moves it to the top of the
   * unpinned ones; a pin or an unpin moves it to its place (pinned first, most recently pinned first).
   */
  upsert(conversation, { append = false, moveToTop = !append } = {}) {
    let item = this.items.get(conversation.id);
    const merged = { ...(item ? item.conversation : {}), ...conversation };
    if (!this.matches(merged)) {
      if (item) this.remove(conversation.id);
      return;
    }
    const wasPinned = item ? Boolean(item.conversation.pinned_at) : null;
    if (!item) {
      item = this.buildItem(merged);
      this.items.set(conversation.id, item);
    }
    item.conversation = merged;
    if (append) {
      if (!item.element.isConnected) this.list.append(item.element);
    } else if (!item.element.isConnected || wasPinned !== Boolean(merged.pinned_at)) {
      this.place(item);
    } else if (moveToTop && !merged.pinned_at) {
      this.place(item, { top: true });
    }
    if (merged.folder != null && !this.folders.has(String(merged.folder))) this.loadFolders();
    this.renderItem(item);
    this.renderEmpty();
  }

  /** Puts an item where the server's order would: pinned ones first. `top`: first of the unpinned. */
  place(item, { top = false } = {}) {
    const c = item.conversation;
    item.element.remove();
    for (const other of this.list.children) {
      const o = this.items.get(Number(other.dataset.id))?.conversation;
      if (o && (top ? !o.pinned_at : sortsBefore(c, o))) {
        this.list.insertBefore(item.element, other);
        return;
      }
    }
    this.list.append(item.element);
  }

  buildItem(conversation) {
    const item = { conversation };
    item.title = el("span", { class: "conv-title" });
    item.pinMark = icon("i-pin");
    item.pinMark.classList.add("conv-pin-mark");
    item.folderLabel = el("span", { class: "conv-folder" });
    item.preview = el("span", { class: "conv-preview" });
    item.link = el("a", { class: "conv-link", href: this.url(conversation.id) },
      el("span", { class: "conv-title-row" }, item.pinMark, item.title, item.folderLabel), item.preview);
    item.link.addEventListener("click", (event) => {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      this.onOpen(conversation.id);
    });
    item.rename = iconButton("i-pencil", "Rename", () => this.act(() => this.rename(item)));
    // Pin and move live in the item's "more" menu: a row has room for four buttons beside its title.
    item.pin = el("button", { type: "button", class: "menu-item" }, "Pin to top");
    item.pin.addEventListener("click", () => this.act(() => this.togglePin(item)));
    item.move = el("button", { type: "button", class: "menu-item" }, "Move to folder…");
    item.move.addEventListener("click", () => this.act(() => this.move(item)));
    item.more = el("summary", { class: "icon-button", role: "button" }, icon("i-more"));
    item.menu = el("details", { class: "menu conv-menu" }, item.more,
      el("div", { class: "menu-items" }, item.pin, item.move));
    item.archive = iconButton("i-archive", "Archive", () => this.act(() => this.toggleArchive(item)));
    item.remove = iconButton("i-trash", "Delete", () => this.act(() => this.confirmDelete(item)), "danger");
    item.element = el("li", { class: "conv-item", "data-id": conversation.id }, item.link,
      el("div", { class: "conv-actions" }, item.rename, item.archive, item.remove, item.menu));
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
    const pinned = Boolean(c.pinned_at);
    item.element.classList.toggle("pinned", pinned);
    item.pinMark.style.display = pinned ? "" : "none";
    item.pin.textContent = pinned ? "Unpin" : "Pin to top";
    item.more.setAttribute("aria-label", `More for “${title}”${pinned ? " (pinned)" : ""}`);
    item.more.title = "More";
    // The folder's name, when the list shows every folder.
    const folder = c.folder == null ? null : this.folders.get(String(c.folder));
    item.folderLabel.textContent = folder ? folder.name : "";
    item.folderLabel.hidden = !folder || this.folder !== "";
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
    const answer = await ask(this.renameDialog, input);
    const title = input.value.trim();
    if (answer !== "ok" || !title || title === item.conversation.title) return;
    const conversation = await this.api.updateConversation(item.conversation.id, { title });
    this.upsert(conversation, { moveToTop: false });
    this.onChanged(conversation);
  }

  async togglePin(item) {
    const conversation = await this.api.updateConversation(item.conversation.id,
      { pinned: !item.conversation.pinned_at });
    this.upsert(conversation, { moveToTop: false });
    this.onChanged(conversation);
  }

  async move(item) {
    const select = this.moveDialog.querySelector("#move-folder");
    select.replaceChildren(el("option", { value: "" }, "No folder"),
      ...[...this.folders.values()].map((folder) => el("option", { value: folder.id }, folder.name)));
    select.value = item.conversation.folder == null ? "" : String(item.conversation.folder);
    this.moveDialog.querySelector("#move-name").textContent = item.conversation.title || "Untitled conversation";
    if (await ask(this.moveDialog, select) !== "ok") return;
    const folder = select.value === "" ? null : Number(select.value);
    if (folder === (item.conversation.folder ?? null)) return;
    const conversation = await this.api.updateConversation(item.conversation.id, { folder });
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
    const answer = await ask(this.deleteDialog, this.deleteDialog.querySelector("[data-close]"));
    if (answer !== "ok") return;
    const id = item.conversation.id;
    await this.api.deleteConversation(id);
    this.remove(id);
    this.onRemoved(id);
  }
}

/** The list's order (the server's): pinned first, most recently pinned first; then newest activity. */
function sortsBefore(a, b) {
  if (Boolean(a.pinned_at) !== Boolean(b.pinned_at)) return Boolean(a.pinned_at);
  const [x, y] = a.pinned_at ? [a.pinned_at, b.pinned_at] : [a.updated_at, b.updated_at];
  const [dx, dy] = [Date.parse(x) || 0, Date.parse(y) || 0];
  return dx !== dy ? dx > dy : a.id > b.id;
}
