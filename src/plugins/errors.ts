import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError, ValidationError, pgErrorCode, type FieldErrors } from '../lib/errors.js';

interface AjvIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** Human messages in the reference framework's words, so clients see familiar text. */
function messageFor(issue: AjvIssue): string {
  const p = issue.params;
  switch (issue.keyword) {
    case 'required':
      return 'This field is required.';
    case 'type':
      if (p.type === 'integer') return 'A valid integer is required.';
      if (p.type === 'number') return 'A valid number is required.';
      if (p.type === 'boolean') return 'Must be a valid boolean.';
      if (p.type === 'string') return 'Not a valid string.';
      if (p.type === 'array') return 'Expected a list of items.';
      if (p.type === 'object') return 'Expected a dictionary of items.';
      return `Must be of type ${String(p.type)}.`;
    case 'format':
      if (p.format === 'email') return 'Enter a valid email address.';
      if (p.format === 'uuid') return 'Must be a valid UUID.';
      if (p.format === 'date-time') return 'Datetime has wrong format. Use ISO 8601, e.g. 2025-08-01T09:00:00Z.';
      if (p.format === 'date') return 'Date has wrong format. Use YYYY-MM-DD.';
      return `Invalid ${String(p.format)}.`;
    case 'minLength':
      return Number(p.limit) === 1 ? 'This field may not be blank.' : `Ensure this field has at least ${String(p.limit)} characters.`;
    case 'maxLength':
      return `Ensure this field has no more than ${String(p.limit)} characters.`;
    case 'minimum':
      return `Ensure this value is greater than or equal to ${String(p.limit)}.`;
    case 'maximum':
      return `Ensure this value is less than or equal to ${String(p.limit)}.`;
    case 'enum':
    case 'const':
      return `Not a valid choice. Choose one of: ${((p.allowedValues as unknown[]) ?? [p.allowedValue]).join(', ')}.`;
    case 'pattern':
      return 'Enter a valid value.';
    case 'anyOf':
    case 'oneOf':
      return 'Enter a valid value.';
    default:
      return issue.message ? `${issue.message[0]!.toUpperCase()}${issue.message.slice(1)}.` : 'Invalid value.';
  }
}

/** Turns Ajv's issues into `{"field": ["message"]}`, the shape clients of the reference API parse. */
export function fieldErrorsFromAjv(issues: AjvIssue[]): FieldErrors {
  const fields: FieldErrors = {};
  for (const issue of issues) {
    // anyOf/oneOf report each branch too; the branch errors only confuse a reader.
    if (issues.length > 1 && (issue.keyword === 'anyOf' || issue.keyword === 'oneOf')) continue;
    let field = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
    if (issue.keyword === 'required') {
      const missing = String(issue.params.missingProperty).replace(/^\./, '');
      field = field ? `${field}.${missing}` : missing;
    }
    if (!field) {
      field = 'non_field_errors';
    }
    const message =
      field === 'non_field_errors' && issue.keyword === 'type'
        ? `Invalid data. Expected a dictionary, but got ${issue.params.type === 'object' ? 'something else' : 'a value'}.`
        : messageFor(issue);
    const list = (fields[field] ??= []);
    if (!list.includes(message)) list.push(message);
  }
  return fields;
}

const UNREACHABLE_CODES = ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'];
const UNREACHABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|not queryable|Client was closed|Cannot use a pool after calling end/;

/**
 * The database is down or restarting, as the error reports it anywhere along its cause chain (Drizzle wraps
 * driver errors): connection classes 08 and 57P0x (admin/crash shutdown, starting up), socket errors, and
 * node-postgres' own messages for a dead or closing connection.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const pgCode = pgErrorCode(error);
  if (pgCode && /^(08|57P0)/.test(pgCode)) return true;
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && UNREACHABLE_CODES.includes(code)) return true;
    if (typeof message === 'string' && UNREACHABLE_MESSAGES.test(message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

const NULL_CHARACTER_MESSAGE = 'Null characters are not allowed.';
/** Deeper than any request of this API needs; deeper values would overflow recursive code (hashing, logging). */
export const MAX_JSON_DEPTH = 32;
const TOO_DEEP_MESSAGE = `JSON nested more than ${MAX_JSON_DEPTH} levels deep is not accepted.`;

