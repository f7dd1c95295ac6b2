// A bound on how long a request waits on a backend: past it, a 503 (and whatever must be undone).

import { BackendUnavailableError } from '../contract.ts';

/** `work`'s result if it comes before `deadline` (epoch ms); else `onExpired` runs and a 503 is thrown. */
export async function beforeDeadline<T>(work: Promise<T>, deadline: number, message: string, onExpired?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onExpired?.();
      reject(new BackendUnavailableError(message));
    }, Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
