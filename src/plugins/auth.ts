import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError, notAuthenticated } from '../lib/errors.js';
import type { TokenService } from '../modules/auth/tokens.js';
import { SignedInUsers } from '../modules/users/signed-in-users.js';
import { findUsersByIds, type UserRow } from '../modules/users/users.repository.js';

export interface AuthUser {
  id: string;
  email: string;
  username: string;
  isOrganizer: boolean;
  isStaff: boolean;
  /** Set by the access-token check (REQUIRE_EMAIL_VERIFICATION reads it). */
  emailVerified?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller, or null for anonymous requests. Set by the `authenticate` hooks. */
    user: AuthUser | null;
  }
  interface FastifyInstance {
    auth: {
      /** preHandler: 401 unless a valid access token of an active user is presented. */
      required: (request: FastifyRequest) => Promise<void>;
      /** preHandler: sets request.user when a token is presented (and valid); anonymous otherwise. */
      optional: (request: FastifyRequest) => Promise<void>;
    };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const invalidToken = () =>
  new ApiError(401, 'Given token not valid for any token type', 'token_not_valid', {
    'WWW-Authenticate': 'Bearer realm="api", error="invalid_token"',
  });

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw invalidToken();
  return match[1];
}

export default fp(async function authPlugin(app: FastifyInstance, opts: { tokens: TokenService }) {
  app.decorateRequest('user', null);

  const signedIn = new SignedInUsers((ids) => findUsersByIds(app.db, ids), app.config.authCacheMs, app.clock);

  const toAuthUser = (row: UserRow | undefined): AuthUser => {
    if (!row || !row.isActive) throw invalidToken();
    return {
      id: row.id,
      email: row.email,
      username: row.username,
      isOrganizer: row.isOrganizer,
      isStaff: row.isStaff,
      emailVerified: row.emailVerifiedAt !== null,
    };
  };

  /**
   * Resolves a token to an active user: at once when the user was read within AUTH_CACHE_MS (signed-in-users.ts),
   * else as a promise. The row is read again at least once a second, so a deactivation or a role change takes effect
   * within a second everywhere, and at once in the process that made it.
   */
  function userFromToken(token: string): AuthUser | Promise<AuthUser> {
    const now = app.clock.now();
    const claims = opts.tokens.read(token, 'access', now);
    // A subject that is not a uuid cannot be ours (and would be a type error in the query, not a 401).
    if (!claims || !UUID.test(claims.sub)) throw invalidToken();
    const row = signedIn.cached(claims.sub, now.getTime());
    return row ? toAuthUser(row) : signedIn.find(claims.sub).then(toAuthUser);
  }

  /** Sets request.user from the request's token: at once when it is cached, else once the returned promise settles. */
  function authenticate(request: FastifyRequest, required: boolean): void | Promise<void> {
    const token = bearerToken(request);
    if (!token) {
      if (required) throw notAuthenticated();
      return;
    }
    const user = userFromToken(token);
    if (!(user instanceof Promise)) {
      request.user = user;
      return;
    }
    return user.then((found) => {
      request.user = found;
    });
  }

  const auth = {
    required: async (request: FastifyRequest) => authenticate(request, true),
    optional: async (request: FastifyRequest) => authenticate(request, false),
  };

  /**
   * The same checks as `auth.required` and `auth.optional`, as callback hooks that finish without a promise when the
   * user is cached: the common case of every signed-in request (issue 18).
   */
  const authenticateHook =
    (required: boolean) =>
    (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void => {
      let pending: void | Promise<void>;
      try {
        pending = authenticate(request, required);
      } catch (error) {
        return done(error as Error);
      }
      if (pending) pending.then(() => done(), done);
      else done();
    };
  // Each hook names the preHandler it stands for (`declaredAs`), so the OpenAPI build still sees which routes take a token.
  const hookFor = new Map<unknown, ReturnType<typeof authenticateHook>>([
    [auth.required, Object.assign(authenticateHook(true), { declaredAs: auth.required })],
    [auth.optional, Object.assign(authenticateHook(false), { declaredAs: auth.optional })],
  ]);
  app.decorate('auth', auth);

  // Routes declare `preHandler: app.auth.required`; run it first instead (onRequest), as the reference framework
  // authenticates before it parses or validates: an anonymous caller gets 401, not a 400 about a body it
  // was never allowed to send, nor 413/415 for it.
  app.addHook('onRoute', (route) => {
    const preHandler = route.preHandler === undefined ? [] : [route.preHandler].flat();
    const moved = preHandler.filter((hook) => hookFor.has(hook)).map((hook) => hookFor.get(hook)!);
    if (moved.length === 0) return;
    route.preHandler = preHandler.filter((hook) => !hookFor.has(hook));
    route.onRequest = [...moved, ...(route.onRequest === undefined ? [] : [route.onRequest].flat())] as typeof route.onRequest;
  });
});

/** The caller of a route behind `app.auth.required`. */
export function currentUser(request: FastifyRequest): AuthUser {
  if (!request.user) throw notAuthenticated();
  return request.user;
}
