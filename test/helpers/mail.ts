import { eq } from 'drizzle-orm';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import type { Attachment, ParsedMail } from 'mailparser';
import { outbox } from '../../src/db/schema.js';
import { emailChannel } from '../../src/modules/mail/mail.channel.js';
import { createMailTransport, type MailTransport } from '../../src/modules/mail/mail.transport.js';
import { deliverDue, type OutboxChannel } from '../../src/modules/outbox/outbox.service.js';
import { buildTestApp, type TestContext } from './app.js';
import type { TestDatabase } from './database.js';
import { TestSmtpServer } from './smtp.js';

export const MAIL_ENV = { PUBLIC_URL: 'https://tickets.example.test', MAIL_FROM: 'Event Tickets <tickets@example.test>' };

export interface MailContext extends TestContext {
  smtp: TestSmtpServer;
  channel: OutboxChannel;
  transport: MailTransport;
  /** One delivery pass at the test clock's now, as the outbox worker runs it. */
  deliver(): ReturnType<typeof deliverDue>;
}

/** The API on a fresh database, and a real SMTP server on loopback that the email channel delivers to. */
export async function buildMailTestApp(options: { env?: Record<string, string>; database?: TestDatabase } = {}): Promise<MailContext> {
  const smtp = new TestSmtpServer();
  await smtp.start();
  const ctx = await buildTestApp({ ...options, env: { ...MAIL_ENV, SMTP_URL: smtp.url, ...options.env } });
  const transport = createMailTransport(ctx.config);
  const channel = emailChannel({ config: ctx.config, transport, signer: ctx.app.linkSigner });
  return {
    ...ctx,
    smtp,
    channel,
    transport,
    deliver: () => deliverDue(ctx.app.db, [channel], ctx.clock.now()),
    close: async () => {
      transport.close();
      await smtp.stop();
      await ctx.close();
    },
  };
}

// jsqr is CommonJS with an ES-style default: Node hands us module.exports (the function, which also carries
// .default); TypeScript types the import as the module object.
const jsQR = ((jsQRModule as unknown as { default?: unknown }).default ?? jsQRModule) as unknown as typeof jsQRModule.default;

/** The text a QR image (PNG) encodes. */
export function decodeQr(png: Buffer): string | undefined {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data;
}

export const qrImages = (attachments: Attachment[]) => attachments.filter((a) => a.contentType === 'image/png');

export async function outboxRows(ctx: TestContext) {
  return ctx.app.db.select().from(outbox).where(eq(outbox.channel, 'email'));
}

/** A header as sent (unfolded), or undefined; mailparser reshapes some (List-*) into objects. */
export function rawHeader(parsed: ParsedMail, name: string): string | undefined {
  const line = parsed.headerLines.find((h) => h.key === name.toLowerCase())?.line;
  return line
    ?.slice(line.indexOf(':') + 1)
    .replace(/\r?\n[ \t]+/g, ' ')
    .trim();
}
