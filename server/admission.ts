// Bounds the work waiting on the backend: past the limit a request is refused at once with a 503
// (BackendUnavailableError) instead of joining an ever longer queue. Writes and reads have limits
// of their own, so writes stuck on a stalled store cannot starve the dashboards (nor the reverse).

import { BackendUnavailableError, type DataInterface } from '../interfaces/contract.ts';

export interface AdmissionLimits {
  /** Writes (POST /initial, /followup) waiting on the backend at once. */
  writes: number;
  /** Dashboard reads waiting on the backend at once. */
  reads: number;
}

export function withAdmissionLimit(data: DataInterface, limits: AdmissionLimits): DataInterface {
  const admitWrite = limiter('writes', limits.writes);
  const admitRead = limiter('reads', limits.reads);
  return {
    name: data.name,
    recordInitial: admitWrite(data.recordInitial.bind(data)),
    recordFollowup: admitWrite(data.recordFollowup.bind(data)),
    symbolAggregate: admitRead(data.symbolAggregate.bind(data)),
    symbolAggregates: admitRead(data.symbolAggregates.bind(data)),
    rangeAggregates: admitRead(data.rangeAggregates.bind(data)),
    series: admitRead(data.series.bind(data)),
    exportEvents: data.exportEvents.bind(data),
    loadEvents: admitWrite(data.loadEvents.bind(data)),
    ping: data.ping.bind(data),
    close: data.close.bind(data),
  };
}

function limiter(what: string, max: number) {
  let inFlight = 0;
  return <A extends unknown[], R>(operation: (...args: A) => Promise<R>): ((...args: A) => Promise<R>) =>
    async (...args) => {
      if (inFlight >= max) throw new BackendUnavailableError(`backend overloaded: ${inFlight} ${what} already waiting on it`);
      inFlight++;
      try {
        return await operation(...args);
      } finally {
        inFlight--;
      }
    };
}
