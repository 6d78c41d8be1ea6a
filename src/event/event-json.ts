// The rule engine's events as NDJSON text with less of JSON.stringify's per-character work.
// Node 20's stringifier escapes every character of every key and string through a generic
// builder (15 % of process's instructions, callgrind). Most of an engine event's text is the
// same from one event to the next: its keys, timestamp, type, category, message, action, job
// and file. That text is made once (by JSON.stringify) and reused; per event JSON.stringify
// writes only user_context and details. The result is exactly stringifyExact's text; a record
// this file does not expect (not the engine's, a field of an unexpected type, a toJSON method)
// is left to stringifyExact whole.
import { restoreNumbers, stringifyExact } from '../stream/exact-number.js';
import type { JsonObject } from './event.js';

/**
 * Marks an event the rule engine built: its keys are the v1 event's, in the v1 order, with
 * user_context and source as the engine writes them. JSON.stringify and Object.keys skip
 * symbol keys, so the mark never reaches the output.
 */
export const ENGINE_EVENT: unique symbol = Symbol('batch-events engine event');

/** An event id as stableEventId writes it (hex digits and dashes): nothing to escape. A loop: the regular expression cost 1.7 % of a run. */
function isEventId(id: string): boolean {
  if (id.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = id.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || c === 45)) return false;
  }
  return true;
}
/** The pieces kept, by message (a few per run; dynamic messages are capped out). */
const MAX_PIECES = 256;

interface Middle {
  timestamp: string;
  eventType: string;
  category: string;
  actionNeeded: string | null;
  /** `,"timestamp":…,"action_needed":…` */
  text: string;
}

interface Tail {
  job: string | null;
  file: string;
  /** `,"source":{"job":…,"file":…,"line":` */
  text: string;
}

/** Text pieces made once per distinct value and reused (per writer, so per run). */
export class EventText {
  private readonly middles = new Map<string, Middle>();
  private tail: Tail | null = null;

  /** A record's NDJSON text, exactly stringifyExact(record). */
  readonly text = (record: unknown): string => {
    if (typeof record === 'object' && record !== null && (record as { [ENGINE_EVENT]?: true })[ENGINE_EVENT] === true) {
      const t = this.engineEvent(record as JsonObject);
      if (t !== null) return t;
    }
    return stringifyExact(record);
  };

  private middle(ev: JsonObject): string | null {
    const { timestamp, event_type: eventType, category, message, action_needed: actionNeeded } = ev;
    if (typeof message !== 'string' || typeof timestamp !== 'string' || typeof eventType !== 'string' || typeof category !== 'string') return null;
    if (actionNeeded !== null && typeof actionNeeded !== 'string') return null;
    const m = this.middles.get(message);
    if (m !== undefined && m.timestamp === timestamp && m.eventType === eventType && m.category === category && m.actionNeeded === actionNeeded) return m.text;
    const text =
      ',"timestamp":' + JSON.stringify(timestamp) + ',"event_type":' + JSON.stringify(eventType) + ',"category":' + JSON.stringify(category) +
      ',"message":' + JSON.stringify(message) + ',"action_needed":' + JSON.stringify(actionNeeded);
    if (this.middles.size >= MAX_PIECES) this.middles.clear();
    this.middles.set(message, { timestamp, eventType, category, actionNeeded, text });
    return text;
  }

  private source(s: JsonObject): string | null {
    const { job, file, line } = s;
    if ((job !== null && typeof job !== 'string') || typeof file !== 'string' || typeof line !== 'number' || !Number.isSafeInteger(line)) return null;
    const t = this.tail;
    if (t !== null && t.job === job && t.file === file) return t.text;
    const text = ',"source":{"job":' + JSON.stringify(job) + ',"file":' + JSON.stringify(file) + ',"line":';
    this.tail = { job, file, text };
    return text;
  }

  private engineEvent(ev: JsonObject): string | null {
    const id = ev.event_id;
    if (typeof id !== 'string' || !isEventId(id)) return null;
    const details = ev.details;
    // JSON.stringify writes nothing for a value whose toJSON returns undefined, and then the key goes too: left to it whole.
    if (typeof details !== 'object' || details === null || typeof (details as { toJSON?: unknown }).toJSON === 'function') return null;
    const middle = this.middle(ev);
    const source = this.source(ev.source as JsonObject);
    if (middle === null || source === null) return null;
    // One call for the two parts that differ per event, with their keys (a toJSON method sees the key it would see in the whole).
    const inner = JSON.stringify({ user_context: ev.user_context, details });
    if (!inner.startsWith('{"user_context":')) return null;
    return restoreNumbers('{"event_id":"' + id + '"' + middle + ',' + inner.slice(1, -1) + source + (ev.source as JsonObject).line + '}}');
  }
}
