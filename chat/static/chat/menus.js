// The page's drop-down menus (a <details class="menu">): when they close.

/** Closes every open menu under `root` but `except`. */
export function closeMenus(root, except = null) {
  for (const menu of root.querySelectorAll("details.menu[open]")) if (menu !== except) menu.open = false;
}

/**
 * Menus close after a choice, on Escape, on a click elsewhere, and when a dialog opens: an open
 * menu never stays over what the choice led to.
 */
export function closeMenusOnChoice(doc) {
  doc.addEventListener("click", (event) => {
    const item = event.target.closest(".menu-item");
    if (item && !item.matches("label")) closeMenus(doc);  // the import label closes once a file is chosen
  });
  doc.addEventListener("pointerdown", (event) => closeMenus(doc, event.target.closest("details.menu")));
  doc.addEventListener("keydown", (event) => { if (event.key === "Escape") closeMenus(doc); });
  for (const dialog of doc.querySelectorAll("dialog")) {
    new MutationObserver(() => { if (dialog.open) closeMenus(doc); }).observe(dialog, { attributes: true,
      attributeFilter: ["open"] });
  }
}