/**
 * What makes a request part unusable before validation: the field path (`title`, `tags.0`) of a NUL character,
 * which PostgreSQL text cannot hold (the reference framework rejects it up front with the same message on every
 * string field), or nesting deeper than MAX_JSON_DEPTH. Undefined when there is neither.
 */
export function unstorableValue(value: unknown): { field: string; message: string } | undefined {
  // Iterative: a hostile body may nest thousands of levels deep, which recursion would not survive.
  const pending: Array<[unknown, string, number]> = [[value, '', 0]];
  while (pending.length) {
    const [current, path, depth] = pending.pop()!;
    if (typeof current === 'string') {
      if (current.includes('\u0000')) return { field: path || 'non_field_errors', message: NULL_CHARACTER_MESSAGE };
    } else if (current !== null && typeof current === 'object') {
      if (depth >= MAX_JSON_DEPTH) return { field: 'non_field_errors', message: TOO_DEEP_MESSAGE };
      for (const [key, inner] of Object.entries(current)) {
        if (key.includes('\u0000')) return { field: path || 'non_field_errors', message: NULL_CHARACTER_MESSAGE };
        pending.push([inner, path ? `${path}.${key}` : key, depth + 1]);
      }
    }
  }
  return undefined;
}

export default fp(async function errorsPlugin(app: FastifyInstance) {
  // Before schema validation, so every route gets it without declaring a pattern on each string.
  app.addHook('preValidation', async (request, reply) => {
    if (unstorableValue(request.params)) {
      return reply.code(404).send({ detail: 'Not found.', code: 'not_found' });
    }
    const problem = unstorableValue(request.query) ?? unstorableValue(request.body);
    if (problem) return reply.code(400).send({ [problem.field]: [problem.message] });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ detail: 'Not found.', code: 'not_found' });
  });

  app.setErrorHandler((error: FastifyError & { validation?: AjvIssue[] }, request, reply) => {
    if (error instanceof ValidationError) {
      return reply.code(400).send(error.fields);
    }
    if (error instanceof ApiError) {
      return reply.code(error.statusCode).headers(error.headers).send(error.toBody());
    }
    if (error.validation) {
      // A malformed id in the path means "no such object", as the reference framework's URL converters do.
      if (error.validationContext === 'params') {
        return reply.code(404).send({ detail: 'Not found.', code: 'not_found' });
      }
      return reply.code(400).send(fieldErrorsFromAjv(error.validation));
    }
    const status = error.statusCode ?? 500;
    if (status === 429) {
      return reply.code(429).send({ detail: 'Request was throttled.', code: 'throttled' });
    }
    if (status >= 400 && status < 500) {
      const detail =
        error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError
          ? `JSON parse error - ${error.message}`
          : error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
            ? 'Request body is too large.'
            : error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
              ? `Unsupported media type "${request.headers['content-type'] ?? ''}" in request.`
              : error.message;
      return reply.code(status).send({ detail, code: (error.code ?? 'bad_request').toLowerCase() });
    }
    // Backstop for a NUL that reached the database some other way (22021: invalid byte sequence).
    if (pgErrorCode(error) === '22021') {
      return reply.code(400).send({ detail: NULL_CHARACTER_MESSAGE, code: 'invalid' });
    }
    // Lost database connections (restart, failover) are an outage, not a bug: 503 lets clients retry.
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: error }, 'database unavailable');
      return reply.code(503).header('Retry-After', '5').send({ detail: 'Service temporarily unavailable.', code: 'unavailable' });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({ detail: 'A server error occurred.', code: 'server_error' });
  });
});
