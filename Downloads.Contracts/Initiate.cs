namespace Downloads.Contracts;

/// <summary>Body of <c>POST /v1/download/initiate</c>.</summary>
public sealed record InitiateDownloadRequest(IReadOnlyList<long>? FileIds, string? CallbackUrl);

/// <summary>The <c>202 Accepted</c> answer to an initiate request; every URL is absolute.</summary>
public sealed record InitiateDownloadResponse(
    Guid JobId,
    JobStatus Status,
    int TotalFiles,
    string WebsocketUrl,
    string HubUrl,
    string StatusUrl,
    string ResultUrl,
    string EventsUrl);
