import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** The parts of an OpenAPI 3 document these tests read. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, unknown> };
}

interface OpenApiOperation {
  parameters?: { name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema?: JsonSchema }[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  security?: unknown[];
}

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  [key: string]: unknown;
}

export interface Operation {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** As in the document: `/events/{id}/`. */
  path: string;
  /** `GET /events/{id}/`, the name tests use. */
  name: string;
  pathParams: string[];
  /** Query parameters with their schemas. */
  query: Record<string, JsonSchema>;
  /** The JSON request body schema, when the operation takes one. */
  body?: JsonSchema;
  /** Declared response statuses, e.g. ['200', '400', '401']. */
  statuses: string[];
  /** Content types the operation may answer with (any status). */
  responseTypes: string[];
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

export function listOperations(doc: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const responses = op.responses ?? {};
      operations.push({
        method: method.toUpperCase() as Operation['method'],
        path,
        name: `${method.toUpperCase()} ${path}`,
        pathParams: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
        query: Object.fromEntries((op.parameters ?? []).filter((p) => p.in === 'query').map((p) => [p.name, p.schema ?? {}])),
        body: op.requestBody?.content?.['application/json']?.schema,
        statuses: Object.keys(responses),
        responseTypes: [...new Set(Object.values(responses).flatMap((r) => Object.keys(r.content ?? {})))],
      });
    }
  }
  return operations;
}

/** Fills `{name}` placeholders; values are URL-encoded so any string makes a well-formed URL. */
export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? ''));
}

/**
 * Validates response bodies against the operation's declared response schemas, resolving `$ref`s from the
 * document's components. An undeclared 4xx must still be the shared error shape; an undeclared 2xx or 5xx is
 * always a contract break.
 */
export function responseChecker(doc: OpenApiDocument) {
  // strict: false because OpenAPI schemas carry keywords JSON Schema lacks (example, xml…); `nullable` is built in.
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ components: doc.components ?? {} }, 'openapi');
  const cache = new Map<unknown, ValidateFunction>();
  const compile = (schema: unknown) => {
    let validate = cache.get(schema);
    if (!validate) {
      // Rebase local refs (#/components/…) onto the registered document.
      const rebased = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/'));
      validate = ajv.compile(rebased);
      cache.set(schema, validate);
    }
    return validate;
  };
  const errorDetail = { $ref: '#/components/schemas/ErrorDetail' };
  const fieldErrors = { $ref: '#/components/schemas/FieldErrors' };

  /** Undefined when the response keeps the contract; otherwise why not. */
  return function check(op: Operation, status: number, contentType: string | undefined, body: string): string | undefined {
    if (status >= 500) return `server error ${status}: ${body.slice(0, 300)}`;
    const declared = doc.paths[op.path]![op.method.toLowerCase()]!.responses?.[String(status)];
    if (!declared && status < 400) return `undeclared status ${status}`;
    const isJson = (contentType ?? '').startsWith('application/json');
    if (declared) {
      const schemas = declared.content ?? {};
      if (Object.keys(schemas).length === 0)
        return body === '' ? undefined : `status ${status} declares no body, got ${body.slice(0, 100)}`;
      if (!isJson) {
        const type = (contentType ?? '').split(';')[0]!;
        return type in schemas ? undefined : `content type ${contentType} not declared for ${status}`;
      }
    }
    if (!isJson) return `status ${status} answered ${contentType ?? 'no content type'}, not JSON`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return `status ${status} body is not JSON: ${body.slice(0, 100)}`;
    }
    const schema = declared?.content?.['application/json']?.schema ?? (status === 400 ? fieldErrors : errorDetail);
    const validate = compile(schema);
    if (validate(parsed)) return undefined;
    return `status ${status} body breaks its schema: ${ajv.errorsText(validate.errors)}; body ${body.slice(0, 300)}`;
  };
}
