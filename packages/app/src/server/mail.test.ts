import { embeddedTestStore } from '@tactful/core/testing';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTactful, isTactfulError, type Store } from '@tactful/core';
import { createApp } from './app.js';
import { readServeConfig } from './config.js';
import { smtpMailer } from './mail.js';
import { startServer, type RunningServer } from './start.js';

interface Received {
  from: string;
  to: string[];
  auth: string | null;
  data: string;
}

/** A small SMTP server (RFC 5321: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, QUIT) that keeps what it receives. */
function smtpListener(options: { rejectRcpt?: number } = {}) {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setEncoding('utf8');
    let buffer = '';
    let inData = false;
    let current: Received = { from: '', to: [], auth: null, data: '' };
    const reply = (line: string) => socket.write(`${line}\r\n`);
    reply('220 test.local ESMTP ready');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end < 0) return;
          current.data = buffer.slice(0, end).replace(/^\.\./gm, '.');
          buffer = buffer.slice(end + 5);
          inData = false;
          received.push(current);
          current = { from: '', to: [], auth: current.auth, data: '' };
          reply('250 2.0.0 queued');
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol < 0) return;
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') {
          socket.write('250-test.local\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n');
        } else if (verb === 'HELO') reply('250 test.local');
        else if (verb === 'AUTH') {
          current.auth = Buffer.from(line.split(' ')[2] ?? '', 'base64').toString('utf8');
          reply('235 2.7.0 authenticated');
        } else if (verb === 'MAIL') {
          current.from = line.replace(/^MAIL FROM:\s*/i, '');
          reply('250 2.1.0 ok');
        } else if (verb === 'RCPT') {
          if (options.rejectRcpt) reply(`${options.rejectRcpt} 4.2.1 mailbox busy, try later`);
          else {
            current.to.push(line.replace(/^RCPT TO:\s*/i, ''));
            reply('250 2.1.5 ok');
          }
        } else if (verb === 'DATA') {
          inData = true;
          reply('354 end with .');
        } else if (verb === 'RSET') {
          current = { from: '', to: [], auth: current.auth, data: '' };
          reply('250 ok');
        } else if (verb === 'QUIT') {
          reply('221 bye');
          socket.end();
        } else reply('502 5.5.2 not implemented');
      }
    });
  });
  return {
    received,
    async start(): Promise<number> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as AddressInfo).port;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Header value of a received message, unfolded (RFC 5322 folding: CRLF + whitespace). */
