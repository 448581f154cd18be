import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import type { Config } from '../../config.js';

/** Where mails go: an SMTP server, or (no SMTP_URL) .eml files a newcomer can open. */
export interface MailTransport {
  /** Human-readable destination, for the log. */
  readonly destination: string;
  /** Resolves once the server accepted the message (or the file is written); rejects with Nodemailer's error. */
  send(message: SendMailOptions, fileStem: string): Promise<{ file?: string }>;
  close(): void;
}

// Every mail is built from our own data: no attachment may be read from a path or fetched from a URL.
const SAFE = { disableFileAccess: true, disableUrlAccess: true } as const;

export function createMailTransport(config: Pick<Config, 'smtpUrl' | 'dataDir'>): MailTransport {
  if (config.smtpUrl) {
    const transporter: Transporter = nodemailer.createTransport({
      url: config.smtpUrl,
      pool: true,
      maxConnections: 3,
      // Well within the outbox lease (5 min): a message is never still being sent when another worker may take it.
      connectionTimeout: 20_000,
      greetingTimeout: 20_000,
      socketTimeout: 60_000,
      ...SAFE,
    });
    const url = new URL(config.smtpUrl);
    return {
      destination: `${url.protocol}//${url.host}`,
      send: async (message) => {
        await transporter.sendMail(message);
        return {};
      },
      close: () => transporter.close(),
    };
  }
  const folder = path.join(config.dataDir, 'mail');
  // The stream transport builds the raw RFC 5322 message exactly as SMTP would send it.
  const transporter: Transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows', ...SAFE });
  return {
    destination: folder,
    send: async (message, fileStem) => {
      const info = (await transporter.sendMail(message)) as { message: Buffer };
      await fs.mkdir(folder, { recursive: true });
      const file = path.join(folder, `${fileStem}.eml`);
      await fs.writeFile(file, info.message);
      return { file };
    },
    close: () => transporter.close(),
  };
}
