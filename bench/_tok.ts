import { TokenService } from '../src/modules/auth/tokens.js';
import { benchUuid } from './seed.js';
const t = new TokenService('perf-secret-perf-secret-perf-secret-0123456789', 4 * 3600, 3600);
console.log(t.issue('access', benchUuid('user', Number(process.argv[2] ?? 1)), new Date()).token);
