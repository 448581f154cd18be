import { Type, type Static } from 'typebox';
import { PaginationQuery } from '../../lib/pagination.js';
import { DateTime, Uuid } from '../../lib/schemas.js';
import { User } from '../auth/auth.schemas.js';
import { EventListQuery } from '../events/events.schemas.js';
import { Feedback } from '../feedbacks/feedbacks.schemas.js';
import { auditActions, auditTargetTypes } from '../audit/audit.service.js';

const Flag = (description: string) => Type.Optional(Type.Boolean({ description }));

export const UserSearchQuery = Type.Object({
  ...PaginationQuery,
  search: Type.Optional(Type.String({ maxLength: 254, description: 'Part of the email or username (case-insensitive).' })),
  is_organizer: Flag('Only organizers (true) or only non-organizers (false).'),
  is_staff: Flag('Only staff (true) or only non-staff (false).'),
  is_active: Flag('Only active (true) or only deactivated (false) users.'),
});
export type UserSearchQuery = Static<typeof UserSearchQuery>;

export const UserDetail = Type.Object({
  ...User.properties,
  counts: Type.Object({
    registrations: Type.Integer({ description: 'Registrations ever made, cancelled ones included.' }),
    events: Type.Integer({ description: 'Events organized, cancelled ones included.' }),
    feedbacks: Type.Integer(),
  }),
});

export const UserAccessBody = Type.Object(
  { is_active: Type.Optional(Type.Boolean()), is_organizer: Type.Optional(Type.Boolean()), is_staff: Type.Optional(Type.Boolean()) },
  { description: 'Nobody removes their own staff flag or deactivates themselves; the last active staff user never loses staff.' },
);

export const AdminEventListQuery = Type.Object({
  ...EventListQuery.properties,
  is_active: Flag('Only active (true) or only cancelled (false) events; both when omitted.'),
});

export const ModerationFeedback = Type.Object({
  ...Feedback.properties,
  event_title: Type.String(),
  user_username: Type.String(),
  user_email: Type.String(),
});

export const ModerationQuery = Type.Object({
  ...PaginationQuery,
  event: Type.Optional(Uuid('Only feedback on this event.')),
  user: Type.Optional(Uuid('Only feedback by this user.')),
  rating: Type.Optional(Type.Integer({ minimum: 1, maximum: 5, description: 'Only this rating.' })),
});

const Counts = Type.Object({
  users: Type.Integer(),
  events: Type.Integer(),
  registrations: Type.Integer(),
  tickets: Type.Integer(),
  feedbacks: Type.Integer(),
});

export const SystemStatus = Type.Object({
  version: Type.String(),
  database: Type.Union([Type.Literal('embedded'), Type.Literal('postgresql')]),
  counts: Counts,
  pending_jobs: Type.Object({
    count: Type.Integer(),
    next: Type.Array(
      Type.Object({
        id: Uuid(),
        kind: Type.String(),
        run_at: DateTime(),
        attempts: Type.Integer(),
        last_error: Type.Union([Type.String(), Type.Null()]),
      }),
      { description: 'The 20 soonest.' },
    ),
  }),
});

export const IntegrityResult = Type.Object({
  ok: Type.Boolean(),
  checked_at: DateTime(),
  problems: Type.Array(Type.Object({ check: Type.String(), detail: Type.String() })),
});

const Snapshot = Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]);

export const AuditEntry = Type.Object({
  id: Uuid(),
  actor: Uuid(),
  actor_email: Type.String({ description: 'As it was when they acted.' }),
  action: Type.String({ enum: [...auditActions] }),
  target_type: Type.String({ enum: [...auditTargetTypes] }),
  target_id: Uuid(),
  before: Snapshot,
  after: Snapshot,
  created_at: DateTime(),
});

export const AuditQuery = Type.Object({
  ...PaginationQuery,
  actor: Type.Optional(Uuid('Only actions of this staff user.')),
  action: Type.Optional(Type.Unsafe<(typeof auditActions)[number]>({ type: 'string', enum: [...auditActions] })),
  target_type: Type.Optional(Type.Unsafe<(typeof auditTargetTypes)[number]>({ type: 'string', enum: [...auditTargetTypes] })),
  target: Type.Optional(Uuid('Only actions on this user, category, event or feedback.')),
  date_from: Type.Optional(Type.String({ maxLength: 40, description: 'YYYY-MM-DD or ISO 8601 datetime; inclusive.' })),
  date_to: Type.Optional(Type.String({ maxLength: 40, description: 'YYYY-MM-DD (the whole day, UTC) or ISO 8601 datetime; inclusive.' })),
});
export type AuditQuery = Static<typeof AuditQuery>;
