import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, type Config } from '../config.js';

/** Production must be given JWT_SECRET; development keeps a generated one in the data folder across restarts. */
export function resolveJwtSecret(config: Config): string {
  if (config.jwtSecret) {
    if (config.isProduction && config.jwtSecret.length < 32) {
      throw new ConfigError('JWT_SECRET must be at least 32 characters in production.');
    }
    return config.jwtSecret;
  }
  if (config.isProduction) throw new ConfigError('JWT_SECRET is required when NODE_ENV=production.');
  const file = path.join(config.dataDir, 'jwt-secret');
  fs.mkdirSync(config.dataDir, { recursive: true });
  if (!fs.existsSync(file)) fs.writeFileSync(file, randomBytes(48).toString('base64url'), { mode: 0o600 });
  return fs.readFileSync(file, 'utf8').trim();
}
