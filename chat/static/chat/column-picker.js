// Columns beyond each provider's own chip: any model of any provider, found in a searchable list.
// The composer shows each as a column chip in its bar (provider · model, its own settings, a remove
// button). A provider may appear in several columns; each column has a key that names its thread across turns (docs/compare.md):
// a provider's chip is the column keyed by its name, these are keyed "name#2", "name#3"…, kept
// on the conversation's default_columns so the next turn continues the same threads.

import { el } from "./dom.js";

// A column's own settings, kept with it as a send's `columns` take them.
const PARAMS = ["temperature", "max_tokens", "system_prompt"];

export class ColumnPicker {
  /**
   * @param {HTMLElement} container  where the "Add column" button and the list go
   * @param {{onChange: Function}} options  called when a column is added or removed
   */
  constructor(container, { onChange }) {
    this.onChange = onChange;
    this.providers = [];
    this.extra = [];
    this.active = -1;
    this.addButton = el("button", { type: "button", class: "button ghost small add-column", id: "add-column",
      "aria-expanded": "false", "aria-controls": "column-picker" }, "+", el("span", { class: "add-column-word" }, " Column"));
    this.search = el("input", { type: "search", id: "column-search", class: "column-search", autocomplete: "off",
      spellcheck: "false", role: "combobox", "aria-expanded": "true", "aria-controls": "column-options",
      "aria-autocomplete": "list", "aria-label": "Search a model for a new column", placeholder: "Search models…" });
    this.options = el("ul", { id: "column-options", class: "column-options", role: "listbox", "aria-label": "Models" });
    this.panel = el("div", { class: "column-picker", id: "column-picker", hidden: true }, this.search, this.options);
    container.append(this.addButton, this.panel);

    this.addButton.addEventListener("click", () => this.toggle(this.panel.hidden));
    this.search.addEventListener("input", () => this.renderOptions());
    this.search.addEventListener("keydown", (event) => this.key(event));
  }

  setProviders(providers) { this.providers = providers; }

  /** Every (provider, model) the user can pick whose text holds each word typed. */
  choices(query) {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const found = [];
    for (const provider of this.providers) {
      const models = [...new Set([provider.default_model, ...(provider.models || [])].filter(Boolean))];
      for (const model of models) {
        const text = `${provider.name} ${model}`.toLowerCase();
        if (words.every((word) => text.includes(word))) found.push({ provider: provider.name, model });
      }
    }
    return found;
  }

  toggle(open) {
    this.panel.hidden = !open;
    this.addButton.setAttribute("aria-expanded", String(open));
    if (!open) return;
    this.search.value = "";
    this.renderOptions();
    this.search.focus();
  }

  renderOptions() {
    this.shown = this.choices(this.search.value);
    this.active = this.shown.length ? 0 : -1;
    this.options.replaceChildren(...this.shown.map((choice, index) => {
      const option = el("li", { role: "option", id: `column-option-${index}`, class: "column-option",
        "data-provider": choice.provider, "data-model": choice.model },
      el("span", { class: "provider-name" }, choice.provider), " ", el("span", { class: "model-name" }, choice.model));
      // mousedown, not click: picking must not blur the search box first.
      option.addEventListener("mousedown", (event) => { event.preventDefault(); this.pick(index); });
      return option;
    }));
    if (!this.shown.length) this.options.append(el("li", { class: "muted column-option-none" }, "No model matches."));
    this.markActive();
  }

  markActive() {
    [...this.options.querySelectorAll("[role=option]")].forEach((option, index) => {
      option.setAttribute("aria-selected", String(index === this.active));
    });
    if (this.active >= 0) this.search.setAttribute("aria-activedescendant", `column-option-${this.active}`);
    else this.search.removeAttribute("aria-activedescendant");
  }

  key(event) {
    const step = { ArrowDown: 1, ArrowUp: -1 }[event.key];
    if (step && this.shown.length) {
      event.preventDefault();
      this.active = (this.active + step + this.shown.length) % this.shown.length;
      this.markActive();
    } else if (event.key === "Enter") {
      event.preventDefault(); // the composer's form must not send
      if (this.active >= 0) this.pick(this.active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      this.toggle(false);
      this.addButton.focus();
    }
  }

  pick(index) {
    const { provider, model } = this.shown[index];
    this.extra.push({ key: this.nextKey(provider), provider, model });
    this.toggle(false);
    this.addButton.focus();
    this.onChange();
  }

  /** The first free "name#N" (N from 2): the provider's own chip is the column keyed "name". */
  nextKey(provider) {
    const used = new Set(this.extra.map((column) => column.key));
    let n = 2;
    while (used.has(`${provider}#${n}`)) n += 1;
    return `${provider}#${n}`;
  }

  remove(key) {
    this.extra = this.extra.filter((column) => column.key !== key);
    this.onChange();
  }

  /** The added columns, live: the composer's chips show them and their settings write into them. */
  added() { return this.extra; }

  /** The added columns as a send's `columns` take them: {key, provider, model, own settings}. */
  columns() {
    return this.extra.map((column) => Object.fromEntries(Object.entries(column)
      .filter(([name, value]) => !PARAMS.includes(name) || (value !== "" && value != null))));
  }

  /** Shows a conversation's added columns (its default columns that are not a provider's own chip). */
  setColumns(columns) {
    const known = new Set(this.providers.map((provider) => provider.name));
    this.extra = (columns || []).filter((c) => c.key !== c.provider && known.has(c.provider) && c.model)
      .map((c) => ({ key: c.key, provider: c.provider, model: c.model,
        ...Object.fromEntries(PARAMS.filter((name) => c[name] != null).map((name) => [name, c[name]])) }));
  }
}
