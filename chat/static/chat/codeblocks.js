// A "Copy code" button on every code block of rendered Markdown (the server's sanitised HTML).
// The buttons are built with DOM calls; what they copy is the code's text, never HTML.

import { copyText, el, iconButton } from "./dom.js";

/** Gives each `<pre>` under `root` that has none yet a copy button; `announce` tells screen readers. */
export function addCodeCopyButtons(root, announce) {
  for (const pre of root.querySelectorAll("pre")) {
    if (pre.parentElement.classList.contains("code-block")) continue;
    const block = el("div", { class: "code-block" });
    const button = iconButton("i-copy", "Copy code", () => copyCode(pre, button, announce), "copy-code");
    pre.replaceWith(block);
    block.append(pre, button);
  }
}

async function copyCode(pre, button, announce) {
  await copyText((pre.querySelector("code") || pre).textContent);
  const use = button.querySelector("use");
  button.classList.add("done");
  use.setAttribute("href", "#i-check");
  announce("Code copied");
  setTimeout(() => {
    button.classList.remove("done");
    use.setAttribute("href", "#i-copy");
  }, 1500);
}
