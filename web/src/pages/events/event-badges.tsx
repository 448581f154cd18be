import type { Event } from '../../api/client';
import { Badge } from '../../components/ui';

/** "sold out" / "waitlist" / "selling out soon", in words, the same on the list and on the event page. */
export function EventBadges({ event }: { event: Event }) {
  return (
    <span className="badges">
      {event.is_sold_out && <Badge tone="bad">Sold out</Badge>}
      {event.is_sold_out && <Badge tone="info">Waitlist open</Badge>}
      {event.is_selling_out_soon && <Badge tone="warn">Selling out soon</Badge>}
      {!event.is_active && <Badge tone="bad">Cancelled</Badge>}
    </span>
  );
}

export const seatsLeft = (event: Event) =>
  event.tickets_remaining === 0 ? 'No seats left' : `${event.tickets_remaining} of ${event.capacity} seats left`;
