// The one real SignalR connection: the general hub, WebSockets → SSE → long
// polling as negotiated (or one forced transport), automatic reconnect with backoff.
import {
  HttpTransportType,
  HubConnectionBuilder,
  HubConnectionState,
  LogLevel,
  type HubConnection,
  type ILogger,
  type IRetryPolicy,
} from '@microsoft/signalr';
import type { HubLike, TransportName } from './hub';
import { parseTransportName } from './hub';
import type { JobEvent } from './types';

export const HUB_PATH = '/ws/download';

export interface SignalRHubOptions {
  url?: string;
  /** Only this transport (the `?transport=` test hook); default: negotiate all three. */
  transport?: TransportName | null;
  /** A job access token for the connection itself (the service requires one where it requires API keys). */
  accessTokenFactory?: () => string | undefined;
}

/** Backoff for automatic reconnects; after about a minute the client's own restart loop takes over. */
export const reconnectPolicy: IRetryPolicy = {
  nextRetryDelayInMilliseconds(context) {
    if (context.elapsedMilliseconds > 60_000) return null;
    const steps = [0, 1000, 2000, 5000, 10_000, 20_000];
    const base = steps[Math.min(context.previousRetryCount, steps.length - 1)];
    return base + Math.round(Math.random() * Math.min(1000, base / 2));
  },
};

/** Names the transport object without relying on class names, which minifiers change. */
function detectTransport(connection: HubConnection): TransportName | null {
  const transport = (connection as unknown as { connection?: { transport?: object } }).connection?.transport;
  if (!transport) return null;
  const byName = parseTransportName(transport.constructor?.name?.replace(/Transport$/, ''));
  if (byName) return byName;
  if ('_webSocketConstructor' in transport) return 'WebSockets';
  if ('_pollAbort' in transport) return 'LongPolling';
  if ('_options' in transport) return 'ServerSentEvents';
  return null;
}

export function createSignalRHub(options: SignalRHubOptions = {}): HubLike {
  let selected: TransportName | null = null;
  const logger: ILogger = {
    log(level, message) {
      // "Selecting transport 'X'." is logged for each transport tried; the last one wins.
      const m = /Selecting transport '(\w+)'/.exec(message);
      if (m) selected = parseTransportName(m[1]);
      if (level >= LogLevel.Warning && level !== LogLevel.None) console.warn(`[signalr] ${message}`);
    },
  };
  const transport = options.transport ? HttpTransportType[options.transport] : undefined;
  const tokenFactory = options.accessTokenFactory;
  const connection = new HubConnectionBuilder()
    .withUrl(options.url ?? HUB_PATH, {
      ...(transport === undefined ? {} : { transport }),
      // Sent as ?access_token= over WebSockets and SSE, as a bearer header otherwise.
      ...(tokenFactory ? { accessTokenFactory: () => tokenFactory() ?? '' } : {}),
    })
    .withAutomaticReconnect(reconnectPolicy)
    .configureLogging(logger)
    .build();

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
    transport() {
      if (connection.state !== HubConnectionState.Connected) return null;
      return detectTransport(connection) ?? selected;
    },
  };
}
