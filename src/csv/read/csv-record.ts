// One complete CSV record (RFC 4180: quoted cells may hold the delimiter, doubled quotes and
// line breaks) split into cells, for import-csv's records that hold a quote. csv-parse's sync
// API took 47% of import-csv's profile on job 1's CSV (70% of its rows hold a quote) and kept
// it at ~0.35x Miller's speed; this split gives the same cells for every well-formed record and
// returns null for anything else, which then goes through csv-parse for its diagnostics.

/**
 * The cells of `text` (one record, without its final line break), or null when it is not
 * well formed: a line break inside an unquoted cell, text after a closing quote, an unclosed
 * quote, and (strict) a quote inside an unquoted cell; lenient, such a quote is a literal
 * character, as Python's csv module and spreadsheets read it (`37"N`).
 * `delimiter` and `quote` are one UTF-16 unit each (cli/options.ts charOption checks that).
 */
export function splitQuotedRecord(text: string, delimiter: string, quote: string, lenient = false): string[] | null {
  const d = delimiter.charCodeAt(0);
  const q = quote.charCodeAt(0);
  const cells: string[] = [];
  const n = text.length;
  // The next quote at or after i; unquoted cells before it need no quote check of their own.
  let nextQuote = text.indexOf(quote);
  if (nextQuote === -1) nextQuote = n;
  // A line break outside quotes would be two records: not ours to split.
  let nextNl = text.indexOf('\n');
  if (nextNl === -1) nextNl = n;
  let i = 0;
  for (;;) {
    if (i === nextQuote && i < n) {
      // A quoted cell: runs to the quote that is not doubled.
      let cell = '';
      let seg = i + 1;
      for (;;) {
        const k = text.indexOf(quote, seg);
        if (k === -1) return null;
        if (text.charCodeAt(k + 1) === q) {
          cell += text.slice(seg, k + 1);
          seg = k + 2;
          continue;
        }
        cell += text.slice(seg, k);
        i = k + 1;
        break;
      }
      cells.push(cell);
      nextQuote = text.indexOf(quote, i);
      if (nextQuote === -1) nextQuote = n;
      if (nextNl < i) {
        nextNl = text.indexOf('\n', i);
        if (nextNl === -1) nextNl = n;
      }
      if (i === n) return cells;
      if (text.charCodeAt(i) !== d) return null;
      i++;
      continue;
    }
    let end = text.indexOf(delimiter, i);
    if (end === -1) end = n;
    if (nextNl < end) return null;
    if (nextQuote < end) {
      if (!lenient) return null;
      nextQuote = text.indexOf(quote, end);
      if (nextQuote === -1) nextQuote = n;
    }
    cells.push(text.slice(i, end));
    if (end === n) return cells;
    i = end + 1;
  }
}
