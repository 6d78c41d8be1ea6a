// The floor: what our runtime needs just to read the file(s), split lines on raw 0x0A bytes and
// JSON.parse each line on its own. Every job is also reported as a multiple of this.
import { openSync, readSync, closeSync } from 'node:fs';

const CHUNK = 1024 * 1024;
let records = 0;
let keys = 0;
for (const path of process.argv.slice(2)) {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(CHUNK);
  let carry = null;
  for (;;) {
    const n = readSync(fd, buf, 0, CHUNK, null);
    if (n === 0) break;
    let pos = 0;
    for (;;) {
      const nl = buf.indexOf(10, pos);
      if (nl === -1 || nl >= n) break;
      let text;
      if (carry) {
        text = Buffer.concat([carry, buf.subarray(pos, nl)]).toString('utf8');
        carry = null;
      } else text = buf.toString('utf8', pos, nl);
      if (text.length) {
        const v = JSON.parse(text);
        // Touch the result so the parse cannot be skipped.
        if (v.category !== undefined) keys++;
        records++;
      }
      pos = nl + 1;
    }
    if (pos < n) carry = carry ? Buffer.concat([carry, buf.subarray(pos, n)]) : Buffer.from(buf.subarray(pos, n));
  }
  if (carry && carry.length) {
    JSON.parse(carry.toString('utf8'));
    records++;
  }
  closeSync(fd);
}
process.stdout.write(JSON.stringify({ records, with_category: keys }) + '\n');
