namespace Downloads.Contracts;

/// <summary>Body of <c>POST /v1/download/check</c>.</summary>
public sealed record FileCheckRequest(long? FileId);

public sealed record FileCheckResponse(long FileId, bool Available, long? Size);
