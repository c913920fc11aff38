// A reply's body: the server-rendered HTML of its finished blocks, then its open last block, then
// the text not rendered yet as one Text node. Deltas and `message.blocks` are applied here; whether
// one is due is the reply's call.
//
// The open block is rendered by the server too when it is a code fence or a table (`open` of
// `message.blocks`, `open_block` of a snapshot): shown in its own element, grown by the lines the
// server adds, replaced by the finished block in the same place and box. The text after what the
// server rendered goes on inside the open fence's code (so the code grows as it streams) or, for a
// table or anything else, as plain text below.
//
// Safety rule: streamed text only ever reaches the page through Text nodes; the only HTML written
// (innerHTML, insertAdjacentHTML) is the server's sanitised Markdown: `content_html`, and while a
// reply streams its finished blocks (`rendered_html`, the `html` of `message.blocks`) and its open block.

import { addCodeCopyButtons } from "./codeblocks.js";
import { el } from "./dom.js";

/** Where, in UTF-16 units, the first `count` characters (code points, as the server counts) of `text` end. */
function unitsOf(text, count) {
  let index = 0;
  for (let n = 0; n < count && index < text.length; n += 1) {
    const pair = text.charCodeAt(index) >> 10 === 0x36 && text.charCodeAt(index + 1) >> 10 === 0x37;
    index += pair ? 2 : 1;
  }
  return index;
}

export class ReplyBody {
  /** @param {Function} announce  tells screen readers (a code block was copied) */
  constructor(announce) {
    this.announce = announce;
    // While streaming: the server-rendered finished blocks (HTML as sent) and how much of the text they cover.
    this.renderedHtml = "";
    this.renderedUpto = 0;
    // The text after them; how much of it the open block shows (characters), and whether the rest goes in its code.
    this.tailText = "";
    this.openUpto = 0;
    this.inCode = false;
    this.textNode = document.createTextNode("");
    this.streamEl = el("div", { class: "stream-text" }, this.textNode);
    this.htmlEl = el("div", { class: "md", hidden: true });
    // On the page only while it shows a block: elsewhere a reply has one .md, its rendered text.
    this.openEl = el("div", { class: "md open-block" });
    this.typingEl = el("span", { class: "typing", "aria-hidden": "true" }, el("i"), el("i"), el("i"));
    this.element = el("div", { class: "reply-body", "aria-live": "polite" }, this.htmlEl, this.streamEl, this.typingEl);
  }

  /** The typing dots: shown while the reply is active and has no text yet. */
  showTyping(on) { this.typingEl.hidden = !on; }

  /** The text so far, as a snapshot or a fetch has it: its finished blocks and open block rendered, the rest as text. */
  setText(text, renderedHtml = "", renderedUpto = 0, openBlock = null) {
    this.setRendered(renderedHtml || "", renderedHtml ? renderedUpto : 0);
    this.tailText = text.slice(unitsOf(text, this.renderedUpto));
    this.clearOpen();
    if (openBlock) this.setOpen(openBlock);
    this.placeText();
  }

  setRendered(html, upto) {
    if (html !== this.renderedHtml) {
      this.htmlEl.innerHTML = html;
      addCodeCopyButtons(this.htmlEl, this.announce);
    }
    this.renderedHtml = html;
    this.renderedUpto = upto;
    this.htmlEl.hidden = !html;
  }

  append(text) {
    this.tailText += text;
    this.textNode.appendData(text);
  }

  /**
   * Finished blocks of `text[start:end]`, rendered by the server, then the open block (`open`).
   * Blocks that do not start where the shown ones end (the server says they always do) are left
   * out: the rest of the reply would then stay text until its final render.
   */
  addBlocks(start, end, html, open) {
    if (start !== this.renderedUpto) return;
    if (end > start) {
      // Appended, never re-rendered: the blocks above stay where they are.
      this.htmlEl.insertAdjacentHTML("beforeend", html);
      addCodeCopyButtons(this.htmlEl, this.announce);
      this.htmlEl.hidden = false;
      this.renderedHtml += html;
      this.renderedUpto = end;
      this.tailText = this.tailText.slice(unitsOf(this.tailText, end - start));
      this.clearOpen();
    } else if (!open) {
      return;
    }
    if (open) this.setOpen(open);
    this.placeText();
  }

  /** The server's open block: rendered whole, or new lines to add (code lines to its code, rows to its table). */
  setOpen({ end, html, append, in_code: inCode }) {
    this.textNode.remove();
    if (append) {
      const into = inCode ? [...this.openEl.querySelectorAll("pre code")].pop() : this.openEl.querySelector("tbody");
      if (!into || !this.openUpto) return;
      into.insertAdjacentHTML("beforeend", html);
    } else {
      this.openEl.innerHTML = html;
      addCodeCopyButtons(this.openEl, this.announce);
    }
    const shown = Boolean(this.openEl.firstChild);
    if (!shown) this.openEl.remove();
    else if (!this.openEl.isConnected) this.htmlEl.after(this.openEl);
    this.openUpto = shown ? end - this.renderedUpto : 0;
    this.inCode = Boolean(inCode) && shown;
  }

  clearOpen() {
    this.textNode.remove();
    this.openEl.replaceChildren();
    this.openEl.remove();
    this.openUpto = 0;
    this.inCode = false;
  }

  /** The text the open block does not show: inside its open fence's code, or as plain text below. */
  placeText() {
    this.textNode.data = this.tailText.slice(unitsOf(this.tailText, this.openUpto));
    const code = this.inCode && [...this.openEl.querySelectorAll("pre code")].pop();
    (code || this.streamEl).append(this.textNode);
  }

  /** The reply has ended: its server-rendered HTML, or without one its text (or `placeholder` if empty). */
  end(content, contentHtml, placeholder) {
    this.clearOpen();
    if (contentHtml) {
      const shown = this.renderedHtml;
      if (shown && contentHtml.startsWith(shown)) {
        // The blocks rendered while streaming are the start of the final HTML: add the rest only,
        // so the column does not jump when the reply ends.
        this.htmlEl.insertAdjacentHTML("beforeend", contentHtml.slice(shown.length));
      } else {
        this.htmlEl.innerHTML = contentHtml;
      }
      addCodeCopyButtons(this.htmlEl, this.announce);
      this.renderedHtml = contentHtml;
      this.renderedUpto = 0;
      this.htmlEl.hidden = false;
      this.streamEl.hidden = true;
      this.tailText = "";
    } else {
      this.tailText = content || placeholder || "";
      this.setRendered("", 0);
      this.streamEl.hidden = false;
    }
    this.placeText();
    this.streamEl.classList.toggle("placeholder", !content);
  }
}
