// One hub connection (per client and transport choice) shared by every job the client follows: each job subscribes on
// it with `Subscribe`, or `SubscribeFrom(job_id, seq)` once it has seen events, so that after the connection's own
// reconnect the hub replays what each job missed. The connection stops when the last job leaves.
import { subscribeJob, type HubLike, type HubTransportName } from './hub.js';
import type { JobEvent } from './types.js';

export interface HubSubscriber {
  jobId: string;
  /** The last seq the subscriber applied (0: none yet, a snapshot first). */
  seq(): number;
  /** The job's access token, where the service asks one (`SubscribeWithToken`). */
  accessToken?: string;
  onEvent(event: JobEvent, transport: HubTransportName): void;
  /** The connection closed for good (its reconnects gave up). */
  onClosed(): void;
}

export class HubShare {
  private hub: HubLike | null = null;
  private starting: Promise<void> | null = null;
  private readonly subscribers = new Set<HubSubscriber>();

  constructor(private readonly connect: (accessTokenFactory: () => string | undefined) => HubLike) {}

  /** Subscribes the job on the shared connection, starting it when needed; rejects when it cannot connect or the hub refuses the job. */
  async attach(subscriber: HubSubscriber): Promise<void> {
    this.subscribers.add(subscriber);
    try {
      await subscribeTo(await this.connected(), subscriber);
    } catch (error) {
      this.detach(subscriber);
      throw error;
    }
  }

  detach(subscriber: HubSubscriber): void {
    if (!this.subscribers.delete(subscriber)) return;
    const hub = this.hub;
    if (!hub) return;
    if (!this.subscribers.size) {
      this.forget(hub);
      void hub.stop().catch(() => undefined);
    } else if (hub.connected && ![...this.subscribers].some((s) => s.jobId === subscriber.jobId)) {
      hub.invoke('Unsubscribe', subscriber.jobId).catch(() => undefined);
    }
  }

  private async connected(): Promise<HubLike> {
    if (!this.hub) {
      const hub = this.connect(() => [...this.subscribers].find((s) => s.accessToken)?.accessToken);
      this.hub = hub;
      hub.onUpdate((event) => {
        const transport = hub.transport() ?? 'WebSockets';
        for (const s of [...this.subscribers]) if (s.jobId === event?.job_id?.toLowerCase()) s.onEvent(event, transport);
      });
      // Subscriptions do not survive a new connection: each job again, from the seq it has.
      hub.onReconnected(() => {
        for (const s of [...this.subscribers]) subscribeTo(hub, s).catch(() => undefined);
      });
      hub.onClose(() => {
        this.forget(hub);
        for (const s of [...this.subscribers]) s.onClosed();
      });
      this.starting = hub.start().catch((error: unknown) => {
        this.forget(hub);
        throw error;
      });
    }
    const hub = this.hub;
    await this.starting;
    return hub;
  }

  private forget(hub: HubLike): void {
    if (this.hub !== hub) return;
    this.hub = null;
    this.starting = null;
  }
}

function subscribeTo(hub: HubLike, s: HubSubscriber): Promise<unknown> {
  return subscribeJob(hub, s.jobId, s.seq(), s.accessToken);
}
