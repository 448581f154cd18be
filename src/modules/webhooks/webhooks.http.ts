import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { hostOf, isForbiddenAddress, pinnedLookup, TargetRefused, type TargetPolicy } from './webhooks.target.js';

export interface PostResult {
  /** Null when no answer came. */
  statusCode: number | null;
  /** The start of the answer's body (at most `maxBodyBytes`, as UTF-8 text). */
  body: string | null;
  error: string | null;
  /** The target resolved to an address webhooks may not reach: trying again will not help. */
  refused?: boolean;
  durationMs: number;
}

/**
 * POSTs a webhook: no redirect is followed (a 3xx is just an answer), the whole exchange is cut off after
 * `timeoutMs`, and only the first `maxBodyBytes` of the answer are read (the connection is closed then, so a
 * receiver cannot make us download a large answer). Never throws: every failure is a result.
 */
export function postWebhook(
  url: URL,
  headers: Record<string, string>,
  body: string,
  options: { timeoutMs: number; maxBodyBytes: number; policy: TargetPolicy },
): Promise<PostResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Omit<PostResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve({ ...result, durationMs: elapsed() });
    };
    // An address literal skips the lookup, so it is checked here.
    const host = hostOf(url);
    if (!options.policy.allowPrivate && net.isIP(host) && isForbiddenAddress(host)) {
      resolve({ statusCode: null, body: null, error: 'The URL points at an internal address; refused.', refused: true, durationMs: 0 });
      return;
    }
    const client = url.protocol === 'https:' ? https : http;
    const request = client.request(url, {
      method: 'POST',
      headers: {
        ...headers,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'user-agent': 'event-ticketing-webhooks/1',
      },
      lookup: pinnedLookup(options.policy),
      // A fresh connection per delivery: a pooled one could outlive the address check it was made under.
      agent: false,
    });
    const timer = setTimeout(
      () => finish({ statusCode: null, body: null, error: `No complete answer within ${options.timeoutMs} ms.` }),
      options.timeoutMs,
    );
    request.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof TargetRefused) return finish({ statusCode: null, body: null, error: err.message, refused: true });
      finish({ statusCode: null, body: null, error: `${err.code ?? 'error'}: ${err.message}` });
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () =>
        finish({
          statusCode: response.statusCode ?? null,
          body: Buffer.concat(chunks).subarray(0, options.maxBodyBytes).toString('utf8'),
          error: null,
        });
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= options.maxBodyBytes) done();
      });
      response.on('end', done);
      response.on('error', done);
    });
    request.end(body);
  });
}
