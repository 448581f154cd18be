import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import * as idempotency from '../modules/idempotency/idempotency.service.js';
import { currentUser } from './auth.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * preHandler (after `auth.required`) that honours an `Idempotency-Key` header: the first request with a key
     * runs and its response is stored; a retry with the same key and body replays it; another body is a 422.
     */
    idempotent: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
  interface FastifyRequest {
    /** Set while this request owns an idempotency key, until its response is stored. */
    idempotencyKey: idempotency.KeyRef | null;
  }
}

/** How long a duplicate waits for the first request before answering 409. */
const DUPLICATE_WAIT_MS = 10_000;

export default fp(async function idempotencyPlugin(app: FastifyInstance) {
  app.decorateRequest('idempotencyKey', null);

  app.decorate('idempotent', async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers['idempotency-key'];
    if (typeof header !== 'string' || header === '') return;
    const now = app.clock.now();
    const ref = { userId: currentUser(request).id, key: header };
    const path = request.url.split('?')[0]!;
    const outcome = await idempotency.claim(
      app.db,
      ref,
      idempotency.fingerprint(request.method, path, request.body),
      now,
      DUPLICATE_WAIT_MS,
    );
    if (outcome.kind === 'replay') {
      return reply.code(outcome.responseCode).header('idempotent-replayed', 'true').send(outcome.responseBody);
    }
    request.idempotencyKey = ref;
  });

  // Stored before the response leaves, so a client that got an answer and retries always finds it.
  app.addHook('onSend', async (request, reply, payload) => {
    const ref = request.idempotencyKey;
    if (!ref) return payload;
    request.idempotencyKey = null;
    try {
      if (reply.statusCode >= 500) {
        await idempotency.release(app.db, ref);
      } else {
        await idempotency.complete(app.db, ref, reply.statusCode, typeof payload === 'string' ? JSON.parse(payload) : null);
      }
    } catch (err) {
      request.log.error({ err }, 'could not record the idempotent response');
    }
    return payload;
  });
});
