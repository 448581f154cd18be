import { beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../scripts/openapi-document.js';
import { listOperations, type OpenApiDocument } from './helpers/openapi-contract.js';

interface Document extends OpenApiDocument {
  servers: { url: string }[];
  tags: { name: string; description?: string }[];
  paths: Record<string, Record<string, { operationId?: string; tags?: string[]; security?: Record<string, string[]>[] }>>;
  components: { schemas: Record<string, unknown> };
}

let doc: Document;
beforeAll(async () => {
  doc = (await buildOpenApiDocument()) as Document;
});

const operations = () => listOperations(doc).map((op) => ({ ...op, spec: doc.paths[op.path]![op.method.toLowerCase()]! }));

describe('the OpenAPI document, as client generators and linters expect it', () => {
  it('names every operation with a unique camelCase operationId', () => {
    const ids = operations().map((op) => op.spec.operationId);
    for (const id of ids) expect(id).toMatch(/^[a-z][a-zA-Z]+$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.paths['/events/']!.get!.operationId).toBe('listEvents');
    expect(doc.paths['/registrations/']!.post!.operationId).toBe('createRegistration');
  });

  it('declares, with a description, every tag the operations use', () => {
    const declared = new Map(doc.tags.map((tag) => [tag.name, tag.description]));
    for (const op of operations()) {
      for (const tag of op.spec.tags ?? []) expect(declared.get(tag), `${op.name} uses tag ${tag}`).toBeTruthy();
    }
  });

  it('says of every operation whether it needs a token: public ones have security []', () => {
    const security = (method: string, path: string) => doc.paths[path]![method]!.security;
    for (const op of operations()) expect(op.spec.security, op.name).toBeDefined();
    expect(security('get', '/events/')).toEqual([]);
    expect(security('post', '/auth/login/')).toEqual([]);
    expect(security('get', '/events/{id}/')).toEqual([{}, { bearerAuth: [] }]);
    expect(security('post', '/registrations/')).toEqual([{ bearerAuth: [] }]);
  });

  it('has a relative server, so it works behind any host', () => {
    expect(doc.servers).toEqual([{ url: '/' }]);
  });

  it('names the shared shapes as components and refers to them', () => {
    const json = JSON.stringify(doc.paths);
    const refersTo = (name: string) => json.includes(`"#/components/schemas/${name}"`);
    for (const name of ['Event', 'EventPage', 'Registration', 'RegistrationPage', 'TicketDetail', 'Feedback', 'FeedbackPage']) {
      expect(refersTo(name), name).toBe(true);
    }
    for (const name of ['User', 'UserPage', 'Category', 'CategoryPage', 'Notification', 'NotificationPage', 'ErrorDetail', 'FieldErrors']) {
      expect(refersTo(name), name).toBe(true);
    }
    // A registration's tickets are the Ticket component.
    expect(JSON.stringify(doc.components.schemas.Registration)).toContain('"#/components/schemas/Ticket"');
    expect(doc.paths['/events/{id}/']!.get).toMatchObject({
      responses: { 200: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Event' } } } } },
    });
  });
});
