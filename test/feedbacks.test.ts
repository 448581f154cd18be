import { beforeAll, describe, expect, it } from 'vitest';
import {
  appWithOrganizer,
  authHeader,
  createEvent,
  createStaff,
  createUser,
  insertRegistrationRow,
  readEvent,
  type EventRow,
  type TestUser,
} from './helpers/factories.js';

const ctx = appWithOrganizer();

const HOUR = 3_600_000;
const hoursFromNow = (hours: number) => new Date(ctx.clock.now().getTime() + hours * HOUR);

const post = (payload: unknown, headers: Record<string, string> = {}) =>
  ctx.app.inject({ method: 'POST', url: '/feedbacks/', payload: payload as object, headers });

/** An event that started two hours ago, and an attendee holding a registered registration for it. */
async function pastEventWithAttendee(overrides: Partial<EventRow> = {}) {
  const event = await createEvent(ctx.app, ctx.organizer, { dateTime: hoursFromNow(-2), ...overrides });
  const attendee = await createUser(ctx.app);
  await insertRegistrationRow(ctx.app, attendee.id, event.id, 'registered', 2);
  return { event, attendee };
}

async function leaveFeedback(event: EventRow, user: TestUser, rating: number, comment = 'Fine') {
  // A fresh token: some tests move the clock past the factory token's lifetime.
  const res = await post({ event: event.id, rating, comment }, authHeader(ctx.app, user.id));
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string; rating: number }>();
}

async function ratingOf(eventId: string) {
  const row = await readEvent(ctx.app, eventId);
  return { sum: row.ratingSum, count: row.ratingCount };
}

