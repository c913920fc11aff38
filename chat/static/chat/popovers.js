// The composer's popovers (the conversation's settings, each column's own): one open at a time,
// above the composer and lined up with the button that opened it. Escape, a click elsewhere or
// sending closes it, so nothing stays over the thread.

export class Popovers {
  /** @param {HTMLElement} container  positioned: the popovers are laid out against it */
  constructor(container) {
    this.container = container;
    this.entries = [];
    this.open = null;
    document.addEventListener("pointerdown", (event) => {
      if (this.open && !this.open.popover.contains(event.target) && !this.open.button.contains(event.target)) {
        this.close();
      }
    });
    container.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || !this.open) return;
      event.preventDefault();
      event.stopPropagation();
      const { button } = this.open;
      this.close();
      button.focus();
    });
    window.addEventListener("resize", () => this.close());
  }

  register(button, popover) {
    const entry = { button, popover };
    this.entries.push(entry);
    button.setAttribute("aria-expanded", "false");
    button.addEventListener("click", () => (this.open === entry ? this.close() : this.show(entry)));
  }

  /** Drops the popovers inside `root` (about to be replaced). */
  forget(root) {
    if (this.open && root.contains(this.open.popover)) this.close();
    this.entries = this.entries.filter((entry) => !root.contains(entry.popover));
  }

  show(entry) {
    this.close();
    this.open = entry;
    entry.popover.hidden = false;
    entry.button.setAttribute("aria-expanded", "true");
    const box = this.container.getBoundingClientRect();
    const at = entry.button.getBoundingClientRect();
    const width = entry.popover.offsetWidth;
    const left = Math.max(8, Math.min(at.left - box.left, box.width - width - 8));
    entry.popover.style.left = `${left}px`;
    entry.popover.querySelector("input:not([disabled]), select, textarea")?.focus();
  }

  close() {
    if (!this.open) return;
    this.open.popover.hidden = true;
    this.open.button.setAttribute("aria-expanded", "false");
    this.open = null;
  }
}
