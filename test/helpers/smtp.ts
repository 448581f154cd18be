import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** Envelope recipients (RCPT TO), which is who really gets the mail whatever the headers say. */
  rcptTo: string[];
  mailFrom: string;
  raw: string;
  parsed: ParsedMail;
}

/**
 * A real SMTP server on loopback (the Nodemailer project's smtp-server), collecting what it accepts. It can be
 * stopped and started again on the same port (an outage), and told to refuse recipients with a 5xx.
 */
export class TestSmtpServer {
  readonly mails: ReceivedMail[] = [];
  /** Recipients answered with 550 at RCPT TO. */
  readonly refuse = new Set<string>();
  port = 0;
  private server?: SMTPServer;

  async start(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      // Plain text on loopback: nothing to verify a certificate against, and nothing secret goes over it.
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      closeTimeout: 50,
      onRcptTo: (address, _session, callback) => {
        if (this.refuse.has(address.address)) {
          const err = new Error('5.1.1 No such mailbox here') as Error & { responseCode: number };
          err.responseCode = 550;
          return callback(err);
        }
        callback();
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          simpleParser(raw, { keepCidLinks: true })
            .then((parsed) => {
              this.mails.push({
                rcptTo: session.envelope.rcptTo.map((r) => r.address),
                mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                raw,
                parsed,
              });
              callback();
            })
            .catch(callback);
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.server.address() as { port: number }).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  to(address: string): ReceivedMail[] {
    return this.mails.filter((m) => m.rcptTo.includes(address));
  }
}
