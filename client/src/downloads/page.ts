// How this page uses @downloads/client: one client on the page's own origin, the jobs kept under
// `downloads.jobs`, the test hooks `?transport=` and `?hub=off`, and a notification when a job ends.
import { DownloadsClient, parseHubTransport, type HubChoice, type TrackedJob, type TransportName } from '@downloads/client';
import type { ConnectionMode, UseDownloadsOptions } from '@downloads/client/react';

export const STORAGE_KEY = 'downloads.jobs';
export const POLLING_LABEL = 'polling (fallback)';

/** `?hub=off`: never SignalR, poll only. `?transport=X`: only that SignalR transport. Else all, negotiated. */
export function hubFromUrl(search: string): HubChoice {
  const params = new URLSearchParams(search);
  if (params.get('hub') === 'off') return 'off';
  return parseHubTransport(params.get('transport')) ?? 'auto';
}

/**
 * A job handed to the page in its URL's fragment, `#job={job_id}&access_token={token}` (a back end that holds the API
 * key starts it): a fragment never reaches a server, its logs or a Referer. Null when the fragment holds no job id.
 */
export function handoverFromUrl(hash: string): { jobId: string; accessToken: string | undefined } | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const jobId = params.get('job');
  return jobId && JOB_ID.test(jobId) ? { jobId: jobId.toLowerCase(), accessToken: params.get('access_token') || undefined } : null;
}

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function notifyJobEnded(job: TrackedJob): void {
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

export function pageOptions(): UseDownloadsOptions {
  return {
    client: new DownloadsClient({ baseUrl: '' }),
    storageKey: STORAGE_KEY,
    hub: hubFromUrl(window.location.search),
    onJobEnded: notifyJobEnded,
  };
}

/** The transport's name as the page shows it. */
export function transportLabel(transport: TransportName | null): string {
  return transport === 'Polling' ? POLLING_LABEL : (transport ?? 'SignalR');
}

/** How updates reach the page, in the header. */
export function connectionLabel(mode: ConnectionMode, transport: TransportName | null): string {
  switch (mode) {
    case 'push':
      return transportLabel(transport);
    case 'polling':
    case 'off':
    case 'reconnecting':
      return POLLING_LABEL;
    case 'connecting':
      return 'connecting…';
    default:
      return '—';
  }
}
