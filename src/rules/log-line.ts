// Splits a job's log line into prefix (time, level, logger) and message, for the Python
// logging layouts the jobs use; a line without a prefix is all message.
import { parseIso } from '../cli/time.js';
import type { LogLine } from './types.js';

const LEVEL = '(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)';
const TIME = '(\\d{4}-\\d{2}-\\d{2}[ T]\\d{2}:\\d{2}:\\d{2}(?:[.,]\\d{1,9})?(?:Z|[+-]\\d{2}:?\\d{2})?)';
// 2026-11-21 10:15:30,123 ERROR [user_app.run] message
const BRACKET = new RegExp(`^${TIME}\\s+${LEVEL}\\s+(?:\\[([^\\]]*)\\]\\s*)?(.*)$`);
// 2026-11-21 10:15:30,123 - user_app.run - ERROR - message
const DASHED = new RegExp(`^${TIME}\\s+-\\s+(\\S+)\\s+-\\s+${LEVEL}\\s+-\\s+(.*)$`);
// ERROR:user_app.run:message (logging.basicConfig's default)
const BASIC = new RegExp(`^${LEVEL}:([^:]*):(.*)$`);

/** "2026-11-21 10:15:30,123" as ISO; a time without an offset is read as UTC. */
export function logTime(text: string): string | null {
  const t = parseIso(text);
  return typeof t === 'number' ? new Date(t).toISOString() : null;
}

function level(l: string): string {
  return l === 'WARN' ? 'WARNING' : l === 'FATAL' ? 'CRITICAL' : l;
}

/** A log line's timestamp, level and message (the prefix the original job wrote), or the whole line as the message. */
export function parseLogLine(text: string): LogLine {
  const c = text.charCodeAt(0);
  if (c >= 48 && c <= 57) {
    let m = BRACKET.exec(text);
    if (m) return { text, timestamp: logTime(m[1]!), level: level(m[2]!), logger: m[3] ?? null, message: m[4]!.trim() };
    m = DASHED.exec(text);
    if (m) return { text, timestamp: logTime(m[1]!), logger: m[2]!, level: level(m[3]!), message: m[4]!.trim() };
  } else if (c >= 65 && c <= 90) {
    const m = BASIC.exec(text);
    if (m) return { text, timestamp: null, level: level(m[1]!), logger: m[2] || null, message: m[3]!.trim() };
  }
  return { text, timestamp: null, level: null, logger: null, message: text.trim() };
}
