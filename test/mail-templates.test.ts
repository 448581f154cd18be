import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeHtml, formatEventTime, oneLine, templates, toHtml, toText } from '../src/modules/mail/mail.templates.js';

const links = { event: (id: string) => `https://t.example/events/${id}/`, feedback: (id: string) => `https://t.example/events/${id}/` };
const event = (title: string, location = 'Lagos') => ({
  id: 'e1',
  title,
  location,
  dateTime: new Date('2030-03-14T09:30:00Z'),
  endTime: null,
});

describe('mail templates', () => {
  it('header values never carry a line break or other control character', () => {
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is looked for
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (value) => !/[\u0000-\u001f\u007f]/.test(oneLine(value))));
  });

  it('user text in the HTML part is always escaped: no markup from a title, place or username gets through', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (title, location, username) => {
        const html = toHtml(templates.event_updated({ username, event: event(title, location), message: title, links }));
        const stripped = html.replace(/<\/?(!doctype html|html|head|meta charset="utf-8"|title|body[^>]*|p|a [^>]*|a|hr|div[^>]*)>/g, '');
        return !/[<>]/.test(stripped) && escapeHtml(title).length >= title.length;
      }),
    );
  });

  it('times are in UTC and say so (events carry no time zone)', () => {
    expect(formatEventTime(new Date('2030-03-14T09:30:00Z'))).toBe('Thursday, 14 March 2030 at 09:30 UTC');
    const text = toText(templates.feedback_request({ username: 'ada', event: event('Jazz'), links }));
    expect(text).toContain('Hello ada,');
    expect(text).toContain('Leave feedback: https://t.example/events/e1/');
  });
});
