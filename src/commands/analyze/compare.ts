// analyze's renderings' inputs: --compare's previous summaries, and the terminal table.
import { readFile } from 'node:fs/promises';
import { DataError, readFailureText } from '../../cli/errors.js';
import type { JsonObject } from '../../event/event.js';
import type { Summary } from '../../summary/summary.js';

/** --compare FILE: the summary records of a previous run (NDJSON, or one pretty-printed JSON object). */
export async function readPreviousSummaries(path: string): Promise<JsonObject[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new DataError(`cannot read the --compare file: ${readFailureText(err)}`, path);
  }
  const records: JsonObject[] = [];
  const lines = text.split('\n');
  let parsedAsLines = true;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    try {
      const v = JSON.parse(line) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v) && (v as JsonObject).kind === 'summary') records.push(v as JsonObject);
    } catch {
      parsedAsLines = false;
      break;
    }
  }
  if (!parsedAsLines) {
    records.length = 0;
    try {
      const v = JSON.parse(text) as unknown;
      for (const r of Array.isArray(v) ? v : [v]) if (r && typeof r === 'object' && (r as JsonObject).kind === 'summary') records.push(r as JsonObject);
    } catch {
      throw new DataError('the --compare file is not NDJSON or JSON', path);
    }
  }
  if (!records.length) throw new DataError('the --compare file holds no summary record (give the summary analyze wrote)', path);
  return records;
}

/** The summaries as terminal tables (the renderer loaded only when asked for). */
export async function renderTables(list: Summary[]): Promise<string> {
  const { renderSummaryTable } = await import('../../summary/table.js');
  return list.map((s) => renderSummaryTable(s)).join('\n');
}