describe('POST /feedbacks/', () => {
  it('creates feedback by the caller with exactly the contract fields and counts it on the event', async () => {
    const { event, attendee } = await pastEventWithAttendee();
    const other = await createUser(ctx.app);
    const res = await post({ event: event.id, rating: 4, comment: 'Great talks', user: other.id }, attendee.auth);
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['comment', 'created_at', 'event', 'id', 'rating', 'updated_at', 'user']);
    expect(body).toMatchObject({ user: attendee.id, event: event.id, rating: 4, comment: 'Great talks' });
    expect(body.created_at).toBe(ctx.clock.now().toISOString());
    expect(await ratingOf(event.id)).toEqual({ sum: 4, count: 1 });
  });

  it('needs authentication', async () => {
    const { event } = await pastEventWithAttendee();
    const res = await post({ event: event.id, rating: 5 });
    expect(res.statusCode).toBe(401);
  });

  it('validates rating (integer 1..5, required), comment length and the event', async () => {
    const { event, attendee } = await pastEventWithAttendee();
    for (const rating of [0, 6, 3.5, 'good', null]) {
      const res = await post({ event: event.id, rating }, attendee.auth);
      expect(res.statusCode, String(rating)).toBe(400);
      expect(Object.keys(res.json())).toEqual(['rating']);
    }
    const missing = await post({ event: event.id }, attendee.auth);
    expect(missing.json()).toEqual({ rating: ['This field is required.'] });
    const long = await post({ event: event.id, rating: 3, comment: 'x'.repeat(5_001) }, attendee.auth);
    expect(long.json()).toEqual({ comment: ['Ensure this field has no more than 5000 characters.'] });
    const badUuid = await post({ event: 'not-a-uuid', rating: 3 }, attendee.auth);
    expect(badUuid.json()).toEqual({ event: ['Must be a valid UUID.'] });
    const unknown = '00000000-0000-4000-8000-000000000000';
    const unknownEvent = await post({ event: unknown, rating: 3 }, attendee.auth);
    expect(unknownEvent.statusCode).toBe(400);
    expect(unknownEvent.json()).toEqual({ event: [`Invalid pk "${unknown}" - object does not exist.`] });
    expect(await ratingOf(event.id)).toEqual({ sum: 0, count: 0 });
    // The longest comment allowed is accepted.
    await leaveFeedback(event, attendee, 3, 'x'.repeat(5_000));
  });

  it('refuses users without a registered registration with 403 not_registered (none, waitlisted, cancelled)', async () => {
    const { event } = await pastEventWithAttendee();
    const stranger = await createUser(ctx.app);
    const waitlisted = await createUser(ctx.app);
    const cancelled = await createUser(ctx.app);
    await insertRegistrationRow(ctx.app, waitlisted.id, event.id, 'waitlisted');
    await insertRegistrationRow(ctx.app, cancelled.id, event.id, 'cancelled');
    for (const user of [stranger, waitlisted, cancelled]) {
      const res = await post({ event: event.id, rating: 5 }, user.auth);
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'not_registered' });
    }
    expect(await ratingOf(event.id)).toEqual({ sum: 0, count: 0 });
  });

  it('opens once the event has started, or ended when it has an end_time', async () => {
    const upcoming = await createEvent(ctx.app, ctx.organizer, { dateTime: hoursFromNow(1) });
    const user = await createUser(ctx.app);
    await insertRegistrationRow(ctx.app, user.id, upcoming.id);
    const early = await post({ event: upcoming.id, rating: 5 }, user.auth);
    expect(early.statusCode).toBe(400);
    expect(early.json()).toEqual({ non_field_errors: ['You can leave feedback once the event has started.'] });

    const running = await createEvent(ctx.app, ctx.organizer, { dateTime: hoursFromNow(-1), endTime: hoursFromNow(1) });
    await insertRegistrationRow(ctx.app, user.id, running.id);
    const during = await post({ event: running.id, rating: 5 }, user.auth);
    expect(during.statusCode).toBe(400);
    expect(during.json()).toEqual({ non_field_errors: ['You can leave feedback once the event has ended.'] });

    ctx.clock.advance(HOUR);
    await leaveFeedback(upcoming, user, 5);
    await leaveFeedback(running, user, 2);
    ctx.clock.advance(-HOUR);
  });

  it('refuses a cancelled (inactive) event', async () => {
    const { event, attendee } = await pastEventWithAttendee({ isActive: false, cancelledAt: new Date('2029-01-01T00:00:00Z') });
    const res = await post({ event: event.id, rating: 5 }, attendee.auth);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ event: ['This event has been cancelled.'] });
  });

  it('accepts one feedback per user and event', async () => {
    const { event, attendee } = await pastEventWithAttendee();
    await leaveFeedback(event, attendee, 5);
    const again = await post({ event: event.id, rating: 1 }, attendee.auth);
    expect(again.statusCode).toBe(400);
    expect(again.json()).toEqual({ non_field_errors: ['You have already left feedback for this event.'] });
    expect(await ratingOf(event.id)).toEqual({ sum: 5, count: 1 });
  });

  it('under a race of identical requests, exactly one succeeds and the totals count it once', async () => {
    const { event, attendee } = await pastEventWithAttendee();
    const results = await Promise.all(Array.from({ length: 12 }, () => post({ event: event.id, rating: 4 }, attendee.auth)));
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes).toEqual([201, ...Array(11).fill(400)]);
    for (const res of results.filter((r) => r.statusCode === 400)) {
      expect(res.json()).toEqual({ non_field_errors: ['You have already left feedback for this event.'] });
    }
    expect(await ratingOf(event.id)).toEqual({ sum: 4, count: 1 });
  });

  it('keeps the totals exact when many attendees rate the same event at once', async () => {
    const event = await createEvent(ctx.app, ctx.organizer, { dateTime: hoursFromNow(-2) });
    const attendees = await Promise.all(Array.from({ length: 20 }, () => createUser(ctx.app)));
    for (const user of attendees) await insertRegistrationRow(ctx.app, user.id, event.id);
    const ratings = attendees.map((_, i) => (i % 5) + 1);
    const results = await Promise.all(attendees.map((user, i) => post({ event: event.id, rating: ratings[i] }, user.auth)));
    expect(results.every((r) => r.statusCode === 201)).toBe(true);
    expect(await ratingOf(event.id)).toEqual({ sum: ratings.reduce((a, b) => a + b, 0), count: 20 });
  });
});

