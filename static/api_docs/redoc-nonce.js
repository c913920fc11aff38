// Loaded before ReDoc's bundle on /api/redoc/: every <style> element that the bundle inserts while it
// loads and renders gets this page's CSP nonce, so style-src needs no 'unsafe-inline' and no hash of
// each stylesheet. Only scripts the CSP already trusts insert elements this way; a <style> in
// injected HTML would still have no nonce.
(() => {
  const nonce = document.currentScript.nonce;
  const withNonce = (node) => {
    if (node instanceof HTMLStyleElement && !node.nonce) node.nonce = nonce;
    return node;
  };
  for (const name of ["appendChild", "insertBefore"]) {
    const original = Node.prototype[name];
    Node.prototype[name] = function insertWithNonce(node, ...rest) {
      return original.call(this, withNonce(node), ...rest);
    };
  }
})();
