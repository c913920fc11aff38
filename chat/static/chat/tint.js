// A column's colour follows its provider, not its place: the same provider has the same colour in
// the composer's chip and in every turn, whichever columns sit beside it.

const TINTS = 8;

/** The colour index (0…7) of a provider name: a small stable hash of it. */
export function tintOf(name) {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return String(hash % TINTS);
}