describe('reading feedback', () => {
  let event: EventRow;
  let authors: TestUser[];
  beforeAll(async () => {
    event = await createEvent(ctx.app, ctx.organizer, { dateTime: hoursFromNow(-3) });
    authors = await Promise.all([createUser(ctx.app), createUser(ctx.app), createUser(ctx.app)]);
    for (const [i, user] of authors.entries()) {
      await insertRegistrationRow(ctx.app, user.id, event.id);
      ctx.clock.advance(1_000);
      await leaveFeedback(event, user, i + 3);
    }
  });

  it('lists publicly, newest first, filtered by event, user and rating', async () => {
    const res = await ctx.app.inject({ url: `/feedbacks/?event=${event.id}` });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.count).toBe(3);
    expect(body.results.map((f: { user: string }) => f.user)).toEqual([authors[2]!.id, authors[1]!.id, authors[0]!.id]);

    const byUser = await ctx.app.inject({ url: `/feedbacks/?user=${authors[1]!.id}` });
    expect(byUser.json().results.map((f: { rating: number }) => f.rating)).toEqual([4]);
    const byRating = await ctx.app.inject({ url: `/feedbacks/?event=${event.id}&rating=5` });
    expect(byRating.json().results.map((f: { user: string }) => f.user)).toEqual([authors[2]!.id]);

    const paged = await ctx.app.inject({ url: `/feedbacks/?event=${event.id}&page_size=2&page=2` });
    expect(paged.json()).toMatchObject({ count: 3, next: null });
    expect(paged.json().results).toHaveLength(1);
  });

  it('rejects malformed filters with a 400 naming them', async () => {
    expect((await ctx.app.inject({ url: '/feedbacks/?event=nope' })).json()).toEqual({ event: ['Must be a valid UUID.'] });
    expect((await ctx.app.inject({ url: '/feedbacks/?rating=6' })).statusCode).toBe(400);
    expect(Object.keys((await ctx.app.inject({ url: '/feedbacks/?rating=x' })).json())).toEqual(['rating']);
  });

  it('retrieves one publicly; unknown ids are 404', async () => {
    const list = (await ctx.app.inject({ url: `/feedbacks/?event=${event.id}` })).json();
    const one = await ctx.app.inject({ url: `/feedbacks/${list.results[0].id}/` });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(list.results[0]);
    expect((await ctx.app.inject({ url: '/feedbacks/00000000-0000-4000-8000-000000000000/' })).statusCode).toBe(404);
    expect((await ctx.app.inject({ url: '/feedbacks/not-a-uuid/' })).statusCode).toBe(404);
  });
});

