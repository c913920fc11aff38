// The "Share" dialog: makes a read-only link to the branch on screen (chat/sharing/), shows it and copies it.

import { copyText } from "./dom.js";

export class ShareDialog {
  /** `conversation()` answers the open conversation (or null); `announce(text)` speaks to screen readers. */
  constructor(dialog, { api, conversation, announce }) {
    this.dialog = dialog;
    this.api = api;
    this.conversation = conversation;
    this.announce = announce;
    this.details = dialog.querySelector("#share-details");
    this.result = dialog.querySelector("#share-result");
    this.url = dialog.querySelector("#share-url");
    this.error = dialog.querySelector("#share-error");
    this.createButton = dialog.querySelector("#share-create");
    this.createButton.addEventListener("click", () => this.create());
    dialog.querySelector("#share-copy").addEventListener("click", () => this.copy());
    for (const button of dialog.querySelectorAll("[data-close]")) {
      button.addEventListener("click", () => dialog.close("cancel"));
    }
  }

  open() {
    if (!this.conversation()) return;
    const opener = document.activeElement;
    // A new link each time: a link shows the conversation as it was when made.
    this.result.hidden = true;
    this.error.hidden = true;
    this.url.value = "";
    this.createButton.disabled = false;
    this.dialog.showModal();
    this.dialog.addEventListener("close", () => { if (opener && opener.isConnected) opener.focus(); },
      { once: true });
  }

  async create() {
    const conversation = this.conversation();
    if (!conversation) return;
    this.createButton.disabled = true;
    this.error.hidden = true;
    try {
      const share = await this.api.share(conversation.id, { show_details: this.details.checked });
      this.url.value = share.url;
      this.result.hidden = false;
      this.url.focus();
      this.url.select();
      this.announce("Share link created");
    } catch (error) {
      this.error.textContent = error.message;
      this.error.hidden = false;
      this.createButton.disabled = false;
    }
  }

  async copy() {
    if (!this.url.value) return;
    await copyText(this.url.value);
    this.announce("Link copied");
  }
}
