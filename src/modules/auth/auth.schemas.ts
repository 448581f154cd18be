import { Type, type Static } from 'typebox';
import { DateTime, Uuid } from '../../lib/schemas.js';

export const Username = Type.String({
  minLength: 1,
  maxLength: 150,
  pattern: '^[\\w.@+-]+$',
  description: 'Letters, digits and @/./+/-/_ only.',
});
export const Email = Type.String({ format: 'email', maxLength: 254 });

export const User = Type.Object({
  id: Uuid(),
  email: Type.String(),
  username: Type.String(),
  is_organizer: Type.Boolean(),
  is_staff: Type.Boolean(),
  is_active: Type.Boolean(),
  date_joined: DateTime(),
  is_email_verified: Type.Boolean({ description: 'The address was confirmed with the link mailed to it.' }),
});
export type User = Static<typeof User>;

export const SignUpBody = Type.Object({
  email: Email,
  username: Username,
  password: Type.String({ minLength: 1, maxLength: 4096 }),
  password2: Type.String({ minLength: 1, maxLength: 4096 }),
  is_organizer: Type.Optional(Type.Boolean({ default: false })),
});

export const SignUpResponse = Type.Object({
  id: Uuid(),
  email: Type.String(),
  username: Type.String(),
  is_organizer: Type.Boolean(),
});

export const LoginBody = Type.Object(
  {
    email: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
    password: Type.String({ minLength: 1, maxLength: 4096 }),
  },
  { description: 'Give `email` or `username`, and `password`.' },
);

export const TokenPair = Type.Object({ access: Type.String(), refresh: Type.String() });
export const RefreshBody = Type.Object({ refresh: Type.String({ minLength: 1, maxLength: 4096 }) });

const CurrentPassword = Type.String({ minLength: 1, maxLength: 4096, description: 'Required only to change `email`.' });
export const ProfileUpdateBody = Type.Object({
  email: Type.Optional(Email),
  username: Type.Optional(Username),
  is_organizer: Type.Optional(Type.Boolean()),
  current_password: Type.Optional(CurrentPassword),
});
/**
 * PUT replaces the editable fields. As in the reference, where `email` is read-only on the profile, a PUT without
 * it is whole; sent, it changes the address (with `current_password`).
 */
export const ProfileReplaceBody = Type.Object({
  email: Type.Optional(Email),
  username: Username,
  is_organizer: Type.Optional(Type.Boolean()),
  current_password: Type.Optional(CurrentPassword),
});

export const PasswordChangeBody = Type.Object({
  old_password: Type.String({ minLength: 1, maxLength: 4096 }),
  new_password: Type.String({ minLength: 1, maxLength: 4096 }),
  new_password2: Type.Optional(Type.String({ maxLength: 4096 })),
});

export const Detail = Type.Object({ detail: Type.String() });

export const PasswordResetBody = Type.Object({ email: Type.String({ minLength: 1, maxLength: 254 }) });

export const PasswordResetConfirmBody = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 200 }),
  new_password: Type.String({ minLength: 1, maxLength: 4096 }),
  new_password2: Type.Optional(Type.String({ maxLength: 4096 })),
});

export const EmailVerifyBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 300 }) });
