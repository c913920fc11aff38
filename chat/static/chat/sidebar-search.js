// The search box's second half: matches inside messages (GET /api/chat/search), listed under the
// conversations, each opening its conversation at the message.

import { el } from "./dom.js";

export class MessageSearch {
  /**
   * @param {HTMLElement} root  the sidebar
   * @param {{api: Api, query: Function, url: Function, onOpen: Function}} options  `query`: the box's
   *   text; `url(id)`: a conversation's address; `onOpen(id, {messageId, query, turn})`
   */
  constructor(root, { api, query, url, onOpen }) {
    this.api = api;
    this.query = query;
    this.url = url;
    this.onOpen = onOpen;
    this.section = root.querySelector("#search-section");
    this.results = root.querySelector("#search-results");
    this.empty = root.querySelector("#search-empty");
    this.count = root.querySelector("#search-count");
    this.more = root.querySelector("#search-more");
    this.page = 1;
    this.generation = 0;
    this.more.addEventListener("click", () => this.search(this.page + 1));
  }

  /** Matches inside messages for the search box's text; clears them for an empty box. */
  async search(page) {
    const generation = ++this.generation;
    const q = this.query();
    if (!q) {
      this.section.hidden = true;
      this.results.replaceChildren();
      return;
    }
    let data;
    try {
      data = await this.api.search(q, page);
    } catch (error) {
      if (generation !== this.generation) return;
      this.empty.textContent = error.message || "Search failed.";
      this.empty.hidden = false;
      this.section.hidden = false;
      return;
    }
    if (generation !== this.generation) return;
    if (page === 1) this.results.replaceChildren();
    this.page = page;
    for (const result of data.results) this.results.append(this.buildResult(result));
    this.count.textContent = `(${data.count})`;
    this.empty.textContent = "No message matches.";
    this.empty.hidden = data.count > 0;
    this.more.hidden = !data.next;
    this.section.hidden = false;
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
      this.onOpen(result.conversation_id, { messageId: result.message_id, query: this.query(), turn });
    });
    return el("li", { class: "conv-item" }, link);
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
