// A column's colour follows the column, not its place: a hash of its key (a provider's own column is
// keyed by the provider's name, an added one "name#2"…), so a column has the same colour in the
// composer's chip and in every turn, whichever columns sit beside it.

const TINTS = 8;

/** The colour index (0…7) of a column key: a small stable hash of it. */
export function tintOf(name) {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return String(hash % TINTS);
}
