// Importing conversations from a file (webox's export, ChatGPT's, Open WebUI's), from the sidebar's
// menu; says what was imported and what had no place here.

export class ImportFile {
  /**
   * @param {HTMLElement} root  the sidebar
   * @param {{api: Api, onImported: Function}} options  `onImported`: reloads the list
   */
  constructor(root, { api, onImported }) {
    this.api = api;
    this.onImported = onImported;
    this.input = root.querySelector("#import-file");
    this.status = root.querySelector("#import-status");
    this.input.addEventListener("change", () => this.importChosen());
  }

  async importChosen() {
    const [file] = this.input.files;
    if (!file) return;
    this.input.closest("details").open = false;
    this.status.classList.remove("error");
    this.status.textContent = `Importing ${file.name}…`;
    this.status.hidden = false;
    try {
      const result = await this.api.importFile(file);
      const count = result.conversations.length;
      let status = `Imported ${count} conversation${count === 1 ? "" : "s"}.`;
      if (result.not_imported_count) {
        // A peer's file (ChatGPT, Open WebUI): say what had no place here rather than drop it quietly.
        const kinds = [...new Set(result.not_imported.map((entry) => entry.what))];
        const parts = result.not_imported_count === 1 ? "1 part" : `${result.not_imported_count} parts`;
        status += ` Not imported: ${parts} (${kinds.slice(0, 5).join(", ")}${kinds.length > 5 ? ", …" : ""}).`;
      }
      this.status.textContent = status;
      await this.onImported();
    } catch (error) {
      this.status.classList.add("error");
      this.status.textContent = `Nothing imported: ${error.message}`;
    } finally {
      this.input.value = "";
    }
  }
}
