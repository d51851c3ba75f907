// React binding of the downloads client: one shared client per page.
import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { DownloadsClient, handoverFromUrl, STORAGE_KEY, transportFromUrl, type ConnectionMode } from './connection';
import { estimateEtaSeconds, isEnded, jobActions, type JobActions, type JobState } from './jobState';
import { createSignalRHub } from './signalrHub';

export interface DownloadView extends JobState, JobActions {
  ended: boolean;
  /** Seconds left, from the progress rate; null when unknown. */
  etaSeconds: number | null;
  /** Transport that delivers (or last delivered) this job's updates. */
  transportLabel: string;
}

export interface UseDownloads {
  jobs: DownloadView[];
  mode: ConnectionMode;
  transport: string;
  start(fileIds: number[], callbackUrl?: string): Promise<JobState>;
  cancel(jobId: string): Promise<void>;
  pause(jobId: string): Promise<void>;
  resume(jobId: string): Promise<void>;
  /** A new job of an ended job's failed files. */
  retry(jobId: string): Promise<void>;
  dismiss(jobId: string): void;
}

let shared: DownloadsClient | null = null;

function notifyJobEnded(job: JobState): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  const files = job.total === 1 ? 'file' : 'files';
  const body =
    job.status === 'cancelled'
      ? `Cancelled: ${job.completed} of ${job.total} ${files} ready.`
      : `${job.completed} of ${job.total} ${files} ready${job.failed ? `, ${job.failed} failed` : ''}.`;
  try {
    new Notification(`Download job ${job.status}`, { body, tag: job.jobId });
  } catch {
    // Some browsers only allow notifications from a service worker.
  }
}

/** The page's client, created on first use; `?transport=` and `?hub=off` are read here. */
export function getDownloadsClient(): DownloadsClient {
  if (shared) return shared;
  const { transport, hubOff } = transportFromUrl(window.location.search);
  const client: DownloadsClient = new DownloadsClient({
    createHub: hubOff ? null : () => createSignalRHub({ transport, accessTokenFactory: () => client.connectionAccessToken() }),
    onJobEnded: notifyJobEnded,
  });
  window.addEventListener('storage', (e) => {
    if (e.storageArea && e.storageArea !== window.localStorage) return;
    if (e.key === STORAGE_KEY || e.key === null) client.handleStorageChange(e.key === null ? null : e.newValue);
  });
  // A job handed over in the fragment is remembered (with its token) before the hub connects, which may need that
  // token; the fragment is then dropped, so a reload or a shared link does not carry the token on.
  const handover = handoverFromUrl(window.location.hash);
  if (handover) {
    client.adopt(handover.jobId, handover.accessToken);
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  client.start();
  shared = client;
  return client;
}

export function useDownloads(client: DownloadsClient = getDownloadsClient()): UseDownloads {
  const snapshot = useSyncExternalStore(client.subscribe, client.getSnapshot, client.getSnapshot);
  const [now, setNow] = useState(() => Date.now());
  // A tick keeps the ETA (every second) and "expires in" (every half minute) fresh between updates.
  const tickMs = snapshot.jobs.some((j) => j.status === 'processing')
    ? 1000
    : snapshot.jobs.some((j) => !!j.expiresAt)
      ? 30_000
      : 0;
  useEffect(() => {
    if (!tickMs) return;
    const timer = setInterval(() => setNow(Date.now()), tickMs);
    return () => clearInterval(timer);
  }, [tickMs]);

  const jobs = useMemo(
    () =>
      snapshot.jobs.map<DownloadView>((job) => ({
        ...job,
        ...jobActions(job),
        ended: isEnded(job),
        etaSeconds: estimateEtaSeconds(job, Math.max(now, Date.now())),
        transportLabel: job.transport ?? snapshot.transport,
      })),
    [snapshot, now],
  );

  const start = useCallback((ids: number[], cb?: string) => client.startJob(ids, cb), [client]);
  const cancel = useCallback((id: string) => client.cancel(id), [client]);
  const pause = useCallback((id: string) => client.pause(id), [client]);
  const resume = useCallback((id: string) => client.resume(id), [client]);
  const dismiss = useCallback((id: string) => client.dismiss(id), [client]);
  const retry = useCallback(async (id: string) => void (await client.retryFailed(id)), [client]);

  return { jobs, mode: snapshot.mode, transport: snapshot.transport, start, cancel, pause, resume, retry, dismiss };
}

/** One job of the shared list. */
export function useDownload(jobId: string, client?: DownloadsClient): DownloadView | undefined {
  const { jobs } = useDownloads(client);
  return jobs.find((j) => j.jobId === jobId);
}
