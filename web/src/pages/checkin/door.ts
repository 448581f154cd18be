import { api } from '../../api/client';
import { formatDateTime } from '../../lib/format';
import type { Outcome } from './scan-queue';

/** What became of sending a scan: an answer to show, or no answer yet (offline, server busy): keep it queued. */
export type SendResult = { answered: true; outcome: Outcome; admitted: boolean } | { answered: false; sessionOver?: boolean };

const time = (iso: string | null | undefined) => (iso ? formatDateTime(iso) : 'earlier');

/**
 * Sends one scan to the API with its own id as the Idempotency-Key: a retry of a scan whose answer was lost gets
 * that answer again (the admission), never "already checked in" by itself.
 */
export async function sendScan(scan: { id: string; eventId: string; code: string }): Promise<SendResult> {
  let result;
  try {
    result = await api.POST('/tickets/check-in/', {
      body: { code: scan.code, event: scan.eventId },
      headers: { 'idempotency-key': scan.id },
    });
  } catch {
    return { answered: false };
  }
  const { data, error, response } = result;
  if (data) {
    return {
      answered: true,
      admitted: true,
      outcome: { kind: 'admitted', title: 'Admitted', detail: `${data.holder.username} · seat ${data.seat} of ${data.quantity}` },
    };
  }
  const body = (error ?? {}) as {
    code?: string;
    detail?: string;
    used_at?: string | null;
    used_by?: { username: string } | null;
    event?: { title: string };
  };
  const answer = (outcome: Outcome): SendResult => ({ answered: true, admitted: false, outcome });
  switch (response.status) {
    case 404:
      return answer({ kind: 'unknown', title: 'Unknown code', detail: `No ticket of this event has the code ${scan.code}.` });
    case 403:
      return answer({ kind: 'not_allowed', title: 'Not allowed', detail: body.detail ?? 'You cannot check tickets in.' });
    case 400:
    case 422:
      return answer({ kind: 'unknown', title: 'Unknown code', detail: `${scan.code} is not a ticket code.` });
    case 401:
      return { answered: false, sessionOver: true };
  }
  if (response.status === 409) {
    if (body.code === 'already_checked_in') {
      const by = body.used_by ? ` by ${body.used_by.username}` : '';
      return answer({ kind: 'already', title: 'Already checked in', detail: `Checked in ${time(body.used_at)}${by}.` });
    }
    if (body.code === 'registration_cancelled') {
      return answer({ kind: 'cancelled', title: 'Cancelled', detail: 'This ticket’s registration was cancelled: do not admit.' });
    }
    if (body.code === 'wrong_event') {
      return answer({
        kind: 'wrong_event',
        title: 'Another event',
        detail: `This ticket is for “${body.event?.title ?? 'another event'}”.`,
      });
    }
  }
  // The first attempt is still running (409 in progress) or the server failed: try again later.
  return { answered: false };
}
