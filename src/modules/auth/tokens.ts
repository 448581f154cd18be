import { randomUUID } from 'node:crypto';
import { createSigner, createVerifier } from 'fast-jwt';
import { LRUCache } from 'lru-cache';

export type TokenType = 'access' | 'refresh';

export interface TokenClaims {
  sub: string;
  type: TokenType;
  jti: string;
  /** Refresh tokens only: the rotation family this token belongs to. */
  fam?: string;
  iat: number;
  exp: number;
}

/**
 * HS256 JWTs. Only HS256 is accepted, so `alg: none` and algorithm-confusion tokens fail verification.
 * Expiry is checked against the injected clock (not the verifier's), so tests can move time.
 */
export class TokenService {
  private readonly sign: (payload: Record<string, unknown>) => string;
  private readonly verify: (token: string) => TokenClaims;
  /**
   * Claims of well-signed tokens, keyed by the whole token text. fast-jwt's own cache keys by a SHA-256 of the
   * token, computed on every read: a tenth of a signed-in event page's CPU (issue 18). A map lookup hashes the
   * text once, in V8. Only good signatures are kept, so a flood of forged tokens cannot evict real ones.
   */
  private readonly verified = new LRUCache<string, TokenClaims>({ max: 10_000 });

  constructor(
    secret: string,
    readonly accessTtlSeconds: number,
    readonly refreshTtlSeconds: number,
  ) {
    this.sign = createSigner({ key: secret, algorithm: 'HS256', noTimestamp: true });
    // A token's signature is checked once and remembered (`verified`): expiry is checked in `read` on every read,
    // against the app's clock.
    this.verify = createVerifier({
      key: secret,
      algorithms: ['HS256'],
      ignoreExpiration: true,
      ignoreNotBefore: true,
    }) as (token: string) => TokenClaims;
  }

  issue(type: TokenType, userId: string, now: Date, familyId?: string): { token: string; claims: TokenClaims } {
    const iat = Math.floor(now.getTime() / 1000);
    const claims: TokenClaims = {
      sub: userId,
      type,
      jti: randomUUID(),
      iat,
      exp: iat + (type === 'access' ? this.accessTtlSeconds : this.refreshTtlSeconds),
      ...(familyId ? { fam: familyId } : {}),
    };
    return { token: this.sign({ ...claims }), claims };
  }

  /** The token's claims if it is well-signed, of the wanted type and unexpired at `now`; otherwise undefined. */
  read(token: string, type: TokenType, now: Date): TokenClaims | undefined {
    let claims = this.verified.get(token);
    if (!claims) {
      try {
        claims = this.verify(token);
      } catch {
        return undefined;
      }
      this.verified.set(token, claims);
    }
    if (claims.type !== type || typeof claims.sub !== 'string' || typeof claims.exp !== 'number') return undefined;
    if (claims.exp * 1000 <= now.getTime()) return undefined;
    return claims;
  }
}
