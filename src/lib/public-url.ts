import type { FastifyRequest } from 'fastify';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** A host name or IPv4 address, or a bracketed IPv6 address, with an optional port. */
const HOST_HEADER = /^(?:([a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)|(\[[0-9a-f:.]+\]))(?::\d{1,5})?$/i;

/**
 * The base (scheme, host, optional path) of absolute links the API writes into responses, such as pagination's
 * `next` and `previous`. The Host header is the client's to choose: a link built from any Host would let one
 * caller plant links to their own site in pages cached for everyone. So: PUBLIC_URL when it is set (production);
 * otherwise the request's Host only if it names this machine (loopback) or one of ALLOWED_HOSTS, as Django's
 * ALLOWED_HOSTS does; any other Host gets links to http://localhost:<PORT>.
 */
export function linkBase(request: FastifyRequest): string {
  const { publicUrl, allowedHosts, port } = request.server.config;
  if (publicUrl) return publicUrl;
  const host = request.host.toLowerCase();
  const match = HOST_HEADER.exec(host);
  const name = match ? (match[1] ?? match[2]!) : undefined;
  if (name && (LOOPBACK_HOSTS.has(name) || allowedHosts.includes(name))) return `${request.protocol}://${host}`;
  return `http://localhost:${port}`;
}
