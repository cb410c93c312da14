import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * A real SMTP server on 127.0.0.1 for the email channel: AUTH PLAIN/LOGIN against one user and
 * password, every accepted mail parsed with mailparser. Plain SMTP allows AUTH on loopback; with
 * `starttls` the server offers STARTTLS (smtp-server's built-in self-signed certificate) and
 * refuses AUTH before it.
 */

export interface FakeSmtp {
  port: number;
  messages: ParsedMail[];
  /** The SMTP envelope of each accepted mail (MAIL FROM, RCPT TO), beside `messages`. */
  envelopes: { from: string; to: string[] }[];
  /** Logins refused for a wrong user or password. */
  authFailures: number;
  close(): Promise<void>;
}

export async function startSmtp(opts: { user: string; pass: string; starttls?: boolean }): Promise<FakeSmtp> {
  const messages: ParsedMail[] = [];
  const envelopes: FakeSmtp['envelopes'] = [];
  const state = { authFailures: 0 };
  const server = new SMTPServer({
    logger: false,
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: !opts.starttls,
    disabledCommands: opts.starttls ? [] : ['STARTTLS'],
    onAuth(auth, _session, callback) {
      if (auth.username === opts.user && auth.password === opts.pass) return callback(null, { user: auth.username });
      state.authFailures++;
      const err = Object.assign(new Error('Invalid username or password'), { responseCode: 535 });
      callback(err);
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          messages.push(mail);
          envelopes.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          });
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    messages,
    envelopes,
    get authFailures() {
      return state.authFailures;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
