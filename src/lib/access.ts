/**
 * Who may do what: the one access policy every service asks. Each rule takes the caller (null when anonymous) and
 * the thing it is about; the services decide what a refusal looks like (a 404 where existence must not leak, a 403
 * where it may).
 */

export interface Actor {
  id: string;
  isOrganizer: boolean;
  isStaff: boolean;
}

type Caller = Actor | null;

export const isStaff = (actor: Caller): boolean => actor !== null && actor.isStaff;

/** The event's organizer and staff manage it: edit, cancel, see its registrations, check its tickets in. */
export const canManageEvent = (actor: Caller, event: { organizerId: string }): boolean =>
  actor !== null && (actor.isStaff || actor.id === event.organizerId);

/** An active event is public; an inactive one is history only its managers still see. */
export const canReadEvent = (actor: Caller, event: { organizerId: string; isActive: boolean }): boolean =>
  event.isActive || canManageEvent(actor, event);

/** Organizers create events. */
export const canCreateEvent = (actor: Actor): boolean => actor.isOrganizer;

/** Organizers and staff scan tickets at the door (their own events' tickets: see canManageEvent). */
export const canCheckIn = (actor: Actor): boolean => actor.isOrganizer || actor.isStaff;

/** A registration is seen, and cancelled, by its holder and by the event's managers. */
export const canReadRegistration = (actor: Actor, registration: { userId: string; eventOrganizerId: string }): boolean =>
  registration.userId === actor.id || canManageEvent(actor, { organizerId: registration.eventOrganizerId });

/** A ticket is seen by its holder and by the event's managers. */
export const canReadTicket = (actor: Actor, ticket: { holderId: string; event: { organizerId: string } }): boolean =>
  ticket.holderId === actor.id || canManageEvent(actor, ticket.event);

/** Only its author edits a feedback. */
export const canEditFeedback = (actor: Pick<Actor, 'id'>, feedback: { userId: string }): boolean => feedback.userId === actor.id;

/** Its author deletes a feedback, and staff may (moderation). */
export const canDeleteFeedback = (actor: Pick<Actor, 'id' | 'isStaff'>, feedback: { userId: string }): boolean =>
  feedback.userId === actor.id || actor.isStaff;
