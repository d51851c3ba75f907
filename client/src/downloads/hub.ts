// The part of a SignalR HubConnection that the downloads client uses, so that
// tests can hand it a fake and the rest of the code never imports SignalR.
import type { JobEvent } from './types';

export type TransportName = 'WebSockets' | 'ServerSentEvents' | 'LongPolling';

export const TRANSPORT_NAMES: readonly TransportName[] = ['WebSockets', 'ServerSentEvents', 'LongPolling'];

export interface HubLike {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** `SubscribeWithToken` takes the job's access token as a third argument. */
  invoke(method: 'Subscribe' | 'SubscribeWithToken' | 'Unsubscribe', jobId: string, accessToken?: string): Promise<unknown>;
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
