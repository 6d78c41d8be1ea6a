// A worker thread of --jobs: parses each block it is sent exactly as the main thread would, and
// hands the records to its task (a module of tasks/), whose result goes back with the block's bad lines.
import { parentPort, workerData } from 'node:worker_threads';
import { describeError } from '../cli/errors.js';
import { parseBlock } from './parse-block.js';
import type { Block } from './blocks.js';
import type { BadLine } from '../stream/bad-lines.js';
import { Spares, type Task } from './tasks/task.js';

const { task, config, maxLineBytes } = workerData as { task: string; config: unknown; maxLineBytes: number };
const mod = (await import(`./tasks/${task}.js`)) as { createTask(config: unknown, spares: Spares): Task<unknown> | Promise<Task<unknown>> };
const spares = new Spares();
// A task may load what it needs first (process: packs, the registry); blocks sent meanwhile wait in the port.
const run = await mod.createTask(config, spares);

parentPort!.on('message', async (msg: { seq: number; block: Block } | { recycle: ArrayBuffer[] } | { seq: number; end: true }) => {
  if ('recycle' in msg) {
    for (const ab of msg.recycle) spares.put(ab);
    return;
  }
  try {
    if ('end' in msg) {
      parentPort!.postMessage({ seq: msg.seq, final: run.end?.() ?? null });
      return;
    }
    // Bad lines in the one-thread order: the parser's before each batch, then the task's rejections of it.
    const bad: BadLine[] = [];
    const reject = (b: BadLine) => void bad.push(b);
    const parsed = run.read
      ? { records: run.read(msg.block, bad), csvLike: false }
      : run.block
        ? run.block(msg.block, maxLineBytes)
      : await parseBlock(msg.block, maxLineBytes, (items, before) => {
          for (const b of before) bad.push(b);
          run.add(items, reject);
        });
    if ('bad' in parsed) for (const b of parsed.bad) bad.push(b);
    const { result, transfer = [] } = run.finish();
    // The block's buffer goes back to the main thread's reader, the result's to be sent back here.
    const input = msg.block.bytes.buffer as ArrayBuffer;
    parentPort!.postMessage({ seq: msg.seq, out: { ...parsed, bad, result, input, recycle: transfer } }, [...transfer, input]);
  } catch (err) {
    parentPort!.postMessage({ seq: msg.seq, error: describeError(err) });
  }
});
