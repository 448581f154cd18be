import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import helmet from 'helmet';

/**
 * The headers Helmet's middleware sets with its defaults (CSP, HSTS, nosniff, frame and referrer policies, …), as
 * name → value, with the names it removes (X-Powered-By) as undefined. Computed once: none depends on the request.
 */
export function helmetHeaders(): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => {
      headers[name.toLowerCase()] = undefined;
    },
  };
  let ran = false;
  helmet()({} as never, response as never, () => (ran = true));
  if (!ran) throw new Error('helmet did not finish synchronously');
  return headers;
}

/**
 * Helmet's security headers on every answer; a route may still replace one (the web app sends its own CSP).
 * @fastify/helmet built Helmet's middleware again for every request, parsing the CSP each time: about a tenth of the
 * CPU of a signed-in event page (issue 18). The values are the same: test/security-headers.test.ts compares them.
 */
const securityHeaders: FastifyPluginAsync = async (app) => {
  const set = Object.entries(helmetHeaders()).filter((entry): entry is [string, string] => entry[1] !== undefined);
  app.addHook('onRequest', (_request, reply, done) => {
    for (const [name, value] of set) reply.header(name, value);
    done();
  });
};

export default fp(securityHeaders, { name: 'security-headers' });
