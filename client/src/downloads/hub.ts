// The part of a SignalR HubConnection that the downloads client uses, so that
// tests can hand it a fake and the rest of the code never imports SignalR.
import type { JobEvent } from './types';

export type TransportName = 'WebSockets' | 'ServerSentEvents' | 'LongPolling';

export const TRANSPORT_NAMES: readonly TransportName[] = ['WebSockets', 'ServerSentEvents', 'LongPolling'];

/**
 * The hub methods the client calls: `Subscribe(job_id)` (answered with a snapshot), `SubscribeFrom(job_id, last_seq)`
 * (answered with the events after last_seq, or a snapshot when the server no longer has them) and `Unsubscribe(job_id)`.
 */
export type HubMethod = 'Subscribe' | 'SubscribeFrom' | 'SubscribeWithToken' | 'SubscribeFromWithToken' | 'Unsubscribe';

export interface HubLike {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** After the job id: `SubscribeFrom` takes the last seq, `SubscribeWithToken` the job's access token, `SubscribeFromWithToken` both. */
  invoke(method: HubMethod, jobId: string, ...args: (string | number)[]): Promise<unknown>;
  onUpdate(handler: (event: JobEvent) => void): void;
  onReconnecting(handler: (error?: Error) => void): void;
  onReconnected(handler: () => void): void;
  onClose(handler: (error?: Error) => void): void;
  readonly connected: boolean;
  /** The transport in use while connected, when known. */
  transport(): TransportName | null;
}

export function parseTransportName(value: string | null | undefined): TransportName | null {
  if (!value) return null;
  const match = TRANSPORT_NAMES.find((t) => t.toLowerCase() === value.trim().toLowerCase());
  return match ?? null;
}
