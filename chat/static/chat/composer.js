// The composer: which providers and models, the generation settings, and the message box.
//
// The picks are remembered twice: as the user's default (localStorage, per user) and on the
// conversation (default_providers / default_models / default_params through the API).

import { el } from "./dom.js";

export class Composer {
  /**
   * @param {HTMLFormElement} form
   * @param {{userId: string, onSend: Function}} options
   */
  constructor(form, { userId, onSend, onContextMode }) {
    this.form = form;
    this.onSend = onSend;
    this.storageKey = `webox:chat-defaults:${userId}`;
    this.providers = [];
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
    if (!providers.length) {
      this.list.replaceChildren(el("span", { class: "muted" }, "No providers are configured. Ask an admin to add one."));
      return;
    }
    this.list.replaceChildren(...providers.map((provider) => this.providerChip(provider)));
  }

  providerChip(provider) {
    const id = `provider-${provider.name}`;
    const checkbox = el("input", { type: "checkbox", id, name: "providers", value: provider.name });
    checkbox.addEventListener("change", () => chip.classList.toggle("on", checkbox.checked));
    let model;
    if (provider.models && provider.models.length) {
      model = el("select", { id: `${id}-model`, class: "model-select" },
        ...provider.models.map((name) => el("option", { value: name }, name)));
      model.value = provider.default_model || provider.models[0];
    } else {
      model = el("input", { id: `${id}-model`, class: "model-select", value: provider.default_model || "",
        placeholder: "model", autocomplete: "off" });
    }
    const chip = el("div", { class: "provider-chip", "data-provider": provider.name },
      checkbox, el("label", { for: id, class: "provider-label" }, provider.name),
      el("label", { for: `${id}-model`, class: "sr-only" }, `Model for ${provider.name}`), model);
    return chip;
  }

  chip(name) { return this.list.querySelector(`.provider-chip[data-provider="${CSS.escape(name)}"]`); }

  /** Shows the picks of a conversation, else the user's default, else the first provider. */
  applyDefaults(conversation) {
    const saved = this.loadUserDefault();
    const fromConversation = conversation && conversation.default_providers && conversation.default_providers.length;
    const picks = fromConversation
      ? { providers: conversation.default_providers, models: conversation.default_models || {},
          params: conversation.default_params || {} }
      : saved || { providers: this.providers.slice(0, 1).map((p) => p.name), models: {}, params: {} };
    for (const provider of this.providers) {
      const chip = this.chip(provider.name);
      const checked = picks.providers.includes(provider.name);
      chip.querySelector("input[type=checkbox]").checked = checked;
      chip.classList.toggle("on", checked);
      const wanted = (picks.models || {})[provider.name];
      const model = chip.querySelector(".model-select");
      if (wanted && (model.tagName !== "SELECT" || provider.models.includes(wanted))) model.value = wanted;
      else model.value = provider.default_model || (provider.models || [])[0] || "";
    }
    const params = picks.params || {};
    this.temperature.value = params.temperature ?? "";
    this.maxTokens.value = params.max_tokens ?? "";
    this.systemPrompt.value = conversation ? conversation.system_prompt || "" : "";
    this.contextMode.value = conversation ? conversation.context_mode || "own" : picks.contextMode || "own";
    this.renderSummary();
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
    return { providers, models, params, systemPrompt: this.systemPrompt.value, contextMode: this.contextMode.value };
  }

  loadUserDefault() {
    try {
      const value = JSON.parse(window.localStorage.getItem(this.storageKey) || "null");
      return value && Array.isArray(value.providers) ? value : null;
    } catch {
      return null;
    }
  }

  saveUserDefault(picks) {
    try {
      window.localStorage.setItem(this.storageKey,
        JSON.stringify({ providers: picks.providers, models: picks.models, params: picks.params,
          contextMode: picks.contextMode }));
    } catch {
      // Storage full or disabled: the conversation still remembers the picks.
    }
  }

  renderSummary() {
    const parts = [];
    if (this.temperature.value !== "") parts.push(`temperature ${this.temperature.value}`);
    if (this.maxTokens.value !== "") parts.push(`${this.maxTokens.value} tokens max`);
    if (this.systemPrompt.value.trim()) parts.push("system prompt");
    if (this.contextMode.value === "chosen") parts.push("follow-ups see the chosen reply");
    this.summary.textContent = parts.length ? `· ${parts.join(", ")}` : "";
  }

  validate(picks, text) {
    if (!text.trim()) return "Write a message first.";
    if (!picks.providers.length) return "Pick at least one provider.";
    const t = picks.params.temperature;
    if (t !== undefined && (Number.isNaN(t) || t < 0 || t > 2)) return "Temperature must be between 0 and 2.";
    const m = picks.params.max_tokens;
    if (m !== undefined && (!Number.isInteger(m) || m < 1)) return "Max tokens must be a whole number above 0.";
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
      this.saveUserDefault(picks);
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