function header(data: string, name: string): string | undefined {
  const head = data.split('\r\n\r\n')[0]!.replace(/\r\n[ \t]+/g, ' ');
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

const bodyOf = (data: string) =>
  data.split('\r\n\r\n').slice(1).join('\r\n\r\n').replace(/=\r\n/g, '').replace(/=3D/g, '=');

describe('smtpMailer', () => {
  const smtp = smtpListener();
  let port = 0;
  beforeAll(async () => {
    port = await smtp.start();
  });
  afterAll(() => smtp.stop());

  it('delivers text, From, To, Subject and extra headers over SMTP, with the URL credentials', async () => {
    const mailer = smtpMailer({
      url: `smtp://mailer:s%40cret@127.0.0.1:${port}`,
      from: 'Corner Shop <shop@example.com>',
    });
    await mailer.send({
      to: 'ann@example.com',
      subject: 'Your subscription is confirmed',
      text: 'Thank you.\nUnsubscribe: https://tactful.example.com/unsubscribe?token=abc',
      headers: {
        'List-Unsubscribe': '<https://tactful.example.com/unsubscribe?token=abc>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
      links: {},
    });
    const mail = smtp.received.at(-1)!;
    expect(mail.from).toBe('<shop@example.com>');
    expect(mail.to).toEqual(['<ann@example.com>']);
    expect(mail.auth).toBe('\u0000mailer\u0000s@cret');
    expect(header(mail.data, 'From')).toBe('Corner Shop <shop@example.com>');
    expect(header(mail.data, 'To')).toBe('ann@example.com');
    expect(header(mail.data, 'Subject')).toBe('Your subscription is confirmed');
    expect(header(mail.data, 'List-Unsubscribe')).toBe('<https://tactful.example.com/unsubscribe?token=abc>');
    expect(header(mail.data, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(bodyOf(mail.data)).toContain('Unsubscribe: https://tactful.example.com/unsubscribe?token=abc');
  });

  it('a refusal by the server is MAIL.SEND_FAILED, retryable for a 4xx, without the address in the message', async () => {
    const busy = smtpListener({ rejectRcpt: 451 });
    const busyPort = await busy.start();
    try {
      const error = await smtpMailer({ url: `smtp://127.0.0.1:${busyPort}`, from: 'shop@example.com' })
        .send({ to: 'ann@example.com', subject: 's', text: 't', headers: {}, links: {} })
        .catch((e: unknown) => e);
      expect(isTactfulError(error, 'MAIL.SEND_FAILED')).toBe(true);
      expect((error as { retryable: boolean }).retryable).toBe(true);
      expect((error as Error).message).not.toContain('ann@example.com');
      expect(busy.received).toHaveLength(0);
    } finally {
      await busy.stop();
    }
  });
});

describe('the app outside demo mode sends its own emails through SMTP', () => {
  const smtp = smtpListener();
  let store: Store;
  let server: RunningServer;
  beforeAll(async () => {
    const port = await smtp.start();
    store = await embeddedTestStore();
    const tactful = await createTactful({ store, shop: 'smtp-test.myshopify.com' });
    const config = readServeConfig({
      TACTFUL_ADMIN_TOKEN: 'smtp-test-admin-token-0123456789',
      TACTFUL_RATE_LIMIT: '10000',
      PUBLIC_URL: 'https://tactful.example.com',
      TACTFUL_SMTP_URL: `smtp://127.0.0.1:${port}`,
      TACTFUL_MAIL_FROM: 'Corner Shop <shop@example.com>',
    });
    server = await startServer(createApp({ tactful, config, logger: pino({ level: 'silent' }) }), {
      host: '127.0.0.1',
      port: 0,
    });
  });
  afterAll(async () => {
    await server?.close();
    await smtp.stop();
  });

  it('subscribe → the confirmation arrives by SMTP → confirm → the welcome carries the one-click List-Unsubscribe headers', async () => {
    const body = new URLSearchParams([
      ['email', 'dana@example.com'],
      ['purpose', 'email_marketing'],
      ['purpose', 'personalization'],
    ]);
    expect((await fetch(`${server.url}/subscribe`, { method: 'POST', body })).status).toBe(200);
    const confirmation = smtp.received.at(-1)!;
    expect(confirmation.to).toEqual(['<dana@example.com>']);
    expect(header(confirmation.data, 'Subject')).toMatch(/confirm/i);
    const link = /https:\/\/tactful\.example\.com\/confirm\?token=[^\s]+/.exec(bodyOf(confirmation.data))?.[0];
    expect(link).toBeDefined();
    const token = new URL(link!).searchParams.get('token')!;
    expect(
      (await fetch(`${server.url}/confirm`, { method: 'POST', body: new URLSearchParams({ token }) })).status,
    ).toBe(200);
    const welcome = smtp.received.at(-1)!;
    expect(welcome).not.toBe(confirmation);
    expect(header(welcome.data, 'List-Unsubscribe')).toMatch(
      /^<https:\/\/tactful\.example\.com\/unsubscribe\?token=[^>\s]+>$/,
    );
    expect(header(welcome.data, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    // The link in the header unsubscribes with one POST, as a mailbox provider would send it (RFC 8058).
    const unsubscribe = new URL(header(welcome.data, 'List-Unsubscribe')!.slice(1, -1));
    const oneClick = await fetch(`${server.url}/unsubscribe${unsubscribe.search}`, {
      method: 'POST',
      body: new URLSearchParams({ 'List-Unsubscribe': 'One-Click' }),
    });
    expect(oneClick.status).toBeLessThan(300);
  });
});

describe('mail configuration', () => {
  it('SMTP URL and From go together, and bad values are reported with the other problems at once', () => {
    const problems = (env: Record<string, string>) => {
      try {
        readServeConfig({ TACTFUL_ADMIN_TOKEN: 'mail-config-admin-token-01234567', ...env });
        return [];
      } catch (error) {
        return (error as { details: string[] }).details;
      }
    };
    expect(problems({ TACTFUL_SMTP_URL: 'smtp://mail.example.com:587' })).toEqual([
      expect.stringMatching(/^TACTFUL_MAIL_FROM: is required/),
    ]);
    expect(problems({ TACTFUL_MAIL_FROM: 'shop@example.com' })).toEqual([
      expect.stringMatching(/^TACTFUL_SMTP_URL: is required/),
    ]);
    const many = problems({
      TACTFUL_SMTP_URL: 'http://mail.example.com',
      TACTFUL_MAIL_FROM: 'not an address',
      PORT: 'eighty',
    });
    expect(many).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^TACTFUL_SMTP_URL: must be an smtp/),
        expect.stringMatching(/^TACTFUL_MAIL_FROM: must be an address/),
        expect.stringMatching(/^PORT:/),
      ]),
    );
    expect(
      problems({
        TACTFUL_SMTP_URL: 'smtps://u:p@mail.example.com:465',
        TACTFUL_MAIL_FROM: 'Corner Shop <shop@example.com>',
      }),
    ).toEqual([]);
  });
});
