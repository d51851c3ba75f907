// SignalR connections to the service's hub: the one place that builds them. A shared connection to the
// general hub `/ws/download` follows many jobs at once (`Subscribe`, `SubscribeFrom` after a reconnect);
// the per-job follower (follow.ts) connects to `/ws/download/{job_id}`.
import {
  HttpTransportType,
  HubConnectionBuilder,
  HubConnectionState,
  type HubConnection,
  type IHttpConnectionOptions,
  type ILogger,
  type IRetryPolicy,
} from '@microsoft/signalr';
import type { JobEvent } from './types.js';

/** The SignalR transports, in the order a client negotiates them. */
export type HubTransportName = 'WebSockets' | 'ServerSentEvents' | 'LongPolling';

export const HUB_TRANSPORT_NAMES: readonly HubTransportName[] = ['WebSockets', 'ServerSentEvents', 'LongPolling'];

/** Extra SignalR connection options: headers, a logger, or (in Node) the `WebSocket` constructor to use. */
export type HubOptions = Partial<IHttpConnectionOptions> & { WebSocket?: unknown };

/** `WebSockets`, `websockets`… → the transport's name; anything else → null. */
export function parseHubTransport(value: string | null | undefined): HubTransportName | null {
  if (!value) return null;
  return HUB_TRANSPORT_NAMES.find((t) => t.toLowerCase() === value.trim().toLowerCase()) ?? null;
}

export interface ConnectionSettings {
  url: string;
  /** Only this transport; default: all three, negotiated in order. */
  transport?: HubTransportName | null;
  /** Sent as `?access_token=` over WebSockets and SSE, as a bearer header otherwise. */
  accessTokenFactory?: () => string | undefined;
  hubOptions?: HubOptions;
  /** Automatic reconnects of the connection itself; default: none. */
  reconnect?: IRetryPolicy;
}

export interface BuiltConnection {
  connection: HubConnection;
  /** The transport the connection negotiated (the last one it tried). */
  selected(): HubTransportName | null;
}

export function buildConnection(settings: ConnectionSettings): BuiltConnection {
  let selected: HubTransportName | null = settings.transport ?? null;
  const logger: ILogger = {
    log(_level, message) {
      // The client logs each transport it tries at Debug: the last one tried is the one in use.
      const match = /Selecting transport '(\w+)'/.exec(message);
      if (match) selected = parseHubTransport(match[1]) ?? selected;
    },
  };
  const tokenFactory = settings.accessTokenFactory;
  let builder = new HubConnectionBuilder()
    .withUrl(settings.url, {
      transport: settings.transport
        ? HttpTransportType[settings.transport]
        : HttpTransportType.WebSockets | HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling,
      ...(tokenFactory ? { accessTokenFactory: () => tokenFactory() ?? '' } : {}),
      ...settings.hubOptions,
    })
    .configureLogging(settings.hubOptions?.logger ?? logger);
  if (settings.reconnect) builder = builder.withAutomaticReconnect(settings.reconnect);
  return { connection: builder.build(), selected: () => selected };
}

/**
 * The hub methods of the general connection: `Subscribe(job_id)` (answered with a snapshot), `SubscribeFrom(job_id,
 * last_seq)` (the events after last_seq, or a snapshot when the server no longer has them), their `…WithToken` forms
 * taking the job's access token last, and `Unsubscribe(job_id)`.
 */
export type HubMethod = 'Subscribe' | 'SubscribeFrom' | 'SubscribeWithToken' | 'SubscribeFromWithToken' | 'Unsubscribe';

/** The part of a shared hub connection the tracker uses (tests hand it a fake). */
export interface HubLike {
  start(): Promise<void>;
  stop(): Promise<void>;
  invoke(method: HubMethod, jobId: string, ...args: (string | number)[]): Promise<unknown>;
  onUpdate(handler: (event: JobEvent) => void): void;
  onReconnecting(handler: (error?: Error) => void): void;
  onReconnected(handler: () => void): void;
  onClose(handler: (error?: Error) => void): void;
  readonly connected: boolean;
  /** The transport in use while connected. */
  transport(): HubTransportName | null;
}

/**
 * Subscribes a job on a general connection: from a snapshot (`Subscribe`), or replaying after `seq` when the job has
 * been seen (`SubscribeFrom`); with the job's access token where one is given (the `…WithToken` forms).
 */
export function subscribeJob(hub: HubLike, jobId: string, seq: number, accessToken?: string): Promise<unknown> {
  if (accessToken) return seq > 0 ? hub.invoke('SubscribeFromWithToken', jobId, seq, accessToken) : hub.invoke('SubscribeWithToken', jobId, accessToken);
  return seq > 0 ? hub.invoke('SubscribeFrom', jobId, seq) : hub.invoke('Subscribe', jobId);
}

/** Backoff of the shared connection's own reconnects; after about a minute the tracker's restart loop takes over. */
export const reconnectPolicy: IRetryPolicy = {
  nextRetryDelayInMilliseconds(context) {
    if (context.elapsedMilliseconds > 60_000) return null;
    const steps = [0, 1000, 2000, 5000, 10_000, 20_000];
    const base = steps[Math.min(context.previousRetryCount, steps.length - 1)];
    return base + Math.round(Math.random() * Math.min(1000, base / 2));
  },
};

/** One connection to the general hub, for many jobs. */
export function connectSharedHub(settings: Omit<ConnectionSettings, 'reconnect'>): HubLike {
  const { connection, selected } = buildConnection({ ...settings, reconnect: reconnectPolicy });
  return {
    start: () => connection.start(),
    stop: () => connection.stop(),
    invoke: (method, jobId, ...args) => connection.invoke(method, jobId, ...args),
    onUpdate: (handler) => connection.on('update', (event: JobEvent) => handler(event)),
    onReconnecting: (handler) => connection.onreconnecting(handler),
    onReconnected: (handler) => connection.onreconnected(() => handler()),
    onClose: (handler) => connection.onclose(handler),
    get connected() {
      return connection.state === HubConnectionState.Connected;
    },
    transport: () => (connection.state === HubConnectionState.Connected ? selected() : null),
  };
}
