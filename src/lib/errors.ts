/**
 * Domain errors. Every error the API returns goes through one of these shapes, as the reference framework does:
 * validation `{"field": ["message"]}` (non-field problems under `non_field_errors`), everything else
 * `{"detail": "...", "code": "..."}` where `code` is stable and machine-readable.
 */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly detail: string,
    readonly code: string,
    readonly headers: Record<string, string> = {},
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }

  toBody(): Record<string, unknown> {
    return { detail: this.detail, code: this.code, ...this.extra };
  }
}

export type FieldErrors = Record<string, string[]>;

export class ValidationError extends Error {
  readonly statusCode = 400;
  constructor(readonly fields: FieldErrors) {
    super('Validation failed');
  }

  static field(field: string, message: string): ValidationError {
    return new ValidationError({ [field]: [message] });
  }
}

export const notFound = (detail = 'Not found.') => new ApiError(404, detail, 'not_found');
export const forbidden = (detail = 'You do not have permission to perform this action.') => new ApiError(403, detail, 'permission_denied');
export const notAuthenticated = (detail = 'Authentication credentials were not provided.') =>
  new ApiError(401, detail, 'not_authenticated', { 'WWW-Authenticate': 'Bearer realm="api"' });
export const conflict = (detail: string, code: string, extra: Record<string, unknown> = {}) => new ApiError(409, detail, code, {}, extra);
export const badRequest = (detail: string, code: string) => new ApiError(400, detail, code);

/** Postgres error code of a failed query, whether thrown by pg, PGlite, or wrapped by Drizzle. */
export function pgErrorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Name of the constraint a unique/check violation hit, if the driver reports it. */
export function pgConstraint(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; current && depth < 4; depth++) {
    const constraint = (current as { constraint?: unknown }).constraint;
    if (typeof constraint === 'string') return constraint;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export const isUniqueViolation = (err: unknown, constraint?: string) =>
  pgErrorCode(err) === '23505' && (constraint === undefined || pgConstraint(err) === constraint);