describe('editing and deleting feedback', () => {
  it('lets the author PUT and PATCH, moving the event totals; event and user never change', async () => {
    const { event, attendee } = await pastEventWithAttendee();
    const feedback = await leaveFeedback(event, attendee, 2, 'Meh');
    ctx.clock.advance(60_000);
    const put = await ctx.app.inject({
      method: 'PUT',
      url: `/feedbacks/${feedback.id}/`,
      payload: { rating: 5, event: '00000000-0000-4000-8000-000000000000', user: ctx.organizer.id },
      headers: attendee.auth,
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({ rating: 5, comment: '', event: event.id, user: attendee.id });
    expect(put.json().updated_at).toBe(ctx.clock.now().toISOString());
    expect(await ratingOf(event.id)).toEqual({ sum: 5, count: 1 });

    const patch = await ctx.app.inject({
      method: 'PATCH',
      url: `/feedbacks/${feedback.id}/`,
      payload: { comment: 'Actually good' },
      headers: attendee.auth,
    });
    expect(patch.json()).toMatchObject({ rating: 5, comment: 'Actually good' });
    const patchRating = await ctx.app.inject({
      method: 'PATCH',
      url: `/feedbacks/${feedback.id}/`,
      payload: { rating: 3 },
      headers: attendee.auth,
    });
    expect(patchRating.json()).toMatchObject({ rating: 3, comment: 'Actually good' });
    expect(await ratingOf(event.id)).toEqual({ sum: 3, count: 1 });

    const missingRating = await ctx.app.inject({
      method: 'PUT',
      url: `/feedbacks/${feedback.id}/`,
      payload: { comment: 'x' },
      headers: attendee.auth,
    });
    expect(missingRating.json()).toEqual({ rating: ['This field is required.'] });
    const badRating = await ctx.app.inject({
      method: 'PATCH',
      url: `/feedbacks/${feedback.id}/`,
      payload: { rating: 9 },
      headers: attendee.auth,
    });
    expect(badRating.statusCode).toBe(400);
  });

  it('answers 403 to anyone but the author for edits (staff included), 401 anonymous, 404 unknown', async () => {
    const { event, attendee } = await pastEventWithAttendee();
    const feedback = await leaveFeedback(event, attendee, 4);
    const other = await createUser(ctx.app);
    const staff = await createStaff(ctx.app);
    for (const user of [other, staff, ctx.organizer]) {
      for (const method of ['PUT', 'PATCH'] as const) {
        const res = await ctx.app.inject({ method, url: `/feedbacks/${feedback.id}/`, payload: { rating: 1 }, headers: user.auth });
        expect(res.statusCode).toBe(403);
        expect(res.json()).toMatchObject({ code: 'permission_denied' });
      }
    }
    const anonymous = await ctx.app.inject({ method: 'PATCH', url: `/feedbacks/${feedback.id}/`, payload: { rating: 1 } });
    expect(anonymous.statusCode).toBe(401);
    const unknown = await ctx.app.inject({
      method: 'PATCH',
      url: '/feedbacks/00000000-0000-4000-8000-000000000000/',
      payload: { rating: 1 },
      headers: attendee.auth,
    });
    expect(unknown.statusCode).toBe(404);
    expect(await ratingOf(event.id)).toEqual({ sum: 4, count: 1 });
  });

  it('lets the author delete (others 403) and staff moderate; totals drop the rating', async () => {
    const { event, attendee } = await pastEventWithAttendee();
    const second = await createUser(ctx.app);
    await insertRegistrationRow(ctx.app, second.id, event.id);
    const mine = await leaveFeedback(event, attendee, 5);
    const theirs = await leaveFeedback(event, second, 1);
    expect(await ratingOf(event.id)).toEqual({ sum: 6, count: 2 });

    const denied = await ctx.app.inject({ method: 'DELETE', url: `/feedbacks/${mine.id}/`, headers: second.auth });
    expect(denied.statusCode).toBe(403);
    const own = await ctx.app.inject({ method: 'DELETE', url: `/feedbacks/${mine.id}/`, headers: attendee.auth });
    expect(own.statusCode).toBe(204);
    expect(await ratingOf(event.id)).toEqual({ sum: 1, count: 1 });
    const staff = await createStaff(ctx.app);
    const moderated = await ctx.app.inject({ method: 'DELETE', url: `/feedbacks/${theirs.id}/`, headers: staff.auth });
    expect(moderated.statusCode).toBe(204);
    expect(await ratingOf(event.id)).toEqual({ sum: 0, count: 0 });
    const gone = await ctx.app.inject({ method: 'DELETE', url: `/feedbacks/${theirs.id}/`, headers: staff.auth });
    expect(gone.statusCode).toBe(404);
    // Deleting frees the slot: the author may leave feedback again.
    await leaveFeedback(event, attendee, 2);
    expect(await ratingOf(event.id)).toEqual({ sum: 2, count: 1 });
  });

  it('keeps the totals equal to the stored ratings under concurrent edits and a delete', async () => {
    const { event, attendee } = await pastEventWithAttendee();
    const others = await Promise.all([createUser(ctx.app), createUser(ctx.app)]);
    for (const user of others) await insertRegistrationRow(ctx.app, user.id, event.id);
    const feedback = await leaveFeedback(event, attendee, 3);
    const kept = await Promise.all(others.map((user) => leaveFeedback(event, user, 4)));
    const edits = [1, 5, 2, 4, 3, 5, 1].map((rating) =>
      ctx.app.inject({ method: 'PATCH', url: `/feedbacks/${feedback.id}/`, payload: { rating }, headers: attendee.auth }),
    );
    const keptEdits = [2, 5, 3].map((rating) =>
      ctx.app.inject({ method: 'PATCH', url: `/feedbacks/${kept[0]!.id}/`, payload: { rating }, headers: others[0].auth }),
    );
    const removal = ctx.app.inject({ method: 'DELETE', url: `/feedbacks/${kept[1]!.id}/`, headers: others[1].auth });
    const results = await Promise.all([...edits, ...keptEdits, removal]);
    expect(results.every((r) => [200, 204].includes(r.statusCode))).toBe(true);
    const listed = (await ctx.app.inject({ url: `/feedbacks/?event=${event.id}` })).json();
    const ratings = listed.results.map((f: { rating: number }) => f.rating);
    expect(listed.count).toBe(2);
    expect(await ratingOf(event.id)).toEqual({ sum: ratings.reduce((a: number, b: number) => a + b, 0), count: 2 });
  });
});
