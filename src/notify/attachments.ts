// notify --attach FILE: each file read when the message is composed, so one removed or unreadable
// later cannot fail the delivery; a file that cannot go is named in the body with the reason.
import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { errnoText, readFailureText } from '../cli/errors.js';
import type { NotAttached } from './message.js';
import type { OutgoingAttachment } from './transports/types.js';

/** Larger files are named in the body but not attached (mail servers reject them anyway). */
const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
const MAX_ATTACHMENT_TEXT = '10 MiB';

/** A file that could not be attached; `missing` when the path itself is wrong (no file, not readable), not a size decision. */
export type Unattached = NotAttached & { missing: boolean };

/** Rounded up, so a file just over the limit never reads as "10.0 MiB, over the 10 MiB limit". */
function mib(bytes: number): string {
  return `${(Math.ceil((bytes / 1024 / 1024) * 10) / 10).toFixed(1)} MiB`;
}

function unreadable(path: string, err: unknown): Unattached {
  const code = (err as NodeJS.ErrnoException).code;
  return { path, reason: code === 'ENOENT' || code === 'ENOTDIR' ? errnoText('ENOENT')! : `not readable (${readFailureText(err)})`, missing: true };
}

/** Reads the file now, so one removed or unreadable later cannot fail the delivery; a problem is a reason, never a throw. */
export async function loadAttachment(path: string): Promise<OutgoingAttachment | Unattached> {
  const tooBig = (size: number): Unattached => ({ path, reason: `${mib(size)}, over the ${MAX_ATTACHMENT_TEXT} attachment limit`, missing: false });
  try {
    const st = await stat(path);
    if (!st.isFile()) return { path, reason: 'not a file', missing: true };
    if (st.size > MAX_ATTACHMENT_BYTES) return tooBig(st.size);
    const content = await readFile(path);
    // It may have grown between stat and read.
    if (content.length > MAX_ATTACHMENT_BYTES) return tooBig(content.length);
    return { filename: basename(path), path: resolve(path), content };
  } catch (err) {
    return unreadable(path, err);
  }
}

