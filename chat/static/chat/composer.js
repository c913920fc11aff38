// The composer: which providers and models, the generation settings, and the message box.
//
// The picks are remembered twice: as the user's default (GET/PATCH /api/chat/preferences, so any
// browser gets them) and on the conversation (default_providers / default_models / default_params).
// Each column (provider) may have its own temperature, max tokens and system prompt; a setting
// the provider's kind does not send (its "accepts" list) is shown disabled, with the reason.
// A provider's chip is its first column; further columns of any provider come from the column
// picker (column-picker.js). Every change is reported to `onChange` (the live cost estimate).

import { ColumnPicker } from "./column-picker.js";
import { el } from "./dom.js";

export class Composer {
  /**
   * @param {HTMLFormElement} form
   * @param {{userId: string, onSend: Function}} options
   */
  constructor(form, { onSend, onContextMode, onChange = () => {} }) {
    this.form = form;
    this.onSend = onSend;
    this.onChange = onChange;
    this.columnPicker = new ColumnPicker(form.querySelector(".provider-picker"), { onChange });
    form.addEventListener("input", () => onChange());
    form.addEventListener("change", () => onChange());
    this.userDefault = null;
    this.providers = [];
    this.columnsEl = form.querySelector("#column-settings");
    this.list = form.querySelector("#provider-list");
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

    form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    this.message.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey
          && !event.metaKey) {
        event.preventDefault();
        this.submit();
      }
    });
    this.message.addEventListener("input", () => this.autosize());
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
    this.list.replaceChildren(...providers.map((provider) => this.providerChip(provider)));
    this.columnsEl.replaceChildren(...providers.map((provider) => this.columnSettings(provider)));
  }

  /** One provider's own settings: shown while it is picked. */
  columnSettings(provider) {
    const name = provider.name;
    const accepts = new Set(provider.accepts || ["temperature", "max_tokens", "system_prompt"]);
    const id = `col-${name}`;
    const field = (key, label, input) => {
      const ignored = !accepts.has(key);
      input.disabled = ignored;
      const hint = ignored ? el("span", { class: "field-hint ignored", id: `${input.id}-hint` },
        `Not sent: ${name} ignores this setting.`) : "";
      if (ignored) input.setAttribute("aria-describedby", `${input.id}-hint`);
      return el("div", { class: "field", "data-param": key }, el("label", { for: input.id }, label), input, hint);
    };
    const row = el("fieldset", { class: "column-settings-row", "data-provider": name, hidden: true },
      el("legend", {}, name),
      field("temperature", `Temperature for ${name}`, el("input", { type: "number", id: `${id}-temperature`, min: "0",
        max: "2", step: "0.1", placeholder: "As above", inputmode: "decimal", "data-key": "temperature" })),
      field("max_tokens", `Max tokens for ${name}`, el("input", { type: "number", id: `${id}-max-tokens`, min: "1",
        step: "1", placeholder: "As above", inputmode: "numeric", "data-key": "max_tokens" })),
      field("system_prompt", `System prompt for ${name}`, el("textarea", { id: `${id}-system-prompt`, rows: "1",
        placeholder: "The conversation's", "data-key": "system_prompt" })));
    for (const input of row.querySelectorAll("[data-key]")) input.addEventListener("input", () => this.renderSummary());
    return row;
  }

  columnRow(name) { return this.columnsEl.querySelector(`.column-settings-row[data-provider="${CSS.escape(name)}"]`); }

  /** A column's settings as sent: numbers as numbers, empty ones and ignored ones left out. */
  columnParams(name) {
    const params = {};
    for (const input of this.columnRow(name)?.querySelectorAll("[data-key]") || []) {
      if (input.disabled || input.value.trim() === "") continue;
      params[input.dataset.key] = input.dataset.key === "system_prompt" ? input.value : Number(input.value);
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
    const chip = el("div", { class: "provider-chip", "data-provider": provider.name },
      checkbox, el("label", { for: id, class: "provider-label" }, provider.name),
      el("label", { for: `${id}-model`, class: "sr-only" }, `Model for ${provider.name}`), model,
      el("datalist", { id: listId }, ...(provider.models || []).map((name) => el("option", { value: name }))));
    return chip;
  }

  setPicked(name, on) {
    this.chip(name).classList.toggle("on", on);
    const row = this.columnRow(name);
    if (row) row.hidden = !on;
  }

  chip(name) { return this.list.querySelector(`.provider-chip[data-provider="${CSS.escape(name)}"]`); }

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
    this.renderSummary();
    this.onChange();
  }

  /** The current picks, in the shape of the conversation's default_* fields. */
  picks() {
    const providers = [];
    const models = {};
    for (const chip of this.list.querySelectorAll(".provider-chip")) {
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
      contextMode: this.contextMode.value };
  }

  /** The user's default picks, from the server: {providers, models, params, context_mode}. */
  setUserDefault(preferences) { this.userDefault = preferences || null; }

  renderSummary() {
    const parts = [];
    if (this.temperature.value !== "") parts.push(`temperature ${this.temperature.value}`);
    if (this.maxTokens.value !== "") parts.push(`${this.maxTokens.value} tokens max`);
    if (this.systemPrompt.value.trim()) parts.push("system prompt");
    if (this.contextMode.value === "chosen") parts.push("follow-ups see the chosen reply");
    const own = [...this.columnsEl.querySelectorAll(".column-settings-row:not([hidden])")]
      .filter((row) => [...row.querySelectorAll("[data-key]")].some((i) => !i.disabled && i.value.trim()))
      .map((row) => row.dataset.provider);
    if (own.length) parts.push(`own settings: ${own.join(", ")}`);
    this.summary.textContent = parts.length ? `· ${parts.join(", ")}` : "";
  }

  validate(picks, text) {
    if (!text.trim()) return "Write a message first.";
    if (!picks.columns.length) return "Pick at least one provider.";
    if (picks.columns.length > 8) return "A turn has at most 8 columns.";
    const t = picks.params.temperature;
    if (t !== undefined && (Number.isNaN(t) || t < 0 || t > 2)) return "Temperature must be between 0 and 2.";
    const m = picks.params.max_tokens;
    if (m !== undefined && (!Number.isInteger(m) || m < 1)) return "Max tokens must be a whole number above 0.";
    for (const [name, own] of Object.entries(picks.providerParams)) {
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
    this.busy = true;
    this.sendButton.disabled = true;
    try {
      await this.onSend(text, picks);
      this.message.value = "";
      this.autosize();
    } catch (error) {
      this.showError(error.message || "Sending failed.");
    } finally {
      this.busy = false;
      this.sendButton.disabled = false;
      this.message.focus();
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
}
