// React bindings: useDownload for one job, useDownloads for many (recovered from localStorage after a reload).
import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import { DownloadsClient, type InitiateOptions } from './client.js';
import type { TransportChoice } from './follow.js';
import type { JobState, TransportName } from './jobState.js';
import { DownloadTracker, perFrame, type ConnectionMode, type TrackerOptions } from './tracker.js';
import type { TrackedJob } from './trackedJob.js';
import type { FileResult, InitiateResponse, JobStatusValue } from './types.js';

const ClientContext = createContext<DownloadsClient | null>(null);

/** Makes `client` the one the hooks below use. */
export function DownloadsProvider(props: { client: DownloadsClient; children?: ReactNode }) {
  return createElement(ClientContext.Provider, { value: props.client }, props.children);
}

let sameOrigin: DownloadsClient | null = null;

/** The provided client, else one for the page's own origin. */
export function useDownloadsClient(): DownloadsClient {
  const provided = useContext(ClientContext);
  return provided ?? (sameOrigin ??= new DownloadsClient({ baseUrl: '' }));
}

export interface DownloadProgress {
  completed: number;
  failed: number;
  total: number;
  /** 0..100, never decreases. */
  percent: number;
  currentFile: number | null;
}

export interface UseDownload {
  jobId: string | null;
  /** `idle` until `start()` answers. */
  status: JobStatusValue | 'idle';
  progress: DownloadProgress;
  /** One per file, in `fileIds` order, with `download_url` once the file is ready. */
  results: FileResult[];
  transport: TransportName | null;
  /** The last failed start or action, or why following stopped. */
  error: Error | null;
  start(options?: InitiateOptions): Promise<InitiateResponse>;
  cancel(): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
}

export interface UseDownloadOptions {
  client?: DownloadsClient;
  transport?: TransportChoice;
}

/** One job for `fileIds`: `start()` initiates it, then its state follows live until it ends. */
export function useDownload(fileIds: readonly number[], options: UseDownloadOptions = {}): UseDownload {
  const contextClient = useDownloadsClient();
  const client = options.client ?? contextClient;
  const [jobId, setJobId] = useState<string | null>(null);
  const [job, setJob] = useState<JobState | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const ids = useRef(fileIds);
  ids.current = fileIds;
  const transport = options.transport;

  useEffect(() => {
    if (!jobId) return undefined;
    // Several events within one frame render once.
    let latest: JobState | null = null;
    let scheduled = false;
    let active = true;
    const unsubscribe = client.subscribe(
      jobId,
      (state) => {
        latest = state;
        if (scheduled) return;
        scheduled = true;
        perFrame(() => {
          scheduled = false;
          if (active && latest) setJob(latest);
        });
      },
      { transport, onError: setError },
    );
    return () => {
      active = false;
      unsubscribe();
    };
  }, [client, jobId, transport]);

  const start = useCallback(
    async (initiateOptions?: InitiateOptions) => {
      setError(null);
      try {
        const answer = await client.initiate(ids.current, initiateOptions);
        setJob(null);
        setJobId(answer.job_id.toLowerCase());
        return answer;
      } catch (e) {
        setError(asError(e));
        throw e;
      }
    },
    [client],
  );

  const act = useCallback(
    async (call: (id: string) => Promise<unknown>) => {
      if (!jobId) return;
      setError(null);
      try {
        await call(jobId);
      } catch (e) {
        setError(asError(e));
      }
    },
    [jobId],
  );

  return useMemo(
    () => ({
      jobId,
      status: job?.status ?? (jobId ? 'queued' : 'idle'),
      progress: {
        completed: job?.completed ?? 0,
        failed: job?.failed ?? 0,
        total: job?.total ?? fileIds.length,
        percent: job?.percent ?? 0,
        currentFile: job?.currentFile ?? null,
      },
      results: job?.results ?? [],
      transport: job?.transport ?? null,
      error: error ?? job?.error ?? null,
      start,
      cancel: () => act((id) => client.cancel(id)),
      pause: () => act((id) => client.pause(id)),
      resume: () => act((id) => client.resume(id)),
    }),
    [jobId, job, error, fileIds.length, start, act, client],
  );
}

export interface UseDownloads {
  /** Newest first; each with its live state. */
  jobs: readonly TrackedJob[];
  /** How updates reach the page (see ConnectionMode). */
  mode: ConnectionMode;
  /** A hub transport, `Polling`, or null while connecting. */
  transport: TransportName | null;
  start(fileIds: readonly number[], options?: InitiateOptions): Promise<InitiateResponse>;
  cancel(jobId: string): Promise<void>;
  pause(jobId: string): Promise<void>;
  resume(jobId: string): Promise<void>;
  /** A new job of the failed files; null when refused (the ended job's actionError says why). */
  retry(jobId: string, fileIds?: readonly number[]): Promise<InitiateResponse | null>;
  dismiss(jobId: string): void;
  /** Follows a job a back end started and handed over (id and access token); kept like the others. */
  adopt(jobId: string, accessToken?: string): void;
}

export type UseDownloadsOptions = TrackerOptions & { client?: DownloadsClient };

/**
 * Many jobs on one hub connection, kept in localStorage: after a reload the page follows them again. The options
 * are read once (the first render's), as a page has one list of jobs.
 */
export function useDownloads(options: UseDownloadsOptions = {}): UseDownloads {
  const contextClient = useDownloadsClient();
  const client = options.client ?? contextClient;
  const first = useRef(options);
  const tracker = useMemo(() => new DownloadTracker(client, first.current), [client]);
  const { jobs, mode, transport } = useSyncExternalStore(tracker.subscribe, tracker.getSnapshot, tracker.getSnapshot);
  // The actions keep their identity from one update to the next: components given only them need not re-render.
  const actions = useMemo<Omit<UseDownloads, 'jobs' | 'mode' | 'transport'>>(
    () => ({
      start: (fileIds, initiateOptions) => tracker.start(fileIds, initiateOptions),
      cancel: (jobId) => tracker.cancel(jobId),
      pause: (jobId) => tracker.pause(jobId),
      resume: (jobId) => tracker.resume(jobId),
      retry: (jobId, fileIds) => tracker.retry(jobId, fileIds),
      dismiss: (jobId) => tracker.dismiss(jobId),
      adopt: (jobId, accessToken) => tracker.adopt(jobId, accessToken),
    }),
    [tracker],
  );
  return useMemo(() => ({ jobs, mode, transport, ...actions }), [jobs, mode, transport, actions]);
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

export type { ConnectionMode, HubChoice, TrackerOptions, TrackerSnapshot } from './tracker.js';
export { DownloadTracker } from './tracker.js';
export { estimateEtaSeconds, isEnded, isFollowed, jobActions } from './trackedJob.js';
export type { JobActions, JobAction, TrackedJob } from './trackedJob.js';
