// The REST calls the chat page makes: session cookie + CSRF header, JSON in and out.

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `Request failed (${status})`);
    this.status = status;
    this.body = body;
  }
}

// What fetch's own TypeError ("Failed to fetch") means, in words.
const UNREACHABLE = "Could not reach the webox server: it may be stopped or restarting, or your connection is down.";

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export class Api {
  constructor(root) {
    this.root = root.endsWith("/") ? root : `${root}/`;
  }

  async request(method, path, body) {
    const headers = { Accept: "application/json" };
    const form = body instanceof FormData;
    if (body !== undefined && !form) headers["Content-Type"] = "application/json";
    if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
    let response;
    try {
      response = await fetch(this.root + path, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined || form ? body : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, { detail: UNREACHABLE });
    }
    if (response.status === 401) {
      // The session ended (logged out in another tab): back to the login page.
      window.location.assign(`/accounts/login/?next=${encodeURIComponent(window.location.pathname)}`);
    }
    if (response.status === 204) return null;
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  providers() { return this.request("GET", "providers"); }
  /** `folder`: a folder's id, "none" (in no folder) or "" (all). */
  conversations({ q = "", archived = false, page = 1, folder = "" } = {}) {
    const params = new URLSearchParams({ archived: String(archived), page: String(page) });
    if (q) params.set("q", q);
    if (folder) params.set("folder", String(folder));
    return this.request("GET", `conversations?${params}`);
  }
  folders() { return this.request("GET", "folders"); }
  createFolder(name) { return this.request("POST", "folders", { name }); }
  renameFolder(id, name) { return this.request("PATCH", `folders/${id}`, { name }); }
  deleteFolder(id) { return this.request("DELETE", `folders/${id}`); }
  preferences() { return this.request("GET", "preferences"); }
  updatePreferences(fields) { return this.request("PATCH", "preferences", fields); }
  importFile(file) {
    const form = new FormData();
    form.append("file", file);
    return this.request("POST", "import", form);
  }
  exportUrl(id, format) { return `${this.root}conversations/${id}/export?format=${format}`; }
  search(q, page = 1) {
    return this.request("GET", `search?${new URLSearchParams({ q, page: String(page) })}`);
  }
  /** A page of the conversation: its newest turns, or with `before` the turns older than that message. */
  conversation(id, before = null) {
    return this.request("GET", `conversations/${id}${before === null ? "" : `?before=${before}`}`);
  }
  updateConversation(id, fields) { return this.request("PATCH", `conversations/${id}`, fields); }
  deleteConversation(id) { return this.request("DELETE", `conversations/${id}`); }
  send(payload) {
    return this.request("POST", "send", payload).catch((error) => {
      // The composer keeps the text of a send that failed; offline, say so.
      if (error.status === 0) error.message = `${UNREACHABLE} Your message is kept: send it again when it is back.`;
      throw error;
    });
  }
  estimate(payload) { return this.request("POST", "estimate", payload); }
  cancel(messageId) { return this.request("POST", `messages/${messageId}/cancel`, {}); }
  /** Edit and resend a user message: a new branch from that point; answers like a send. */
  edit(messageId, body) { return this.request("POST", `messages/${messageId}/edit`, body); }
  /** Make the branch through `turn` the conversation's active path; answers its detail. */
  branch(conversationId, turn) { return this.request("POST", `conversations/${conversationId}/branch`, { turn }); }
  regenerate(messageId) { return this.request("POST", `messages/${messageId}/regenerate`, {}); }
  choose(messageId) { return this.request("POST", `messages/${messageId}/choose`, {}); }
  vote(turnId, body) { return this.request("PUT", `messages/${turnId}/vote`, body); }
  withdrawVote(turnId) { return this.request("DELETE", `messages/${turnId}/vote`); }
  reveal(turnId) { return this.request("POST", `messages/${turnId}/reveal`, {}); }
  arena(body) { return this.request("POST", "arena", body); }
  share(conversationId, body) { return this.request("POST", `conversations/${conversationId}/share`, body); }
}
