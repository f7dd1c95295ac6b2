// A bound on how long a request waits on a backend: past it, a 503 (and whatever must be undone).
// Deadlines are instants of the monotonic clock (performance.now()): a step of the wall clock
// (NTP, an operator) neither expires them early nor holds them open.

import { BackendUnavailableError } from '../contract.ts';

/** The monotonic instant `ms` from now, a deadline for beforeDeadline. */
export const deadlineIn = (ms: number): number => performance.now() + ms;

/** `work`'s result if it comes before `deadline` (see deadlineIn); else `onExpired` runs and a 503 is thrown. */
export async function beforeDeadline<T>(work: Promise<T>, deadline: number, message: string, onExpired?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onExpired?.();
      reject(new BackendUnavailableError(message));
    }, Math.max(0, deadline - performance.now()));
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
