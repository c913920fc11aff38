// The open last block of a streaming reply, shown in the shape it is taking. Its text is not
// Markdown-rendered here (the server renders every block once it is finished); it is only laid
// out: an open code fence as a code block of the text so far, and a table, once its header and
// delimiter rows have arrived, as a table of its cells' text. Everything else stays plain text.
// Only Text nodes and elements built here reach the page: the text is never parsed as HTML.

import { el } from "./dom.js";

// CommonMark: up to 3 spaces, three or more backticks or tildes, an info string, the line's end.
const FENCE_OPENER = /^ {0,3}(`{3,}|~{3,})([^\n`]*)\n/;
const DELIMITER_ROW = /^ {0,3}\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

/** The cells of a table row: split at pipes that are not escaped, the outer ones dropped. */
function cells(line) {
  const trimmed = line.trim().replace(/^\|/, "").replace(/(?<!\\)\|$/, "");
  return trimmed.split(/(?<!\\)\|/).map((cell) => cell.trim().replace(/\\\|/g, "|"));
}

function tableShape(text) {
  const lines = text.split("\n");
  if (lines.length < 3 || !lines[0].includes("|") || !DELIMITER_ROW.test(lines[1])) return null;
  const head = cells(lines[0]);
  if (cells(lines[1]).length !== head.length) return null;
  return { head, rows: lines.slice(2).filter((line) => line.trim()).map(cells) };
}

/**
 * @param {HTMLElement} container  the reply's .stream-text
 * @param {Text} textNode  where plain text goes
 */
export function openTail(container, textNode) {
  let text = "";
  let mode = "plain";
  let code = null;  // in "fence" mode: the Text node inside <pre><code>, and the opener's length
  let codeFrom = 0;

  const show = (node, kind) => {
    mode = kind;
    container.classList.toggle("shaped", kind !== "plain");
    container.classList.toggle("md", kind !== "plain");
    container.replaceChildren(node);
  };

  const render = (plain) => {
    const fence = plain ? null : text.match(FENCE_OPENER);
    if (fence) {
      codeFrom = fence[0].length;
      code = document.createTextNode(text.slice(codeFrom));
      const language = fence[2].trim().split(/\s+/)[0];
      // The box of the server's finished code block (codeblocks.js), so it does not jump when that replaces it.
      const block = el("div", { class: "code-block" },
        el("pre", {}, el("code", language ? { "data-language": language } : {}, code)));
      show(block, "fence");
      return;
    }
    const table = plain ? null : tableShape(text);
    if (table) {
      const row = (values, tag) => el("tr", {}, ...table.head.map((_, i) => el(tag, {}, values[i] ?? "")));
      show(el("table", {}, el("thead", {}, row(table.head, "th")),
        el("tbody", {}, ...table.rows.map((values) => row(values, "td")))), "table");
      return;
    }
    textNode.data = text;
    if (mode !== "plain") show(textNode, "plain");
  };

  return {
    get text() { return text; },
    /** The whole open tail; `plain` shows it as text whatever its shape (an ended reply's own text). */
    set(value, { plain = false } = {}) {
      text = value;
      render(plain);
    },
    append(more) {
      text += more;
      // Inside an open fence, nothing but a closing line changes its shape: the code just grows.
      if (mode === "fence") code.appendData(more);
      else if (mode === "plain" && !more.includes("\n") && !text.includes("\n")) textNode.appendData(more);
      else render(false);
    },
  };
}
