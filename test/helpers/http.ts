// A real node:http server on loopback for webhook tests: scripted status codes per request
// (with extra response headers such as Retry-After, or a hang that never answers), and every
// request body kept as parsed JSON.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface TestHook {
  url: string;
  requests: Array<{ headers: IncomingMessage['headers']; body: any; path: string }>;
  close(): Promise<void>;
}

/** One scripted answer: a status, a status with response headers, or 'hang' (never answers). */
export type HookStep = number | { status: number; headers?: Record<string, string> } | 'hang';

/** `script` gives the answer to each request in turn (the last repeats). */
export async function startHook(script: HookStep[] = [200]): Promise<TestHook> {
  const requests: TestHook['requests'] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: any = text;
      try {
        body = JSON.parse(text);
      } catch {
        // kept as text
      }
      const step = script[Math.min(requests.length, script.length - 1)]!;
      requests.push({ headers: req.headers, body, path: req.url ?? '/' });
      if (step === 'hang') return;
      const { status, headers } = typeof step === 'number' ? { status: step, headers: {} } : step;
      res.writeHead(status, { 'content-type': 'text/plain', ...headers });
      res.end(status < 300 ? 'ok' : `status ${status}`);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/T0K3N`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
