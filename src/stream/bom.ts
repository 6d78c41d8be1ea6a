// The UTF-8 byte order mark at the start of an input is encoding noise, not data (spreadsheets
// write one before CSV, some editors before JSON): the one place that recognises it, for the
// line splitter, the CSV reader, the ledger's scanner and the privacy policy.

/** The first bytes of `buf` that are a BOM: 3, 0 when there is none, or -1 when `buf` is a BOM's start (fewer than 3 bytes) and more may come (not `final`). */
export function bomLength(buf: Uint8Array, final = false): 3 | 0 | -1 {
  if (buf.length >= 3) return buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  if (final) return 0;
  const head = [0xef, 0xbb];
  for (let i = 0; i < buf.length; i++) if (buf[i] !== head[i]) return 0;
  return -1;
}

/** Decoded text with a leading BOM blanked to a space, so offsets (line:column) stay those of the file. */
export function blankBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? ' ' + text.slice(1) : text;
}
