// One column of a turn (a provider and model, keyed by the column's key): its replies (a
// regenerated reply is a new one), the newest shown, earlier ones a click away through the pager.

import { el, iconButton } from "./dom.js";
import { tintOf } from "./tint.js";

export class Column {
  constructor(provider, key = provider) {
    this.provider = provider;
    this.key = key;
    this.replies = [];
    this.index = 0;
    this.element = el("div", { class: "column", "data-provider": provider, "data-column": key, "data-tint": tintOf(key) });
  }

  add(reply) {
    this.replies.push(reply);
    this.element.append(reply.element);
    this.index = this.replies.length - 1;
    this.refresh();
  }

  show(index) {
    this.index = Math.max(0, Math.min(this.replies.length - 1, index));
    this.refresh();
    this.replies[this.index]?.turn?.refresh();
  }

  refresh() {
    const count = this.replies.length;
    this.replies.forEach((reply, i) => {
      reply.element.hidden = i !== this.index;
      reply.pagerEl.hidden = count < 2;
      if (count < 2) return;
      const prev = iconButton("i-chevron-left", `Earlier ${this.provider} reply`, () => this.show(i - 1), "pager-button");
      const next = iconButton("i-chevron-right", `Later ${this.provider} reply`, () => this.show(i + 1), "pager-button");
      prev.disabled = i === 0;
      next.disabled = i === count - 1;
      reply.pagerEl.replaceChildren(prev, el("span", {}, `${i + 1}/${count}`), next);
    });
  }
}
