// Bounds the work waiting on the backend: past the limit a request is refused at once with a 503
// (BackendUnavailableError) instead of joining an ever longer queue.

import { BackendUnavailableError, type DataInterface } from '../interfaces/contract.ts';

export function withAdmissionLimit(data: DataInterface, maxInFlight: number): DataInterface {
  let inFlight = 0;
  function admit<A extends unknown[], R>(operation: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return async (...args) => {
      if (inFlight >= maxInFlight) {
        throw new BackendUnavailableError(`backend overloaded: ${inFlight} requests already waiting on it`);
      }
      inFlight++;
      try {
        return await operation(...args);
      } finally {
        inFlight--;
      }
    };
  }
  return {
    name: data.name,
    recordInitial: admit(data.recordInitial.bind(data)),
    recordFollowup: admit(data.recordFollowup.bind(data)),
    symbolAggregate: admit(data.symbolAggregate.bind(data)),
    rangeAggregates: admit(data.rangeAggregates.bind(data)),
    exportEvents: data.exportEvents.bind(data),
    ping: data.ping.bind(data),
    close: data.close.bind(data),
  };
}
