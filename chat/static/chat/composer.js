// The composer: which columns (provider and model), the generation settings, and the message box.
//
// The picks are remembered twice: as the user's default (GET/PATCH /api/chat/preferences, so any
// browser gets them) and on the conversation (default_providers / default_models / default_params).
// A chip is a column (provider, model, own settings, key): each provider's own chip (keyed by its
// name, picked with its checkbox) and the columns added from the column picker (column-picker.js:
// any model of any provider, several of one provider, each removable), all in one bar. Each column
// may have its own temperature, max tokens and system prompt, in a popover opened from its chip; a
// setting the provider's kind does not send (its "accepts" list) is shown disabled, with the reason.
// The conversation's settings are a popover too. Popovers open above the composer and close on
// Send, Escape or a click elsewhere, so the composer stays one bar and a message box. Every change
// is reported to `onChange` (the live cost estimate).

import { AttachmentTray } from "./attachments.js";
import { ColumnPicker } from "./column-picker.js";
import { el, iconButton } from "./dom.js";
import { Popovers } from "./popovers.js";
import { tintOf } from "./tint.js";

// Within this share of the limit the composer shows a counter; past it, sending is refused in words.
const COUNTER_FROM = 0.9;

export class Composer {
  /**
   * @param {HTMLFormElement} form
   * @param {{userId: string, onSend: Function}} options
   */
  constructor(form, { onSend, onContextMode, maxChars, onChange = () => {} }) {
    this.form = form;
    this.maxChars = maxChars;
    this.limitEl = form.querySelector("#message-limit");
    this.popovers = new Popovers(form);
    this.popovers.register(form.querySelector("#settings-button"), form.querySelector("#settings"));
    this.onSend = onSend;
    // A change of the picks is said again: to the estimate, and to the tray's note on images.
    this.onChange = () => { onChange(); this.attachments.renderVisionNote(); };
    this.columnPicker = new ColumnPicker(form.querySelector(".provider-picker"),
      { onChange: () => { this.renderAdded(); this.onChange(); } });
    form.addEventListener("input", () => onChange());
    form.addEventListener("change", () => onChange());
    this.userDefault = null;
    this.providers = [];
    this.columnsEl = form.querySelector("#column-settings");
    this.list = form.querySelector("#provider-list");
    // The added columns' chips and popovers, after the providers' own.
    this.addedChips = el("span", { class: "added-columns" });
    this.addedPopovers = el("div", { class: "column-settings" });
    this.message = form.querySelector("#message");
    this.temperature = form.querySelector("#temperature");
    this.maxTokens = form.querySelector("#max-tokens");
    this.systemPrompt = form.querySelector("#system-prompt");
    this.contextMode = form.querySelector("#context-mode");
    this.contextMode.addEventListener("change", () => { this.renderSummary(); onContextMode(this.contextMode.value); });
    this.summary = form.querySelector("#settings-summary");
    this.error = form.querySelector("#composer-error");
    this.sendButton = form.querySelector("#send-button");
    this.busy = false;
    this.attachments = new AttachmentTray(form, { before: form.querySelector(".composer-row"),
      message: this.message, picks: () => this.picks(), onChange });

    form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    this.message.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey
          && !event.metaKey) {
        event.preventDefault();
        this.submit();
      }
    });
    this.message.addEventListener("input", () => { this.autosize(); this.renderLimit(); });
    for (const input of [this.temperature, this.maxTokens, this.systemPrompt]) {
      input.addEventListener("input", () => this.renderSummary());
    }
  }

  setProviders(providers) {
    this.providers = providers;
    this.columnPicker.setProviders(providers);
    if (!providers.length) {
      this.list.replaceChildren(el("span", { class: "muted" }, "No providers are configured. Ask an admin to add one."));
      return;
    }
    this.renderColumns(providers);
  }

  /** The providers' own chips, then the added columns' chips, each with its settings popover. */
  renderColumns(providers) {
    this.popovers.forget(this.columnsEl);
    this.list.replaceChildren(...providers.map((provider) => this.providerChip(provider)), this.addedChips);
    this.columnsEl.replaceChildren(...providers.map((provider) =>
      this.settingsPopover(this.chip(provider.name), provider, provider.name, provider.name)), this.addedPopovers);
    this.renderAdded();
  }

  /** The added columns' chips (provider · model, settings, remove); their settings live on the column. */
  renderAdded() {
    this.popovers.forget(this.addedPopovers);
    const columns = this.columnPicker.added();
    this.addedChips.replaceChildren(...columns.map((column) => this.addedChip(column)));
    this.addedPopovers.replaceChildren(...columns.map((column) => {
      const provider = this.providers.find((p) => p.name === column.provider) || { name: column.provider };
      const popover = this.settingsPopover(this.chip(column.key), provider, column.key, `column ${column.key}`);
      for (const input of popover.querySelectorAll("[data-key]")) {
        input.value = column[input.dataset.key] ?? "";
        input.addEventListener("input", () => { column[input.dataset.key] = this.paramValue(input); });
      }
      return popover;
    }));
    this.renderSummary();
  }

  addedChip(column) {
    const label = `${column.provider} · ${column.model}`;
    const name = `column ${column.key}`;
    const settings = iconButton("i-sliders", `Settings for ${name}`, () => {}, "column-settings-button");
    const remove = iconButton("i-trash", `Remove column ${label}`, () => this.columnPicker.remove(column.key),
      "remove-column");
    return el("div", { class: "provider-chip column-chip on", "data-column": column.key, "data-provider": column.provider,
      "data-tint": tintOf(column.key), title: label },
    el("span", { class: "provider-label" }, column.provider), el("span", { class: "model-name" }, column.model),
    settings, remove);
  }

  /** A column's settings popover, opened from its chip's slider button. */
  settingsPopover(chip, provider, key, name) {
    const popover = el("div", { class: "popover column-popover", hidden: true, "data-column": key },
      this.columnSettings(provider, key, name));
    this.popovers.register(chip.querySelector(".column-settings-button"), popover);
    return popover;
  }

  /** One column's own settings (`name` says which column in the labels). */
  columnSettings(provider, key, name) {
    const accepts = new Set(provider.accepts || ["temperature", "max_tokens", "system_prompt"]);
    const id = `col-${key.replace(/[^\w-]/g, "-")}`;
    const field = (param, label, input) => {
      const ignored = !accepts.has(param);
      input.disabled = ignored;
      const hint = ignored ? el("span", { class: "field-hint ignored", id: `${input.id}-hint` },
        `Not sent: ${provider.name} ignores this setting.`) : "";
      if (ignored) input.setAttribute("aria-describedby", `${input.id}-hint`);
      return el("div", { class: "field", "data-param": param }, el("label", { for: input.id }, label), input, hint);
    };
    const row = el("fieldset", { class: "column-settings-row", "data-column": key, "data-provider": provider.name },
      el("legend", {}, `${name}'s own settings`),
      field("temperature", `Temperature for ${name}`, el("input", { type: "number", id: `${id}-temperature`, min: "0",
        max: "2", step: "0.1", placeholder: "As above", inputmode: "decimal", "data-key": "temperature" })),
      field("max_tokens", `Max tokens for ${name}`, el("input", { type: "number", id: `${id}-max-tokens`, min: "1",
        step: "1", placeholder: "As above", inputmode: "numeric", "data-key": "max_tokens" })),
      field("system_prompt", `System prompt for ${name}`, el("textarea", { id: `${id}-system-prompt`, rows: "1",
        placeholder: "The conversation's", "data-key": "system_prompt" })));
    for (const input of row.querySelectorAll("[data-key]")) input.addEventListener("input", () => this.renderSummary());
    return row;
  }

  columnRow(key) { return this.form.querySelector(`.column-settings-row[data-column="${CSS.escape(key)}"]`); }

  /** A setting as sent: a number as a number, the system prompt as text, an empty or ignored one as "". */
  paramValue(input) {
    if (input.disabled || input.value.trim() === "") return "";
    return input.dataset.key === "system_prompt" ? input.value : Number(input.value);
  }

  /** A column's settings as sent: empty ones and ignored ones left out. */
  columnParams(key) {
    const params = {};
    for (const input of this.columnRow(key)?.querySelectorAll("[data-key]") || []) {
      const value = this.paramValue(input);
      if (value !== "") params[input.dataset.key] = value;
    }
    return params;
  }

  providerChip(provider) {
    const id = `provider-${provider.name}`;
    const checkbox = el("input", { type: "checkbox", id, name: "providers", value: provider.name });
    checkbox.addEventListener("change", () => this.setPicked(provider.name, checkbox.checked));
    // A combobox: the endpoint's models as suggestions, any other name can be typed.
    const listId = `${id}-models`;
    const model = el("input", { id: `${id}-model`, class: "model-select", list: listId,
      value: provider.default_model || (provider.models || [])[0] || "", placeholder: "model", autocomplete: "off",
      spellcheck: "false", title: provider.default_model || "" });
    model.addEventListener("input", () => { model.title = model.value; });
    const settings = iconButton("i-sliders", `Settings for ${provider.name}`, () => {}, "column-settings-button");
    settings.setAttribute("aria-expanded", "false");
    const chip = el("div", { class: "provider-chip", "data-provider": provider.name, "data-column": provider.name,
      "data-tint": tintOf(provider.name) },
      checkbox, el("label", { for: id, class: "provider-label" }, provider.name),
      el("label", { for: `${id}-model`, class: "sr-only" }, `Model for ${provider.name}`),
      el("span", { class: "model-field" }, model),
      el("datalist", { id: listId }, ...(provider.models || []).map((name) => el("option", { value: name }))),
      settings);
    return chip;
  }

  setPicked(name, on) {
    const chip = this.chip(name);
    chip.classList.toggle("on", on);
    // Only a picked column has settings to set.
    const button = chip.querySelector(".column-settings-button");
    button.hidden = !on;
    if (!on) this.popovers.close();
  }

  /** A column's chip, by its key (a provider's own chip: its name). */
  chip(key) { return this.list.querySelector(`.provider-chip[data-column="${CSS.escape(key)}"]`); }

  /** Shows the picks of a conversation, else the user's default, else the first provider. */
  applyDefaults(conversation) {
    const saved = this.userDefault && Array.isArray(this.userDefault.providers) && this.userDefault.providers.length
      ? { ...this.userDefault, contextMode: this.userDefault.context_mode } : null;
    const fromConversation = conversation && conversation.default_providers && conversation.default_providers.length;
    const picks = fromConversation
      ? { providers: conversation.default_providers, models: conversation.default_models || {},
          params: conversation.default_params || {} }
      : saved || { providers: this.providers.slice(0, 1).map((p) => p.name), models: {}, params: {} };
    for (const provider of this.providers) {
      const chip = this.chip(provider.name);
      const checked = picks.providers.includes(provider.name);
      chip.querySelector("input[type=checkbox]").checked = checked;
      this.setPicked(provider.name, checked);
      const wanted = (picks.models || {})[provider.name];
      const model = chip.querySelector(".model-select");
      model.value = wanted || provider.default_model || (provider.models || [])[0] || "";
      model.title = model.value;
      const own = ((picks.params || {}).provider_params || {})[provider.name] || {};
      for (const input of this.columnRow(provider.name).querySelectorAll("[data-key]")) {
        input.value = own[input.dataset.key] ?? "";
      }
    }
    const params = picks.params || {};
    this.temperature.value = params.temperature ?? "";
    this.maxTokens.value = params.max_tokens ?? "";
    this.systemPrompt.value = conversation ? conversation.system_prompt || "" : "";
    this.contextMode.value = conversation ? conversation.context_mode || "own" : picks.contextMode || "own";
    this.columnPicker.setColumns(fromConversation ? conversation.default_columns : (saved || {}).columns);
    this.renderAdded();
    this.onChange();
  }

  /** Leaves only this column picked: a provider's own chip, or an added column (added if missing). */
  keepOnly({ key, provider, model }) {
    for (const chip of this.list.querySelectorAll(".provider-chip:not(.column-chip)")) {
      const on = chip.dataset.column === key;
      chip.querySelector("input[type=checkbox]").checked = on;
      this.setPicked(chip.dataset.provider, on);
      if (on && model) chip.querySelector(".model-select").value = model;
    }
    const picker = this.columnPicker;
    picker.extra = picker.extra.filter((column) => column.key === key);
    if (key !== provider && !picker.extra.length) picker.extra.push({ key, provider, model });
    this.renderAdded();
    this.onChange();
  }

  /** The current picks, in the shape of the conversation's default_* fields. */
  picks() {
    const providers = [];
    const models = {};
    for (const chip of this.list.querySelectorAll(".provider-chip:not(.column-chip)")) {
      const name = chip.dataset.provider;
      const model = chip.querySelector(".model-select").value.trim();
      if (chip.querySelector("input[type=checkbox]").checked) {
        providers.push(name);
        if (model) models[name] = model;
      }
    }
    const params = {};
    if (this.temperature.value !== "") params.temperature = Number(this.temperature.value);
    if (this.maxTokens.value !== "") params.max_tokens = Number(this.maxTokens.value);
    const providerParams = {};
    for (const name of providers) {
      const own = this.columnParams(name);
      if (Object.keys(own).length) providerParams[name] = own;
    }
    // The send's columns: each picked provider's chip (keyed by its name), then the added ones.
    const columns = [...providers.map((name) => ({ key: name, provider: name, model: models[name],
      ...(providerParams[name] || {}) })), ...this.columnPicker.columns()];
    return { providers, models, params, providerParams, columns, systemPrompt: this.systemPrompt.value,
      contextMode: this.contextMode.value, attachments: this.attachments.uploadedIds() };
  }

  /** The user's default picks, from the server: {providers, models, params, context_mode}. */
  setUserDefault(preferences) { this.userDefault = preferences || null; }

  renderSummary() {
    const parts = [];
    if (this.temperature.value !== "") parts.push(`temperature ${this.temperature.value}`);
    if (this.maxTokens.value !== "") parts.push(`${this.maxTokens.value} tokens max`);
    if (this.systemPrompt.value.trim()) parts.push("system prompt");
    if (this.contextMode.value === "chosen") parts.push("follow-ups see the chosen reply");
    for (const chip of this.list.querySelectorAll(".provider-chip")) {
      const row = this.columnRow(chip.dataset.column);
      const own = row && [...row.querySelectorAll("[data-key]")].some((i) => !i.disabled && i.value.trim());
      chip.classList.toggle("has-own", Boolean(own));
    }
    this.summary.textContent = parts.length ? `· ${parts.join(", ")}` : "";
    this.summary.title = parts.join(", ");
  }

  validate(picks, text) {
    if (!text.trim()) return "Write a message first.";
    const over = this.charCount(text) - this.maxChars;
    if (this.maxChars && over > 0) {
      return `The message is too long: at most ${number(this.maxChars)} characters, this one is ${number(over)} over.`;
    }
    if (!picks.columns.length) return "Pick at least one provider.";
    if (picks.columns.length > 8) return "A turn has at most 8 columns.";
    const t = picks.params.temperature;
    if (t !== undefined && (Number.isNaN(t) || t < 0 || t > 2)) return "Temperature must be between 0 and 2.";
    const m = picks.params.max_tokens;
    if (m !== undefined && (!Number.isInteger(m) || m < 1)) return "Max tokens must be a whole number above 0.";
    for (const own of picks.columns) {
      const name = own.key === own.provider ? own.provider : `column ${own.key}`;
      if (own.temperature !== undefined && (Number.isNaN(own.temperature) || own.temperature < 0 || own.temperature > 2)) {
        return `Temperature for ${name} must be between 0 and 2.`;
      }
      if (own.max_tokens !== undefined && (!Number.isInteger(own.max_tokens) || own.max_tokens < 1)) {
        return `Max tokens for ${name} must be a whole number above 0.`;
      }
    }
    for (const name of picks.providers) {
      if (!picks.models[name]) return `Type a model for ${name}.`;
    }
    return "";
  }

  async submit() {
    if (this.busy) return;
    const picks = this.picks();
    const text = this.message.value;
    const problem = this.validate(picks, text);
    if (problem) { this.showError(problem); return; }
    this.showError("");
    this.popovers.close();
    this.columnPicker.toggle(false);
    this.busy = true;
    this.sendButton.disabled = true;
    try {
      picks.attachments = await this.attachments.ids();
      await this.onSend(text, picks);
      this.attachments.clear();
      this.message.value = "";
      this.autosize();
      this.renderLimit();
    } catch (error) {
      this.showError(error.message || "Sending failed.");
    } finally {
      this.busy = false;
      this.sendButton.disabled = false;
      // Back to the message box, unless the user has moved on (say, to edit a message) meanwhile.
      const active = document.activeElement;
      if (!active || active === document.body || this.form.contains(active)) this.message.focus();
    }
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  autosize() {
    this.message.style.height = "auto";
    this.message.style.height = `${Math.min(this.message.scrollHeight + 2, 240)}px`;
  }

  focus() { this.message.focus(); }

  /** Characters as the server counts them (code points), not UTF-16 units. */
  charCount(text) {
    let count = 0;
    for (const _ of text) count += 1;
    return count;
  }

  /** Near the limit, how many characters are left (or how many too many), in words. */
  renderLimit() {
    if (!this.maxChars) return;
    const text = this.message.value;
    const near = text.length >= this.maxChars * COUNTER_FROM;
    const count = near ? this.charCount(text) : 0;
    const left = this.maxChars - count;
    this.limitEl.hidden = !near;
    this.limitEl.classList.toggle("over", near && left < 0);
    if (!near) return;
    this.limitEl.textContent = left >= 0
      ? `${number(left)} characters left of ${number(this.maxChars)}`
      : `${number(-left)} characters over the limit of ${number(this.maxChars)}: shorten the message to send it`;
  }
}

function number(n) { return n.toLocaleString("en"); }
