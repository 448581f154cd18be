import type { Ajv, AnySchema, ErrorObject, ValidateFunction } from 'ajv';
import formatsModule from 'ajv-formats';

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module object.
const addFormats = formatsModule as unknown as typeof formatsModule.default;

/** The canonical 8-4-4-4-12 spelling only: ajv-formats also takes `urn:uuid:…`, which PostgreSQL's uuid refuses. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/;

/** The instants the database can store and JavaScript prints as ISO 8601 with a four-digit year (UTC). */
const EARLIEST = Date.UTC(1, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** True for an instant between the years 1 and 9999 (UTC): what timestamptz stores and `toISOString` prints plainly. */
export function isStorableInstant(at: Date): boolean {
  const time = at.getTime();
  return time >= EARLIEST && time <= LATEST;
}

/**
 * RFC 3339 date-times that name one storable instant: a real calendar day, hours 0-23, seconds 0-59 (a leap second
 * has no timestamp to land on), an offset with hours and minutes (or Z), and a UTC instant within years 1-9999.
 * ajv-formats accepts leap seconds, hour-only offsets and instants past 9999, which the database then refuses.
 */
export function isStrictDateTime(value: string): boolean {
  const match = RFC3339.exec(value);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const calendarDay = new Date(Date.UTC(2000, month - 1, day));
  calendarDay.setUTCFullYear(year);
  if (calendarDay.getUTCMonth() !== month - 1 || calendarDay.getUTCDate() !== day) return false;
  if (hour > 23 || minute > 59 || second > 59) return false;
  if (match[9] !== undefined && (Number(match[9]) > 23 || Number(match[10]) > 59)) return false;
  return isStorableInstant(new Date(value));
}

/** The path (`/quantity`, `/items/0`) of the first number that is not finite, or undefined. */
function nonFinitePath(value: unknown): string | undefined {
  // Iterative: bodies are checked for depth only after validation has run.
  const pending: Array<[unknown, string]> = [[value, '']];
  while (pending.length) {
    const [current, path] = pending.pop()!;
    if (typeof current === 'number' && !Number.isFinite(current)) return path;
    if (current !== null && typeof current === 'object') {
      for (const [key, inner] of Object.entries(current)) pending.push([inner, `${path}/${key}`]);
    }
  }
  return undefined;
}

/**
 * Ajv coerces the strings "Infinity", "-Infinity" and "1e309" (and JSON reads the number 1e309) to ±Infinity,
 * which passes an integer check, and with strictNumbers it then skips minimum and maximum instead of failing.
 * Every validator compiled for a route is wrapped so that a non-finite number, wherever it sits after coercion,
 * fails validation as a type error on its field.
 */
function rejectNonFiniteNumbers(ajv: Ajv): void {
  const compile = ajv.compile.bind(ajv);
  ajv.compile = (<T>(schema: AnySchema, meta?: boolean): ValidateFunction<T> => {
    const validate = compile<T>(schema, meta);
    const checked = ((data: unknown, context?: never) => {
      const valid = validate(data, context);
      checked.errors = validate.errors;
      if (!valid) return false;
      const path = nonFinitePath(data);
      if (path === undefined) return true;
      const error: ErrorObject = {
        instancePath: path,
        schemaPath: '#',
        keyword: 'type',
        params: { type: 'number' },
        message: 'must be finite',
      };
      checked.errors = [error];
      return false;
    }) as ValidateFunction<T>;
    return Object.assign(checked, { schema: validate.schema, schemaEnv: validate.schemaEnv });
  }) as Ajv['compile'];
}

/**
 * Ajv plugin: the usual ajv-formats with `uuid` and `date-time` replaced by the strict versions above, and no
 * non-finite number let through, so every value that passes validation can be stored and compared by PostgreSQL.
 */
export function strictValidation(ajv: Ajv): Ajv {
  addFormats(ajv);
  ajv.addFormat('uuid', UUID_PATTERN);
  ajv.addFormat('date-time', { type: 'string', validate: isStrictDateTime });
  rejectNonFiniteNumbers(ajv);
  return ajv;
}
// @fastify/ajv-compiler adds ajv-formats itself unless a plugin has this name; ours already includes it.
Object.defineProperty(strictValidation, 'name', { value: 'formatsPlugin' });
