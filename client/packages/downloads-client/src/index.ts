export { DownloadsClient } from './client.js';
export type { DownloadsClientOptions, InitiateOptions, JobOptions, JobResult, SubscribeOptions } from './client.js';
export type { FollowOptions, FollowTimings, HubOptions, TransportChoice } from './follow.js';
export { ApiError } from './http.js';
export type { FetchLike } from './http.js';
export { initialJobState, applyEvent } from './jobState.js';
export type { JobState, TransportName } from './jobState.js';
export * from './types.js';
