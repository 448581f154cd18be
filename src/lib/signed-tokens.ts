import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Short HMAC-signed tokens for links in mails (unsubscribe, email verification) and for deriving secret tokens
 * from a stored nonce (password reset): the database alone never holds enough to make a valid link.
 * The key is derived from the server secret per purpose, so a token of one purpose never passes as another, and
 * none of them can pass as a JWT.
 */
export class LinkSigner {
  constructor(private readonly secret: string) {}

  private mac(purpose: string, data: string): string {
    const key = createHmac('sha256', this.secret).update(`link-signer:${purpose}`).digest();
    return createHmac('sha256', key).update(data).digest('base64url');
  }

  /**
   * `parts` joined by dots, then the signature. Parts must not contain dots. `bound` is signed but not carried in
   * the token (e.g. the email address a verification link is for): verifying needs the same value.
   */
  sign(purpose: string, parts: string[], bound = ''): string {
    const data = parts.join('.');
    return `${data}.${this.mac(purpose, `${data}|${bound}`)}`;
  }

  /** The parts of a well-signed token of `purpose` with `count` parts, or undefined. */
  verify(purpose: string, token: string, count: number, bound = ''): string[] | undefined {
    const pieces = token.split('.');
    if (pieces.length !== count + 1) return undefined;
    const signature = Buffer.from(pieces.pop()!);
    const expected = Buffer.from(this.mac(purpose, `${pieces.join('.')}|${bound}`));
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return undefined;
    return pieces;
  }

  /** A secret derived from a nonce: who has the nonce but not the server secret cannot compute it. */
  derive(purpose: string, nonce: string): string {
    return this.mac(purpose, nonce);
  }
}

export const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
