/** EventBridge over AWS JSON 1.1 (`X-Amz-Target: AWSEvents.PutEvents`): events go to the local router. */
import type { ServiceRoutes } from '../service-endpoint.ts';

/** One `PutEvents` entry, as the SDK sends it. */
export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Resources?: string[];
  EventBusName?: string;
  /** Epoch seconds. */
  Time?: number;
}

export type PutEventsResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

export function eventBridgeRoutes(
  putEvents: (entries: PutEventsEntry[]) => PutEventsResult[],
): ServiceRoutes['json'] {
  return {
    'AWSEvents.PutEvents': {
      namespace: 'eventbridge',
      operation: (input) => {
        const entries = (Array.isArray(input['Entries']) ? input['Entries'] : []) as PutEventsEntry[];
        const results = putEvents(entries);
        return {
          FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length,
          Entries: results,
        };
      },
    },
  };
}
