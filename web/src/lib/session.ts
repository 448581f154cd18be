import { useSyncExternalStore } from 'react';
import { session } from '../api/client';

/** The signed-in user (or null) and whether the session is still being restored after a reload. */
export function useSession() {
  return useSyncExternalStore(session.subscribe, session.get);
}
