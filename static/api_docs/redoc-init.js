// Starts ReDoc on /api/redoc/ from a script file (script-src 'self'). ReDoc's styled-components put
// its styles in <style> elements that carry this script's CSP nonce (redoc-nonce.js covers the rest).
const container = document.getElementById("redoc-container");
Redoc.init(container.dataset.schemaUrl, { nonce: document.currentScript.nonce }, container);
