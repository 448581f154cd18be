import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ValidationError } from '../../lib/errors.js';
import { errorResponses } from '../../lib/schemas.js';
import { currentUser } from '../../plugins/auth.js';
import { escapeHtml } from './mail.templates.js';
import * as service from './mail.service.js';

const tags = ['notifications'];
const security = [{ bearerAuth: [] }];

const Preferences = Type.Object(
  {
    reminders: Type.Boolean({ description: '"Starts soon" reminders.' }),
    feedback_requests: Type.Boolean({ description: 'Requests for feedback after an event.' }),
    event_changes: Type.Boolean({ description: 'An event you registered for changed its date or place.' }),
  },
  {
    description:
      'Which optional mails you get (all on by default). Confirmations, waiting-list and promotion mails, ' +
      'cancellations and account mails always go out.',
  },
);
const PreferencesUpdate = Type.Partial(Preferences);
const UnsubscribeQuery = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) });
const Unsubscribed = Type.Object({ detail: Type.String(), preference: Type.String() });

const invalidLink = () => ValidationError.field('token', 'This unsubscribe link is invalid.');

const mailRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/notifications/preferences/',
    {
      preHandler: app.auth.required,
      schema: { tags, security, summary: 'Your mail preferences', response: { 200: Preferences, ...errorResponses(401) } },
    },
    async (request) => service.getPreferences(app.db, currentUser(request).id),
  );

  app.put(
    '/notifications/preferences/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security,
        summary: 'Change your mail preferences',
        description: 'Fields left out keep their value. A mail already queued follows the preference as it is when it is sent.',
        body: PreferencesUpdate,
        response: { 200: Preferences, ...errorResponses(400, 401) },
      },
    },
    async (request) => service.setPreferences(app.db, currentUser(request).id, request.body, app.clock.now()),
  );

  // RFC 8058 one-click: mail providers POST `List-Unsubscribe=One-Click` as a form; the token in the URL says who and
  // what. The form body itself carries nothing we need, so it is read as text and ignored.
  app.addContentTypeParser(['application/x-www-form-urlencoded', 'multipart/form-data'], { parseAs: 'string' }, (_req, body, done) =>
    done(null, body),
  );

  app.post(
    '/notifications/unsubscribe/',
    {
      schema: {
        tags,
        summary: 'One-click unsubscribe (RFC 8058)',
        description:
          'The URL of the `List-Unsubscribe` header of every mail that can be turned off. Turns that kind of mail off ' +
          'for the user the signed token names; no login needed. Any body (mail providers send ' +
          '`List-Unsubscribe=One-Click` as a form) is ignored.',
        querystring: UnsubscribeQuery,
        response: { 200: Unsubscribed, ...errorResponses(400) },
      },
    },
    async (request) => {
      const done = await service.unsubscribe(app.db, app.linkSigner, request.query.token, app.clock.now());
      if (!done) throw invalidLink();
      return { detail: `You will no longer get ${done.preference.replace('_', ' ')} by mail.`, preference: done.preference };
    },
  );

  app.get(
    '/notifications/unsubscribe/',
    {
      schema: {
        tags,
        summary: 'Unsubscribe page',
        description:
          'For the link in the mail body: a page with one button that POSTs to the same URL. Opening it changes ' +
          'nothing, so link scanners cannot unsubscribe anybody.',
        querystring: UnsubscribeQuery,
        produces: ['text/html'],
        response: { 200: Type.String(), ...errorResponses(400) },
      },
    },
    async (request, reply) => {
      const target = service.readUnsubscribeToken(app.linkSigner, request.query.token);
      if (!target) throw invalidLink();
      const action = `?token=${encodeURIComponent(request.query.token)}`;
      const what = escapeHtml(target.preference.replace('_', ' '));
      return reply
        .type('text/html; charset=utf-8')
        .send(
          `<!doctype html><html><head><meta charset="utf-8"><title>Unsubscribe</title></head><body>` +
            `<form method="post" action="${escapeHtml(action)}"><p>Stop receiving ${what} by mail?</p>` +
            `<button type="submit">Unsubscribe</button></form></body></html>`,
        );
    },
  );
};

export default mailRoutes;
