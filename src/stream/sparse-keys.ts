// The wanted keys of the sparse JSON reader (sparse-json.ts): a tree of key paths, each leaf
// numbered with the slot its value is read into.

/** Which keys of one object level to build: a leaf is built as a value, a walk is read into. */
export interface KeyLevel {
  /** Each key as UTF-8 bytes, beside its name and node. */
  bytes: Uint8Array[];
  names: string[];
  nodes: KeyNode[];
  /**
   * The plain keys (no escape) met at each place of the last object read at this level, with
   * their node's index (-1: not wanted): lines of one producer repeat their keys in one order,
   * so a key is checked against one remembered key instead of scanned, then matched (seenKey).
   */
  seen: Uint8Array[];
  seenNode: number[];
}

/** One wanted key: its value is built (leaf), and/or its object's wanted keys are (walk). */
export interface KeyNode {
  leaf: boolean;
  children: KeyLevel | null;
  /** Where its value goes in the scan's values (a leaf). */
  slot: number;
  /** Its descendants' slots, [first, last): cleared at each occurrence of the key (the last one wins). */
  first: number;
  last: number;
}

function newLevel(): KeyLevel {
  return { bytes: [], names: [], nodes: [], seen: [], seenNode: [] };
}

/**
 * The key tree for a list of paths (each a list of keys: the last one's value is built, the
 * ones before are objects walked into). Null when a key is a name every object inherits
 * (`constructor`, `__proto__`…): a record without that key would not read as JSON.parse's does.
 */
export function keyTree(paths: readonly (readonly string[])[]): KeyTree | null {
  const top = newLevel();
  for (const path of paths) {
    let level = top;
    for (let k = 0; k < path.length; k++) {
      const name = path[k]!;
      if (name in Object.prototype || name === '__proto__') return null;
      let at = level.names.indexOf(name);
      if (at === -1) {
        at = level.names.length;
        level.names.push(name);
        level.bytes.push(Buffer.from(name, 'utf8'));
        level.nodes.push({ leaf: false, children: null, slot: -1, first: 0, last: 0 });
      }
      const node = level.nodes[at]!;
      if (k === path.length - 1) node.leaf = true;
      else level = node.children ??= newLevel();
    }
  }
  let slots = 0;
  const number = (level: KeyLevel): void => {
    for (const node of level.nodes) {
      node.slot = slots++;
      node.first = slots;
      if (node.children) number(node.children);
      node.last = slots;
    }
  };
  number(top);
  return { top, slots, slotOf: (path) => slotOf(top, path) };
}

/** A key tree with its slots numbered: a scan fills one value per slot (undefined: absent). */
export interface KeyTree {
  top: KeyLevel;
  slots: number;
  /** The slot of a path given to keyTree. */
  slotOf(path: readonly string[]): number;
}

function slotOf(level: KeyLevel, path: readonly string[]): number {
  let node: KeyNode | undefined;
  for (const name of path) {
    node = level.nodes[level.names.indexOf(name)];
    if (node === undefined) throw new Error(`no slot for ${path.join('.')}`);
    level = node.children!;
  }
  return node!.slot;
}

/** The wanted key the bytes [s, e) of b spell: its index, -1 when none does. */
export function matchKey(level: KeyLevel, b: Uint8Array, s: number, e: number): number {
  const n = e - s;
  const keys = level.bytes;
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    if (key.length !== n) continue;
    let j = 0;
    while (j < n && key[j] === b[s + j]) j++;
    if (j === n) return k;
  }
  return -1;
}

/** Places remembered per level: more keys than this in one object are scanned and matched. */
const SEEN_PLACES = 64;

/**
 * When the key at b[i] (its opening quote) is the plain key remembered at `place` (its bytes,
 * then a quote before `end`): the index after its closing quote. Else -1. The key is then that
 * string exactly (the remembered bytes hold no quote, backslash or control byte).
 */
export function seenKey(level: KeyLevel, place: number, b: Uint8Array, i: number, end: number): number {
  const key = level.seen[place];
  if (key === undefined) return -1;
  const s = i + 1;
  const n = key.length;
  if (s + n >= end || b[s + n] !== 0x22) return -1;
  for (let j = 0; j < n; j++) if (key[j] !== b[s + j]) return -1;
  return s + n + 1;
}

/** Remembers the plain key [s, e) of b met at `place`, and its node's index (-1: not wanted). */
export function rememberKey(level: KeyLevel, place: number, b: Uint8Array, s: number, e: number, node: number): void {
  if (place >= SEEN_PLACES) return;
  // A copy: the line's buffer moves on (a block goes back to the main thread).
  level.seen[place] = b.slice(s, e);
  level.seenNode[place] = node;
}
