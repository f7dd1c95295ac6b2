// What a run did, as the virtual users report it: every attempt by route and outcome, the letters
// the server acknowledged (what --verify expects to find), retries and latency.

import { LETTERS, type Letter } from '../interfaces/contract.ts';
import { LatencyHistogram } from './latency.ts';

export type Route = '/initial' | '/followup';

export function perLetter(): Record<Letter, number> {
  return Object.fromEntries(LETTERS.map((letter) => [letter, 0])) as Record<Letter, number>;
}

export class RunStats {
  /** Attempts by route, then by HTTP status ("200", "503") or failure kind ("ECONNREFUSED"). */
  readonly outcomes = new Map<Route, Map<string, number>>();
  /** Initials and followups answered 200, by the letter of their uuid. */
  readonly initialsByLetter = perLetter();
  readonly followupsByLetter = perLetter();
  readonly latency = new LatencyHistogram();
  attempts = 0;
  initials = 0;
  followups = 0;
  /** 503s retried after their Retry-After. */
  retries = 0;
  /** Requests that ended without a 200: other statuses, no answer, or a 503 when the run stopped. */
  errors = 0;
  /** Requests that got no answer at all: the server may or may not have recorded them. */
  unanswered = 0;
  /** 200 answers to /initial whose body was neither True nor False. */
  unexpectedGuesses = 0;

  recordAnswer(route: Route, status: number, latencyMs: number): void {
    this.#count(route, String(status));
    this.latency.record(latencyMs);
  }

  recordNoAnswer(route: Route, kind: string): void {
    this.#count(route, kind);
    this.unanswered++;
    this.errors++;
  }

  recordAcknowledged(route: Route, letter: Letter): void {
    if (route === '/initial') {
      this.initials++;
      this.initialsByLetter[letter]++;
    } else {
      this.followups++;
      this.followupsByLetter[letter]++;
    }
  }

  #count(route: Route, outcome: string): void {
    this.attempts++;
    const byOutcome = this.outcomes.get(route) ?? new Map<string, number>();
    byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1);
    this.outcomes.set(route, byOutcome);
  }
}
