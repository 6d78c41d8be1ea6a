// Issue 8: the connection to a real SMTP server (smtp-server on loopback) cut in the middle of
// DATA, after a random number of the message's bytes. The cut goes through a TCP relay that
// counts what the client sends after DATA, so the real server sees a message that never ends.
// notify must treat it as transient: retry, deliver one whole message or record failed, exit 0
// (1 with --strict), and never hang.
import { afterEach, describe, expect, it } from 'vitest';
import { createConnection, createServer, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ndjson, run, tempDir } from '../helpers/run.js';
import { startSmtp, type TestSmtp } from '../helpers/smtp.js';
import { rngFor } from './helpers.js';

interface CuttingRelay {
  port: number;
  connections: number;
  /** Bytes of message data relayed on each connection before it was cut (or in full). */
  dataBytes: number[];
  close(): Promise<void>;
}

// Relays to `upstream`; on the first `cuts` connections, destroys both sides once `cutAfter`
// bytes of message data (after the DATA command) have passed.
async function cuttingRelay(upstream: number, cuts: number, cutAfter: number): Promise<CuttingRelay> {
  const sockets = new Set<Socket>();
  const relay: CuttingRelay = { port: 0, connections: 0, dataBytes: [], close: async () => {} };
  const server = createServer((client) => {
    const index = relay.connections++;
    relay.dataBytes[index] = 0;
    const server = createConnection(upstream, '127.0.0.1');
    for (const s of [client, server]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    let commands = '';
    let inData = false;
    server.on('data', (chunk) => client.write(chunk));
    server.on('end', () => client.end());
    client.on('end', () => server.end());
    client.on('data', (chunk: Buffer) => {
      let data = chunk;
      if (!inData) {
        commands += chunk.toString('latin1');
        const at = commands.search(/(^|\r\n)DATA\r\n/i);
        if (at < 0) return void server.write(chunk);
        inData = true;
        const end = commands.indexOf('DATA\r\n', at) + 6;
        const before = chunk.length - (commands.length - end);
        server.write(chunk.subarray(0, before));
        data = chunk.subarray(before);
      }
      if (index < cuts && relay.dataBytes[index]! + data.length >= cutAfter) {
        server.write(data.subarray(0, cutAfter - relay.dataBytes[index]!));
        relay.dataBytes[index] = cutAfter;
        client.destroy();
        server.destroy();
        return;
      }
      relay.dataBytes[index]! += data.length;
      server.write(data);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.port = (server.address() as { port: number }).port;
  relay.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return relay;
}

const closers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c.close()));
});

function errors(n: number): string {
  return ndjson(
    Array.from({ length: n }, (_, i) => ({
      event_type: 'error',
      category: i % 2 ? 'Unverified Email' : 'Bad ORCID Claims',
      message: `needs a fix ${i}`,
      timestamp: '2026-11-21T10:00:00.000Z',
      user_context: { email: `u${i}@uni.org`, name: 'Unknown', center_id: 1, registry_id: null, auth_email: null },
      source: { job: 'delivery', file: 'dir.csv', line: i + 1 },
    })),
  );
}

// An attachment makes the message a few hundred KiB, so the cut lands deep inside DATA.
function attachment(): string {
  const path = join(tempDir(), 'errors.csv');
  writeFileSync(path, 'email,message\n' + Array.from({ length: 6000 }, (_, i) => `u${i}@uni.org,needs a fix ${i}\n`).join(''));
  return path;
}

describe('SMTP connection dropped in the middle of DATA (real smtp-server behind a relay that cuts it)', () => {
  it('fault: smtp-drop-mid-data — cut after a random number of message bytes once: retried, one whole message delivered, exit 0', async () => {
    const rand = rngFor('smtp-drop-mid-data');
    const smtp: TestSmtp = await startSmtp();
    closers.push(smtp);
    const cutAfter = 1 + Math.floor(rand() * 150_000);
    const relay = await cuttingRelay(smtp.port, 1, cutAfter);
    closers.push(relay);
    const file = attachment();
    const r = await run('notify', ['--via', `smtp://127.0.0.1:${relay.port}`, '--to', 'support@uni.org', '--attach', file, '--timeout', '20s'], { input: errors(40), timeout: 60_000 });
    console.log(`smtp-drop-mid-data: cut after ${cutAfter} bytes of DATA; data bytes per connection ${relay.dataBytes.join(', ')}`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(relay.dataBytes[0]).toBe(cutAfter);
    expect(r.records).toHaveLength(1);
    expect(r.records[0]).toMatchObject({ kind: 'notification', status: 'sent' });
    expect(r.records[0]!.attempts).toBeGreaterThanOrEqual(2);
    // The cut message was never accepted; the retried one arrived whole, attachment and all.
    expect(smtp.received).toHaveLength(1);
    expect(relay.dataBytes[1]).toBeGreaterThan(cutAfter);
    const mail = smtp.received[0]!.mail;
    expect(mail.subject).toMatch(/delivery/);
    expect(mail.attachments.map((a) => a.filename)).toEqual(['errors.csv']);
    expect(mail.attachments[0]!.content.toString()).toContain('u5999@uni.org,needs a fix 5999');
  });

  it('fault: smtp-drop-mid-data-always — cut in DATA on every attempt: failed within --timeout, exit 0; --strict exits 1', async () => {
    const rand = rngFor('smtp-drop-mid-data-always');
    const smtp = await startSmtp();
    closers.push(smtp);
    const cutAfter = 1 + Math.floor(rand() * 150_000);
    const relay = await cuttingRelay(smtp.port, Number.MAX_SAFE_INTEGER, cutAfter);
    closers.push(relay);
    const args = ['--via', `smtp://127.0.0.1:${relay.port}`, '--to', 'support@uni.org', '--attach', attachment(), '--timeout', '2s'];
    const r = await run('notify', args, { input: errors(40), timeout: 60_000 });
    console.log(`smtp-drop-mid-data-always: cut after ${cutAfter} bytes of DATA on ${relay.connections} connections`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.records).toHaveLength(1);
    expect(r.records[0]).toMatchObject({ status: 'failed' });
    expect(r.records[0]!.attempts).toBeGreaterThan(1);
    expect(r.stderr).toMatch(/^notify: delivery: delivery via smtp:\/\/127\.0\.0\.1:\d+ failed: /m);
    expect(smtp.received).toHaveLength(0);
    const strict = await run('notify', [...args, '--strict'], { input: errors(40), timeout: 60_000 });
    expect(strict.exitCode, strict.stderr).toBe(1);
    expect(strict.records[0]).toMatchObject({ status: 'failed' });
    expect(smtp.received).toHaveLength(0);
  });
});
