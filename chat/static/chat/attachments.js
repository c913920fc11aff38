// Files sent with a message (docs/attachments.md): the composer's tray — drop, paste or pick files;
// each uploads at once (POST /api/chat/attachments) and shows a chip with its name, size and, for an
// image, a preview; a chip's × deletes the upload. Under the chips, the picked columns whose model
// cannot see images are named. In the thread: a user message's files, and on each column whose model
// cannot see images, a note that it got the text only.

import { el } from "./dom.js";

const API = "/api/chat/";

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function call(method, path, body) {
  const response = await fetch(API + path, { method, body, credentials: "same-origin",
    headers: { Accept: "application/json", ...(method === "GET" ? {} : { "X-CSRFToken": csrfToken() }) } });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new Error((data && data.detail) || `Upload failed (${response.status})`);
  return data;
}

export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10240 ? 1 : 0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

const visionCache = new Map();

/** Whether a provider's model is sent images (GET /api/chat/vision), asked once per pair. */
export function seesImages(provider, model) {
  const key = `${provider}\n${model}`;
  if (!visionCache.has(key)) {
    const query = new URLSearchParams({ provider, model });
    visionCache.set(key, call("GET", `vision?${query}`).then((d) => d.sees_images).catch(() => true));
  }
  return visionCache.get(key);
}

export class AttachmentTray {
  /**
   * @param {HTMLFormElement} form the composer; the tray goes before `before` inside it
   * @param {{before: Element, message: HTMLTextAreaElement, picks: Function, onChange: Function}} options
   *   `onChange`: called when the uploaded files change (the live cost estimate counts them)
   */
  constructor(form, { before, message, picks, onChange }) {
    this.picks = picks;
    this.onChange = onChange;
    this.items = [];
    this.input = el("input", { type: "file", multiple: true, hidden: true, id: "attachment-input" });
    this.button = el("button", { type: "button", class: "button ghost small attach-button",
      "aria-label": "Attach files", title: "Attach files (or drop or paste them)" }, "Attach");
    this.chips = el("ul", { class: "attachment-chips", "aria-label": "Attached files" });
    this.note = el("p", { class: "attachment-vision-note", hidden: true });
    this.error = el("p", { class: "error attachment-error", role: "alert", hidden: true });
    // The button sits in the message row; the tray (chips, notes) takes room only when it has something.
    this.element = el("div", { class: "attachment-tray" }, this.chips, this.note, this.error);
    before.before(this.element);
    before.prepend(this.button, this.input);
    this.button.addEventListener("click", () => this.input.click());
    this.input.addEventListener("change", () => { this.addFiles(this.input.files); this.input.value = ""; });
    form.addEventListener("dragover", (event) => {
      if ([...event.dataTransfer.types].includes("Files")) { event.preventDefault(); form.classList.add("dropping"); }
    });
    form.addEventListener("dragleave", () => form.classList.remove("dropping"));
    form.addEventListener("drop", (event) => {
      form.classList.remove("dropping");
      if (!event.dataTransfer.files.length) return;
      event.preventDefault();
      this.addFiles(event.dataTransfer.files);
    });
    message.addEventListener("paste", (event) => {
      const files = [...(event.clipboardData?.files || [])];
      if (!files.length) return;
      event.preventDefault();
      this.addFiles(files);
    });
    // A provider or model picked or changed: the note on images is said again.
    form.addEventListener("change", () => this.renderVisionNote());
    form.addEventListener("input", (event) => { if (event.target.closest(".provider-chip")) this.renderVisionNote(); });
  }

  addFiles(files) {
    this.showError("");
    for (const file of files) this.upload(file);
  }

