import common from '@zxcvbn-ts/language-common';

/**
 * Passwords of public breach lists, ranked by how often they were used: the 49,000-entry `passwords-common`
 * dictionary of zxcvbn-ts (MIT, maintained). The reference framework ships a list of 20,000 of the same kind
 * (not published as a package); this one is longer and is updated with its package, not by hand.
 * Compared in lower case, as the reference validator does.
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  common.dictionary['passwords-common'].map((password) => password.toLowerCase()),
);
