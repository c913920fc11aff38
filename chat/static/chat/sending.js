// Sending a message from the composer, and keeping its picks: on the conversation (its defaults, its
// system prompt and context mode) and as the user's default for a new chat.

export class Sending {
  /** @param {ChatPage} page  the open conversation, its composer, thread, sidebar and socket */
  constructor(page) {
    this.page = page;
  }

  /** The body of a send (and of its estimate): the turn's columns, the shared settings. */
  payload(text, picks) {
    const page = this.page;
    const columns = page.continuing.withHistory(picks.columns);
    const payload = { message: text, columns, system_prompt: picks.systemPrompt, ...picks.params };
    if (page.conversation) payload.conversation_id = page.conversation.id;
    if (picks.attachments?.length) payload.attachments = picks.attachments;
    return payload;
  }

  /** The estimate's body: the send as it stands, or null while a column has no model yet. */
  estimatePayload() {
    const composer = this.page.composer;
    const picks = composer.picks();
    if (!picks.columns.length || picks.columns.some((column) => !column.model)) return null;
    return this.payload(composer.message.value, picks);
  }

  async send(text, picks) {
    const page = this.page;
    const result = await page.api.send(this.payload(text, picks));
    page.estimate.schedule(); // the thread grew and the box is emptied
    const conversation = result.conversation;
    const isNew = !page.conversation || page.conversation.id !== conversation.id;
    page.conversation = { ...page.conversation, ...conversation };
    page.setTitle(page.conversation);
    // The list's preview is the latest message: this one, until a reply has text (the server's on reload).
    page.sidebar.upsert({ ...conversation, preview: text.replace(/\s+/g, " ").trim().slice(0, 160) });
    page.sidebar.setCurrent(conversation.id);
    page.thread.upsertMany([result.user_message, ...result.replies]);
    page.thread.scrollToEnd();
    page.continuing.refresh();
    if (isNew) {
      window.history.pushState({}, "", page.sidebar.url(conversation.id));
      page.live.connect();
    }
    this.rememberPicks(picks);
  }

  /** Stores the picks on the conversation when they differ from what it has. */
  rememberPicks(picks) {
    const page = this.page;
    const c = page.conversation;
    const params = { ...picks.params };
    if (Object.keys(picks.providerParams).length) params.provider_params = picks.providerParams;
    this.rememberUserDefault(picks, params);
    const wanted = { default_providers: picks.providers, default_models: picks.models, default_params: params,
      default_columns: picks.columns };
    const same = JSON.stringify([c.default_providers, c.default_models, c.default_params, c.default_columns])
      === JSON.stringify([wanted.default_providers, wanted.default_models, wanted.default_params,
        wanted.default_columns]);
    const fields = same ? {} : wanted;
    if ((c.system_prompt || "") !== picks.systemPrompt) fields.system_prompt = picks.systemPrompt;
    if ((c.context_mode || "own") !== picks.contextMode) fields.context_mode = picks.contextMode;
    if (!Object.keys(fields).length) return;
    const id = c.id;
    page.api.updateConversation(id, fields)
      .then((updated) => { if (page.conversation && page.conversation.id === id) page.conversation = updated; })
      .catch(() => {});
  }

  /** The latest picks become the user's default for a new chat, on the server. */
  rememberUserDefault(picks, params) {
    const page = this.page;
    const preferences = { providers: picks.providers, models: picks.models, params, context_mode: picks.contextMode,
      columns: picks.columns };
    if (JSON.stringify(preferences) === JSON.stringify(page.composer.userDefault)) return;
    page.composer.setUserDefault(preferences);
    page.api.updatePreferences(preferences).catch(() => {});
  }

  /** The conversation's context mode changed in the settings; a new chat stores it on its first send. */
  setContextMode(mode) {
    const page = this.page;
    page.thread.setContextMode(mode);
    if (!page.conversation) return;
    const id = page.conversation.id;
    page.api.updateConversation(id, { context_mode: mode })
      .then((updated) => { if (page.conversation && page.conversation.id === id) page.conversation = updated; })
      .catch((error) => page.announce(`Could not change the context mode: ${error.message}`));
  }
}
