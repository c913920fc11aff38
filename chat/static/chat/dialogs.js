// Modal dialogs that ask a question: open one, wait for the button that closed it.

/** Opens a modal dialog and resolves with the value of the button that closed it ("cancel" on Escape). */
export function ask(dialog, focusTarget) {
  const opener = document.activeElement;
  dialog.returnValue = "cancel";
  dialog.showModal();
  focusTarget.focus();
  if (focusTarget.select) focusTarget.select();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      if (opener && opener.isConnected) opener.focus();
      resolve(dialog.returnValue);
    }, { once: true });
  });
}
