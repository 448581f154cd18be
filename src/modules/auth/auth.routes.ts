import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ValidationError } from '../../lib/errors.js';
import { Paginated, PaginationQuery, pageWindow, paginated } from '../../lib/pagination.js';
import { ErrorRef, errorResponses } from '../../lib/schemas.js';
import { currentUser } from '../../plugins/auth.js';
import * as users from '../users/users.service.js';
import type { UserRow } from '../users/users.service.js';
import * as accountMail from './account-mail.service.js';
import * as auth from './auth.service.js';
import {
  Detail,
  EmailVerifyBody,
  LoginBody,
  PasswordResetBody,
  PasswordResetConfirmBody,
  PasswordChangeBody,
  ProfileReplaceBody,
  ProfileUpdateBody,
  RefreshBody,
  SignUpBody,
  SignUpResponse,
  TokenPair,
  User,
} from './auth.schemas.js';

export function toUserResponse(row: UserRow) {
  return {
    id: row.id,
    email: row.email,
    username: row.username,
    is_organizer: row.isOrganizer,
    is_staff: row.isStaff,
    is_active: row.isActive,
    date_joined: row.dateJoined.toISOString(),
    is_email_verified: row.emailVerifiedAt !== null,
  };
}

const tags = ['auth'];
const bearer = [{ bearerAuth: [] }];

const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/auth/register/',
    {
      schema: {
        tags,
        summary: 'Sign up',
        body: SignUpBody,
        response: { 201: SignUpResponse, ...errorResponses(400, 429) },
      },
    },
    async (request, reply) => {
      await app.signupThrottle.consume(request.ip);
      const user = await users.registerUser(app.db, request.body, app.clock.now());
      return reply.code(201).send({ id: user.id, email: user.email, username: user.username, is_organizer: user.isOrganizer });
    },
  );

  app.post(
    '/auth/login/',
    {
      schema: {
        tags,
        summary: 'Obtain an access and a refresh token',
        body: LoginBody,
        response: { 200: TokenPair, ...errorResponses(400, 401, 429) },
      },
    },
    async (request) => {
      const identifier = request.body.email ?? request.body.username;
      if (!identifier) throw ValidationError.field('email', 'This field is required.');
      return auth.login(
        app.db,
        app.tokens,
        app.loginThrottle,
        { identifier, password: request.body.password, ip: request.ip },
        app.clock.now(),
      );
    },
  );

  app.post(
    '/auth/token/refresh/',
    {
      schema: {
        tags,
        summary: 'Rotate a refresh token',
        description: 'Returns a new pair; the presented refresh token stops working. Presenting it again revokes its whole family.',
        body: RefreshBody,
        response: { 200: TokenPair, ...errorResponses(400, 401) },
      },
    },
    async (request) => auth.refresh(app.db, app.tokens, request.body.refresh, app.clock.now()),
  );

  app.post(
    '/auth/logout/',
    {
      schema: {
        tags,
        summary: 'Revoke a refresh token (and the tokens rotated from it)',
        body: RefreshBody,
        response: { 204: Type.Null(), ...errorResponses(400, 401) },
      },
    },
    async (request, reply) => {
      await auth.logout(app.db, app.tokens, request.body.refresh, app.clock.now());
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/auth/me/',
    {
      preHandler: app.auth.required,
      schema: { tags, security: bearer, summary: 'Your profile', response: { 200: User, 401: ErrorRef } },
    },
    async (request) => toUserResponse(await users.getUser(app.db, currentUser(request).id)),
  );

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/auth/me/',
      preHandler: app.auth.required,
      schema: {
        tags,
        security: bearer,
        summary: method === 'PUT' ? 'Replace your profile' : 'Update part of your profile',
        description:
          '`id`, `is_staff`, `is_active` and `date_joined` are read-only and ignored if sent. `email` may be left out ' +
          '(PUT too); a new address needs `current_password` (400 on `current_password` without it or when wrong).',
        body: method === 'PUT' ? ProfileReplaceBody : ProfileUpdateBody,
        response: { 200: User, ...errorResponses(400, 401) },
      },
      handler: async (request) => toUserResponse(await users.updateProfile(app.db, currentUser(request).id, request.body, app.clock.now())),
    });
  }

  app.post(
    '/auth/password/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security: bearer,
        summary: 'Change your password',
        description: 'Requires the old password; revokes every refresh token you hold.',
        body: PasswordChangeBody,
        response: { 204: Type.Null(), ...errorResponses(400, 401) },
      },
    },
    async (request, reply) => {
      const user = await users.getUser(app.db, currentUser(request).id);
      const now = app.clock.now();
      await users.changePassword(app.db, user, request.body);
      await auth.revokeAllRefreshTokens(app.db, user.id, now);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/auth/password/reset/',
    {
      schema: {
        tags,
        summary: 'Ask for a password reset mail',
        description:
          'Answers 202 whether or not an account has this address (no account enumeration). When one does, it gets a ' +
          'mail with a single-use token valid for one hour. Throttled per client IP (429) and, silently, per address.',
        body: PasswordResetBody,
        response: { 202: Detail, ...errorResponses(400, 429) },
      },
    },
    async (request, reply) => {
      await app.passwordResetThrottle.perIp.consume(request.ip);
      await accountMail.requestPasswordReset(app.db, app.linkSigner, app.passwordResetThrottle, request.body.email, app.clock.now());
      return reply.code(202).send({ detail: 'If an account has this address, a password reset link has been sent to it.' });
    },
  );

  app.post(
    '/auth/password/reset/confirm/',
    {
      schema: {
        tags,
        summary: 'Set a new password with a reset token',
        description:
          'The token from the mail works once, within an hour. The password rules are those of sign-up. Every refresh ' +
          'token of the account is revoked (every session has to log in again). An invalid token is a 400 on `token`.',
        body: PasswordResetConfirmBody,
        response: { 204: Type.Null(), ...errorResponses(400) },
      },
    },
    async (request, reply) => {
      await accountMail.confirmPasswordReset(app.db, request.body, app.clock.now());
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/auth/email/verify/',
    {
      schema: {
        tags,
        summary: 'Confirm your email address with the token mailed to it',
        description: 'The token is valid for 7 days and only for the address it was sent to. An invalid token is a 400 on `token`.',
        body: EmailVerifyBody,
        response: { 200: User, ...errorResponses(400) },
      },
    },
    async (request) => toUserResponse(await accountMail.verifyEmail(app.db, app.linkSigner, request.body.token, app.clock.now())),
  );

  app.post(
    '/auth/email/verify/resend/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security: bearer,
        summary: 'Send the verification mail again',
        description: 'Answers 202; nothing is sent when the address is already verified. Throttled like password resets.',
        response: { 202: Detail, ...errorResponses(401, 429) },
      },
    },
    async (request, reply) => {
      await app.passwordResetThrottle.perIp.consume(request.ip);
      const user = await users.getUser(app.db, currentUser(request).id);
      if (!user.emailVerifiedAt) await users.queueVerificationMail(app.db, user, app.clock.now());
      return reply.code(202).send({ detail: 'A verification link has been sent to your address.' });
    },
  );

  app.get(
    '/auth/all/',
    {
      preHandler: app.auth.required,
      schema: {
        tags,
        security: bearer,
        summary: 'All users (staff only)',
        querystring: Type.Object(PaginationQuery),
        response: { 200: Paginated(User), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const window = pageWindow(request.query);
      const { rows, total } = await users.listUsers(app.db, currentUser(request), window.limit, window.offset);
      return paginated(request, window, total, rows.map(toUserResponse));
    },
  );
};

export default authRoutes;
