// What the sparse reader (sparse-json.ts) tells a caller about each wanted string value it read:
// byte classes the caller asked for (export-csv: which cells need quotes, which may hold a
// secret), and how the string is written (its escapes), so the caller need not loop over
// the text again, nor always have it built: it may copy the string's bytes as they are.

/**
 * Byte classes a caller collects over each wanted string value while it is scanned. The
 * caller's own classes use the bits 0x01-0x08; the reader's are the constants below.
 */
export interface ValueClasses {
  /** Per ASCII code, the bits a string's flags collect (below LOOK); LOOK: ask look() there. */
  classes: Uint8Array;
  /**
   * Whether the byte at i (a LOOK byte, code c) of a string value whose bytes start at `start` is
   * a hit (HIT in its flags). The bytes run on to the string's closing quote, which holds no quote.
   */
  look(bytes: Uint8Array, start: number, i: number, c: number): boolean;
}

/** In ValueClasses.classes: call look() at this byte. In a value's flags: look() said true. */
export const LOOK = 0x40;
/** In a value's flags: the string held an escape; its other flags are not known. */
export const ESCAPED = 0x80;
/** In a value's flags (not ESCAPED): its only escapes were `\"`, and it held at least one. */
export const QUOTES = 0x20;

/**
 * A string value the reader left as bytes (SparseScanner's `raw` slots): its token's place is in
 * the scanner's starts and ends, its flags say how it is written, stringAt(slot) builds it.
 */
export const UNBUILT: unique symbol = Symbol('unbuilt string');
