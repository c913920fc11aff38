// Starts ReDoc on /api/redoc/ from a script file (script-src 'self'). ReDoc's styled-components put
// its styles in <style> elements that carry this script's CSP nonce, so style-src needs no 'unsafe-inline'.
const container = document.getElementById("redoc-container");
Redoc.init(container.dataset.schemaUrl, { nonce: document.currentScript.nonce }, container);
