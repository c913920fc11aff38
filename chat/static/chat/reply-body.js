// A reply's body: the server-rendered HTML of its finished blocks, then the open last block as one
// Text node. Deltas and `message.blocks` are applied here; whether one is due is the reply's call.
//
// The open block is shown in the shape it is taking (openTail): an open code fence as a code block
// of its text so far, a table as a table once its header and delimiter rows are in; the server's
// rendered block replaces it, in the same place and box, once the block is finished.
//
// Safety rule: streamed text only ever reaches the page through Text nodes; the only HTML written
// (innerHTML, insertAdjacentHTML) is the server's sanitised Markdown: `content_html`, and while a
// reply streams its finished blocks (`rendered_html`, the `html` of `message.blocks`).

import { addCodeCopyButtons } from "./codeblocks.js";
import { el } from "./dom.js";
import { openTail } from "./open-tail.js";

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
    this.textNode = document.createTextNode("");
    this.streamEl = el("div", { class: "stream-text" }, this.textNode);
    this.tail = openTail(this.streamEl, this.textNode);
    this.htmlEl = el("div", { class: "md", hidden: true });
    this.typingEl = el("span", { class: "typing", "aria-hidden": "true" }, el("i"), el("i"), el("i"));
    this.element = el("div", { class: "reply-body", "aria-live": "polite" }, this.htmlEl, this.streamEl, this.typingEl);
  }

  /** The typing dots: shown while the reply is active and has no text yet. */
  showTyping(on) { this.typingEl.hidden = !on; }

  /** The text so far, as a snapshot or a fetch has it: its finished blocks rendered, the rest as text. */
  setText(text, renderedHtml = "", renderedUpto = 0) {
    this.setRendered(renderedHtml || "", renderedHtml ? renderedUpto : 0);
    this.tail.set(text.slice(unitsOf(text, this.renderedUpto)));
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

  append(text) { this.tail.append(text); }

  /**
   * Finished blocks of `text[start:end]`, rendered by the server. Blocks that do not start where the
   * shown ones end (the server says they always do) are left out: the rest of the reply would then
   * stay text until its final render.
   */
  addBlocks(start, end, html) {
    if (start !== this.renderedUpto || end <= start) return;
    // Appended, never re-rendered: the blocks above stay where they are.
    this.htmlEl.insertAdjacentHTML("beforeend", html);
    addCodeCopyButtons(this.htmlEl, this.announce);
    this.htmlEl.hidden = false;
    this.renderedHtml += html;
    this.renderedUpto = end;
    const tail = this.tail.text;
    this.tail.set(tail.slice(unitsOf(tail, end - start)));
  }

  /** The reply has ended: its server-rendered HTML, or without one its text (or `placeholder` if empty). */
  end(content, contentHtml, placeholder) {
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
      this.tail.set("", { plain: true });
    } else {
      this.tail.set(content || placeholder || "", { plain: true });
      this.setRendered("", 0);
      this.streamEl.hidden = false;
    }
    this.streamEl.classList.toggle("placeholder", !content);
  }
}
