// Fuse (docs/compare.md, "Fuse"): a turn's "Fuse" button opens a dialog to pick a model, tick the
// replies to combine and see or edit the prompt; the fused reply is a reply of the turn like any
// other (its own column), and shows what it was fused from. turn.js calls `fuseControl(turn)` and
// the control's `refresh()`; nothing else here is shared.

import { Api } from "./api.js";
import { el } from "./dom.js";

let api = null;
function chatApi() {
  if (!api) api = new Api(document.querySelector("[data-api-root]")?.dataset.apiRoot || "/api/chat/");
  return api;
}

function replyName(reply) {
  const message = reply.message || {};
  return `${message.provider || reply.provider} · ${message.model || ""}`;
}

/** The dialog: a model, the replies (ticked: the ones the server fuses by default) and the prompt. */
async function openDialog(turn) {
  const [providers, defaults] = await Promise.all([
    chatApi().providers(), chatApi().request("GET", `messages/${turn.id}/fuse`)]);
  const model = el("select", { id: `fuse-model-${turn.id}`, class: "fuse-model" });
  for (const provider of providers) {
    for (const name of provider.models.length ? provider.models : [provider.default_model]) {
      model.append(el("option", { value: JSON.stringify([provider.name, name]) }, `${provider.name} · ${name}`));
    }
  }
  const finished = turn.replies().filter((r) => r.status === "complete");
  const ticks = finished.map((reply) => {
    const box = el("input", { type: "checkbox", value: String(reply.id) });
    box.checked = defaults.replies.includes(reply.id);
    return el("label", { class: "fuse-source" }, box, ` ${replyName(reply)}`);
  });
  const prompt = el("textarea", { id: `fuse-prompt-${turn.id}`, class: "fuse-prompt", rows: "10" });
  prompt.value = defaults.prompt;
  const error = el("p", { class: "fuse-error", role: "alert" });
  const submit = el("button", { type: "submit", class: "button primary" }, "Fuse");
  const cancel = el("button", { type: "button", class: "button ghost" }, "Cancel");
  const form = el("form", { method: "dialog" },
    el("h2", {}, "Fuse replies"),
    el("label", { for: model.id }, "Model"), model,
    el("fieldset", { class: "fuse-sources" }, el("legend", {}, "Replies"), ...ticks),
    el("label", { for: prompt.id }, "Prompt ({question} and {replies} are filled in)"), prompt,
    error, el("div", { class: "modal-actions" }, cancel, submit));
  const dialog = el("dialog", { class: "modal fuse-dialog", "aria-label": "Fuse replies" }, form);
  cancel.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => dialog.remove());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const [provider, modelName] = JSON.parse(model.value || "[null, null]");
    const replies = ticks.map((t) => t.querySelector("input")).filter((b) => b.checked).map((b) => Number(b.value));
    submit.disabled = true;
    try {
      const result = await chatApi().request("POST", `messages/${turn.id}/fuse`,
        { provider, model: modelName, replies, prompt: prompt.value });
      turn.thread.upsert(result.reply);
      dialog.close();
    } catch (failure) {
      error.textContent = failure.message;
      submit.disabled = false;
    }
  });
  document.body.append(dialog);
  dialog.showModal();
}

/** A fused reply's provenance, above its text: the replies it combines and the prompt it was sent. */
function showProvenance(turn, reply) {
  const fuse = reply.message?.fuse;
  if (!fuse || reply.element.querySelector(".fuse-provenance")) return;
  const names = fuse.sources.map((id) => {
    const source = turn.replies().find((r) => r.id === id);
    return source ? replyName(source) : `reply ${id}`;
  });
  const details = el("details", { class: "fuse-provenance" },
    el("summary", {}, `Fused from ${names.join(", ")}`), el("pre", { class: "fuse-sent" }, fuse.prompt));
  reply.headEl.after(details);
}

export function fuseControl(turn) {
  const button = el("button", { type: "button", class: "button ghost small fuse-turn", hidden: true }, "Fuse");
  button.addEventListener("click", () => openDialog(turn).catch((failure) => turn.thread.announce(
    `Could not open fuse: ${failure.message}`)));
  (turn.element.querySelector(".turn-head") || turn.element).append(button);
  return {
    refresh() {
      const replies = turn.replies();
      button.hidden = !replies.some((r) => r.status === "complete") || replies.some((r) => r.active);
      for (const reply of replies) showProvenance(turn, reply);
    },
  };
}
