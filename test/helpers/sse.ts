import http from 'node:http';
import type { FastifyInstance } from 'fastify';

export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

export interface SseStream {
  status: number;
  headers: Headers;
  /** Body of a non-200 answer. */
  errorBody?: unknown;
  messages: SseMessage[];
  comments: string[];
  /** Resolves once `count` messages arrived (rejects after `timeoutMs`). */
  waitForMessages(count: number, timeoutMs?: number): Promise<SseMessage[]>;
  waitForComment(text: string, timeoutMs?: number): Promise<void>;
  close(): void;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
}

/** Starts the app on a random local port (once) and returns its base URL. */
export async function listenOnce(app: FastifyInstance): Promise<string> {
  const address = app.server.address();
  if (address && typeof address === 'object') return `http://127.0.0.1:${address.port}`;
  return app.listen({ port: 0, host: '127.0.0.1' });
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A minimal EventSource over a plain node:http request on its own socket (no keep-alive agent, so closing it
 * really closes the connection, as a browser tab going away does).
 */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const request = http.get(url, { agent: false, headers: { accept: 'text/event-stream', ...headers } });
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    request.once('response', resolve);
    request.once('error', reject);
  });
  request.on('error', () => {});
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  let errorBody: unknown;
  let ended: Promise<void> = Promise.resolve();
  if (res.statusCode !== 200) {
    let text = '';
    for await (const chunk of res) text += String(chunk);
    errorBody = text ? JSON.parse(text) : undefined;
  } else {
    res.setEncoding('utf8');
    let buffer = '';
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const message: SseMessage = { data: '' };
        let isMessage = false;
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) {
            comments.push(line.slice(1).trim());
            continue;
          }
          if (line.startsWith('id: ')) message.id = line.slice(4);
          else if (line.startsWith('event: ')) message.event = line.slice(7);
          else if (line.startsWith('data: ')) message.data += line.slice(6);
          else continue;
          isMessage = true;
        }
        if (isMessage) messages.push(message);
      }
    });
    ended = new Promise((resolve) => res.once('close', () => resolve()));
  }
  const responseHeaders = new Headers();
  for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') responseHeaders.set(name, value);
  return {
    status: res.statusCode ?? 0,
    headers: responseHeaders,
    errorBody,
    messages,
    comments,
    ended,
    waitForMessages: async (count, timeoutMs = 5_000) => {
      await until(() => messages.length >= count, timeoutMs, `${count} stream messages (got ${messages.length})`);
      return messages;
    },
    waitForComment: (text, timeoutMs = 5_000) => until(() => comments.includes(text), timeoutMs, `comment "${text}"`),
    close: () => request.destroy(),
  };
}