  async upload(file) {
    const item = { file, attachment: null, pending: true };
    item.element = this.chip(item);
    this.items.push(item);
    this.chips.append(item.element);
    const form = new FormData();
    form.append("file", file);
    item.promise = call("POST", "attachments", form).then((attachment) => {
      item.attachment = attachment;
      item.pending = false;
      item.element.replaceWith(item.element = this.chip(item));
      this.renderVisionNote();
      this.onChange();
    }).catch((error) => {
      this.remove(item, { server: false });
      this.showError(`${file.name}: ${error.message}`);
    });
    return item.promise;
  }

  chip(item) {
    const image = item.file.type.startsWith("image/") || item.attachment?.kind === "image";
    const remove = el("button", { type: "button", class: "chip-remove", "aria-label": `Remove ${item.file.name}`,
      title: "Remove" }, "×");
    remove.addEventListener("click", () => this.remove(item, { server: true }));
    const preview = image && item.attachment
      ? el("img", { class: "chip-preview", alt: "", src: item.attachment.url }) : "";
    const size = item.attachment ? item.attachment.size : item.file.size;
    return el("li", { class: `attachment-chip${item.pending ? " uploading" : ""}`,
      "data-kind": item.attachment?.kind || "", "data-name": item.file.name }, preview,
    el("span", { class: "chip-name" }, item.file.name), el("span", { class: "chip-size muted" }, formatSize(size)),
    item.pending ? el("span", { class: "muted" }, "uploading…") : "", remove);
  }

  remove(item, { server }) {
    this.items = this.items.filter((other) => other !== item);
    item.element.remove();
    if (server && item.attachment) call("DELETE", `attachments/${item.attachment.id}`).catch(() => {});
    this.renderVisionNote();
    this.onChange();
  }

  /** Waits for uploads in flight; the ids of the uploaded files, in order. */
  async ids() {
    await Promise.all(this.items.map((item) => item.promise));
    return this.uploadedIds();
  }

  /** The ids of the files uploaded so far, in order. */
  uploadedIds() { return this.items.filter((item) => item.attachment).map((item) => item.attachment.id); }

  hasImages() { return this.items.some((item) => item.attachment?.kind === "image"); }

  /** After a send: the files went with the message; the tray starts empty. */
  clear() {
    this.items = [];
    this.chips.replaceChildren();
    this.renderVisionNote();
    this.onChange();
  }

  async renderVisionNote() {
    if (!this.hasImages()) { this.note.hidden = true; return; }
    // Per column: two columns of one provider may hold models that differ. A provider's further
    // columns are named by their model too, as their tabs are (turn.js).
    const blind = [];
    for (const column of this.picks().columns) {
      if (await seesImages(column.provider, column.model || "")) continue;
      blind.push(column.key === column.provider ? column.provider : `${column.provider} · ${column.model}`);
    }
    this.note.textContent = blind.length
      ? `${blind.join(", ")} cannot see images: ${blind.length > 1 ? "they get" : "it gets"} the text only.` : "";
    this.note.hidden = !blind.length;
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }
}

/** A user message's files, under its text: links to them, images as thumbnails. */
export function renderMessageAttachments(container, message) {
  const files = message.attachments || [];
  if (!files.length) return;
  container.append(el("ul", { class: "message-attachments", "aria-label": "Attached files" },
    ...files.map((file) => el("li", { "data-kind": file.kind },
      el("a", { href: file.url, target: "_blank", rel: "noopener" },
        file.kind === "image" ? el("img", { class: "chip-preview", alt: "", src: file.url }) : "",
        el("span", { class: "chip-name" }, file.name)),
      el("span", { class: "chip-size muted" }, formatSize(file.size))))));
}

/** On a column answering a message with images: says so if its model got the text only. */
export async function markColumnVision(columnElement, userMessage, reply) {
  if (!(userMessage.attachments || []).some((file) => file.kind === "image")) return;
  if (columnElement.querySelector(".column-vision-note")) return;
  if (await seesImages(reply.provider, reply.model)) return;
  columnElement.prepend(el("p", { class: "column-vision-note muted" },
    `${reply.model} cannot see images: it got the text without them.`));
}
