// --via parsing and the masking of credentials in everything a transport shows.
import { describe, expect, it } from 'vitest';
import { createTransportFor, maskVia } from '../../../../src/notify/transports/index.js';
import { displaySmtp, parseSmtpUrl } from '../../../../src/notify/transports/smtp.js';
import { maskUrl } from '../../../../src/notify/transports/webhook.js';

describe('--via', () => {
  it('picks the transport by scheme', () => {
    expect(createTransportFor('smtp://mail.example.org').name).toBe('smtp');
    expect(createTransportFor('smtps://mail.example.org').name).toBe('smtps');
    expect(createTransportFor('sendmail').name).toBe('sendmail');
    expect(createTransportFor('https://hooks.example.org/x').name).toBe('webhook');
    expect(createTransportFor('file:./outbox').name).toBe('file');
    expect(createTransportFor('file:///tmp/outbox').display).toBe('file:/tmp/outbox');
  });

  it('rejects anything else with a usage error that hides a password', () => {
    expect(() => createTransportFor('ftp://u:pw@host')).toThrow(/^invalid --via: must be .*got "ftp:\/\/u:\*\*\*@host"$/);
    expect(() => createTransportFor('/var/outbox')).toThrow(/a folder is written file:DIR/);
    expect(() => createTransportFor('file:')).toThrow(/file: needs a folder/);
    expect(maskVia('smtp://user:p%40ss@h:25')).toBe('smtp://user:***@h:25');
  });

  it('smtp: ports, credentials from the URL or the environment, masked display', () => {
    expect(parseSmtpUrl(new URL('smtp://h'))).toMatchObject({ port: 25, secure: false, user: null });
    expect(parseSmtpUrl(new URL('smtps://h'))).toMatchObject({ port: 465, secure: true });
    const t = parseSmtpUrl(new URL('smtp://us%40er:p%3Ass@h:587'));
    expect(t).toMatchObject({ user: 'us@er', password: 'p:ss', port: 587 });
    expect(displaySmtp(t)).toBe('smtp://us%40er:***@h:587');
    expect(parseSmtpUrl(new URL('smtp://h'), { user: 'env', password: 'pw' })).toMatchObject({ user: 'env', password: 'pw' });
    expect(createTransportFor('smtp://a:secret@h').display).not.toContain('secret');
  });

  it('webhook URLs show only their origin (tokens live in paths)', () => {
    expect(maskUrl(new URL('https://hooks.slack.com/services/T000/B000/XXXX'))).toBe('https://hooks.slack.com/***');
    expect(maskUrl(new URL('https://u:p@h.example.org/'))).toBe('https://***@h.example.org');
  });
});
