// Real SMTP peers on loopback for notify's tests: smtp-server (with optional STARTTLS, AUTH and
// scripted replies per attempt) and mailparser for what it received; plus raw TCP peers that
// misbehave in ways smtp-server will not (never greet, drop the line in the middle of DATA).
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { ROOT } from './run.js';

export const TLS_CERT = join(ROOT, 'test/fixtures/tls/cert.pem');
export const TLS_KEY = join(ROOT, 'test/fixtures/tls/key.pem');

export interface Received {
  from: string;
  to: string[];
  raw: Buffer;
  mail: ParsedMail;
  secure: boolean;
  user: string | null;
}

export interface TestSmtp {
  port: number;
  url: string;
  received: Received[];
  /** DATA attempts, accepted or not. */
  dataAttempts: number;
  close(): Promise<void>;
}

export interface TestSmtpOptions {
  /** Offer STARTTLS with the fixture certificate (otherwise STARTTLS is hidden). */
  starttls?: boolean;
  /** Implicit TLS from the first byte (smtps://) with the fixture certificate. */
  implicitTls?: boolean;
  /** Require AUTH with this user and password. */
  auth?: { user: string; pass: string };
  /** Replies to the first DATA attempts, e.g. [451, 451]: later attempts are accepted. */
  dataReplies?: number[];
  /** Reply to every RCPT TO with this code (e.g. 550). */
  rcptReply?: number;
  /** Refuse these recipients with 550 and accept the others. */
  rejectRcpt?: string[];
}

function smtpError(code: number): Error & { responseCode: number } {
  const err = new Error(code >= 500 ? 'Requested action not taken: mailbox unavailable' : 'Requested action aborted: try again later') as Error & { responseCode: number };
  err.responseCode = code;
  return err;
}

export async function startSmtp(opts: TestSmtpOptions = {}): Promise<TestSmtp> {
  const received: Received[] = [];
  const state = { dataAttempts: 0 };
  const replies = [...(opts.dataReplies ?? [])];
  const options: SMTPServerOptions = {
    logger: false,
    secure: !!opts.implicitTls,
    hideSTARTTLS: !opts.starttls,
    ...(opts.starttls || opts.implicitTls ? { key: readFileSync(TLS_KEY), cert: readFileSync(TLS_CERT) } : {}),
    authOptional: !opts.auth,
    allowInsecureAuth: !opts.starttls && !opts.implicitTls,
    onAuth(auth, _session, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) cb(null, { user: auth.username });
      else cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, cb) {
      if (opts.rejectRcpt?.includes(address.address)) return cb(smtpError(550));
      cb(opts.rcptReply ? smtpError(opts.rcptReply) : null);
    },
    onData(stream, session: SMTPServerSession, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        state.dataAttempts++;
        const code = replies.shift();
        if (code) return cb(smtpError(code));
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (mail) => {
            received.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              raw,
              mail,
              secure: session.secure,
              user: (session.user as string | undefined) ?? null,
            });
            cb();
          },
          (err: Error) => cb(err),
        );
      });
    },
  };
  const server = new SMTPServer(options);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    port,
    url: `${opts.implicitTls ? 'smtps' : 'smtp'}://127.0.0.1:${port}`,
    received,
    get dataAttempts() {
      return state.dataAttempts;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface RawPeer {
  port: number;
  connections: number;
  close(): Promise<void>;
}

async function listen(server: TcpServer, sockets: Set<Socket>): Promise<number> {
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

function closer(server: TcpServer, sockets: Set<Socket>) {
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

/** Accepts connections and never says a word. */
export async function startSilentPeer(): Promise<RawPeer> {
  const sockets = new Set<Socket>();
  const peer = { port: 0, connections: 0, close: async () => {} };
  const server = createTcpServer(() => {
    peer.connections++;
  });
  peer.port = await listen(server, sockets);
  peer.close = closer(server, sockets);
  return peer;
}

/**
 * A scripted SMTP peer that drops the connection after the first bytes of message data on its
 * first `drops` connections, and accepts the message on later ones.
 */
export async function startDroppingPeer(drops = 1): Promise<RawPeer & { accepted: number }> {
  const sockets = new Set<Socket>();
  const peer = { port: 0, connections: 0, accepted: 0, close: async () => {} };
  const server = createTcpServer((socket) => {
    const index = ++peer.connections;
    let inData = false;
    let buffer = '';
    socket.write('220 dropper ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      if (inData) {
        if (index <= drops) {
          socket.destroy();
          return;
        }
        buffer += chunk.toString('latin1');
        if (/\r\n\.\r\n$/.test(buffer)) {
          inData = false;
          buffer = '';
          peer.accepted++;
          socket.write('250 2.0.0 queued\r\n');
        }
        return;
      }
      buffer += chunk.toString('latin1');
      let i: number;
      while ((i = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250 dropper\r\n');
        else if (verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET' || verb === 'NOOP') socket.write('250 OK\r\n');
        else if (verb === 'DATA') {
          inData = true;
          socket.write('354 go ahead\r\n');
          if (buffer) {
            socket.emit('data', Buffer.from(buffer, 'latin1'));
            buffer = '';
          }
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('502 not implemented\r\n');
      }
    });
  });
  peer.port = await listen(server, sockets);
  peer.close = closer(server, sockets);
  return peer;
}

/** A port on loopback with nothing listening (bound, then released). */
export async function deadPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
