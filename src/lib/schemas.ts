import { Type } from 'typebox';

/** Shared response and parameter schemas, so every route documents its errors the same way. */
export const ErrorDetail = Type.Object(
  { detail: Type.String(), code: Type.Optional(Type.String()) },
  { $id: 'ErrorDetail', additionalProperties: true, description: 'Any non-validation error.' },
);

/** A 400 is either per-field validation messages or, for an unreadable request (malformed JSON), `{detail, code}`. */
export const FieldErrors = Type.Record(Type.String(), Type.Union([Type.Array(Type.String()), Type.String()]), {
  $id: 'FieldErrors',
  description:
    'Validation errors by field (problems not tied to a field are under non_field_errors); an unreadable body gives {detail, code}.',
});

export const ErrorRef = Type.Ref('ErrorDetail');
export const FieldErrorsRef = Type.Ref('FieldErrors');

export const DateTime = (description?: string) => Type.String({ format: 'date-time', ...(description ? { description } : {}) });
export const Uuid = (description?: string) => Type.String({ format: 'uuid', ...(description ? { description } : {}) });

export const IdParams = Type.Object({ id: Uuid() });

/** Standard error responses to merge into a route's `response` map. */
export const errors = {
  400: FieldErrorsRef,
  401: ErrorRef,
  403: ErrorRef,
  404: ErrorRef,
  409: ErrorRef,
  422: ErrorRef,
  429: ErrorRef,
} as const;

export function errorResponses<K extends keyof typeof errors>(...codes: K[]): Pick<typeof errors, K> {
  const picked = {} as Pick<typeof errors, K>;
  for (const code of codes) picked[code] = errors[code];
  return picked;
}

/** The optional `Idempotency-Key` header of the routes that change seats (see plugins/idempotency.ts). */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description: 'Makes a retry safe: the same key and body within 24 hours replays the first response instead of acting again.',
    }),
  ),
});
