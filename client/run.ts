// The virtual users: each takes the next symbol, asks the server, judges its answer like the
// original client and sometimes follows up, until the run is stopped or the initials are all sent.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Letter } from '../interfaces/contract.ts';
import { formatMicros, systemClock } from '../interfaces/time.ts';
import { NoAnswerError, retryAfterSeconds, type Answer, type HttpClient } from './http.ts';
import { isVowel, parseGuess, shouldFollowUp } from './judge.ts';
import type { Ledger } from './ledger.ts';
import type { LetterSource } from './letters.ts';
import { requestRandom, uuid4 } from './random.ts';
import type { Route, RunStats } from './stats.ts';

export interface RunOptions {
  http: HttpClient;
  concurrency: number;
  /** How many initials to send; unlimited when undefined. */
  requests: number | undefined;
  seed: string;
  letters: LetterSource;
  stats: RunStats;
  ledger: Ledger | undefined;
  /** Once aborted, no request is started (nor retried); those in flight are awaited. */
  stop: AbortSignal;
}

// A server that refuses or drops connections fails instantly; without a pause a virtual user would
// spin through thousands of failures a second.
const PAUSE_AFTER_NO_ANSWER_MS = 100;

export async function runVirtualUsers(options: RunOptions): Promise<void> {
  const { http, requests, seed, letters, stats, ledger, stop } = options;
  let nextIndex = 0;

  async function virtualUser(): Promise<void> {
    while (!stop.aborted && (requests === undefined || nextIndex < requests)) {
      await playSymbol(nextIndex++);
    }
  }

  async function playSymbol(index: number): Promise<void> {
    // Always the same draws in the same order, so the seed alone decides them.
    const random = requestRandom(seed, index);
    const symbol = letters(index, () => random.float());
    const truth = isVowel(symbol, random.float());
    const uuid = uuid4(random);
    const followupDraw = random.float();

    const initial = await send('/initial', `/initial?uuid=${uuid}&symbol=${symbol}`, uuid, symbol);
    if (initial === undefined) return;
    const guess = parseGuess(initial.body);
    if (guess === undefined) {
      stats.unexpectedGuesses++;
      return;
    }
    if (!shouldFollowUp(truth, guess, followupDraw) || stop.aborted) return;
    await send('/followup', `/followup?uuid=${uuid}`, uuid, symbol);
  }

  /** One request, retried after each 503 for as long as the run goes on; undefined when no 200. */
  async function send(route: Route, path: string, uuid: string, symbol: Letter): Promise<Answer | undefined> {
    for (;;) {
      const sentAt = systemClock();
      const started = performance.now();
      let answer: Answer;
      try {
        answer = await http.request('POST', path);
      } catch (error) {
        if (!(error instanceof NoAnswerError)) throw error;
        const kind = error.kind;
        stats.recordNoAnswer(route, kind);
        await ledger?.write({
          time: formatMicros(sentAt), route, uuid, symbol, status: null, answer: null, latency_ms: null, error: kind,
        });
        await pause(PAUSE_AFTER_NO_ANSWER_MS, stop);
        return undefined;
      }
      const latencyMs = performance.now() - started;
      stats.recordAnswer(route, answer.status, latencyMs);
      await ledger?.write({
        time: formatMicros(sentAt), route, uuid, symbol, status: answer.status, answer: answer.body,
        latency_ms: Math.round(latencyMs * 1000) / 1000,
      });

      if (answer.status === 200) {
        stats.recordAcknowledged(route, symbol);
        return answer;
      }
      if (answer.status !== 503) {
        stats.errors++;
        return undefined;
      }
      // 503: nothing was acknowledged, so the same request (same uuid) is safe to send again.
      await pause(retryAfterSeconds(answer.retryAfter) * 1000, stop);
      if (stop.aborted) {
        stats.errors++;
        return undefined;
      }
      stats.retries++;
    }
  }

  await Promise.all(Array.from({ length: options.concurrency }, virtualUser));
}

/** Waits `ms`, or less when `stop` is aborted first. */
async function pause(ms: number, stop: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal: stop });
  } catch {
    // Aborted: the run is stopping, which the caller checks.
  }
}
