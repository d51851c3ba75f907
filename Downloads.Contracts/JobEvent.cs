using System.Text.Json.Serialization;

namespace Downloads.Contracts;

/// <summary>
/// One recorded change of a job, pushed over SignalR (client method <c>update</c>) and SSE, and the body of webhooks.
/// <c>snapshot</c> and the terminal types carry the whole <see cref="Results"/> list.
/// </summary>
public sealed record JobEvent(
    JobEventType Type,
    Guid JobId,
    long Seq,
    JobStatus Status,
    int Completed,
    int Failed,
    int Total,
    long? CurrentFile,
    double ProgressPercent,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] FileResult? File = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<FileResult>? Results = null);
